package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// fakeStore records batches. With hold set, each AppendAudit announces
// itself on entered and waits for a value on release before finishing.
type fakeStore struct {
	mu        sync.Mutex
	committed []storage.AuditRecord
	batches   []int
	failing   error
	failNext  int

	hold     bool
	entered  chan []storage.AuditRecord
	release  chan struct{}
	commitCh chan int
	// attempted receives a value at the end of every AppendAudit call.
	attempted chan struct{}
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		entered: make(chan []storage.AuditRecord, 1000), release: make(chan struct{}),
		commitCh: make(chan int, 1000), attempted: make(chan struct{}, 100000),
	}
}

func (f *fakeStore) AppendAudit(ctx context.Context, recs []storage.AuditRecord) error {
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold {
		f.entered <- recs
		select {
		case <-f.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer func() {
		select {
		case f.attempted <- struct{}{}:
		default:
		}
	}()
	if f.failNext > 0 {
		f.failNext--
		return errors.New("injected failure")
	}
	if f.failing != nil {
		return f.failing
	}
	f.committed = append(f.committed, recs...)
	f.batches = append(f.batches, len(recs))
	f.commitCh <- len(recs)
	return nil
}

func (f *fakeStore) setHold(v bool) {
	f.mu.Lock()
	f.hold = v
	f.mu.Unlock()
}

func (f *fakeStore) setFailing(err error) {
	f.mu.Lock()
	f.failing = err
	f.mu.Unlock()
}

func (f *fakeStore) decisionIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, len(f.committed))
	for i, r := range f.committed {
		ids[i] = r.DecisionID
	}
	return ids
}

func (f *fakeStore) batchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches...)
}

// waitCommitted waits until n records in total have committed. The timeout
// only turns a hang into a failure; correctness never depends on it.
func (f *fakeStore) waitCommitted(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		got := len(f.committed)
		f.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-f.commitCh:
		case <-deadline:
			t.Fatalf("%d of %d records committed before the deadline", got, n)
		}
	}
}

func waitEntered(t testing.TB, f *fakeStore) []storage.AuditRecord {
	t.Helper()
	select {
	case recs := <-f.entered:
		return recs
	case <-time.After(10 * time.Second):
		t.Fatalf("store was never called")
		return nil
	}
}

// waitAttempts waits until AppendAudit has returned n more times.
func (f *fakeStore) waitAttempts(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for range n {
		select {
		case <-f.attempted:
		case <-deadline:
			t.Fatalf("the store saw fewer than %d attempts before the deadline", n)
		}
	}
}

// testClock is a clock tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
