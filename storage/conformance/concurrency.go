package conformance

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func concurrencyTests() []subTest {
	return []subTest{
		{"ConsumeStepUpOnce", testConcurrentConsume},
		{"ActivateOneAtATime", testConcurrentActivate},
		{"CreateClientOnce", testConcurrentCreateClient},
		{"AuditChainsUnderLoad", testConcurrentAudit},
		{"StartCIBAOfferOnce", testConcurrentStartOffer},
		{"LeaseCIBARequestOnce", testConcurrentLease},
	}
}

// race runs fn in n goroutines released together and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testConcurrentConsume(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	for round := range 5 {
		id := fmt.Sprintf("tx-%d", round)
		mustNoErr(t, s.CreateStepUp(ctx, newStepUp(id, baseTime(), time.Hour)), "create")
		errs := race(16, func(int) error {
			_, err := s.ConsumeStepUp(ctx, id, "billing-svc", baseTime().Add(time.Minute))
			return err
		})
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, storage.ErrUsed):
				t.Errorf("round %d: loser got %v, want ErrUsed", round, err)
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d consumers won, want exactly 1", round, wins)
		}
	}
}

func testConcurrentActivate(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	var ids []int64
	for i := range 8 {
		r, err := s.CreateRevision(ctx, newRevision(i))
		mustNoErr(t, err, "create revision")
		ids = append(ids, r.ID)
	}
	errs := race(len(ids), func(i int) error {
		_, err := s.ActivateRevision(ctx, ids[i], "admin", baseTime())
		return err
	})
	for i, err := range errs {
		if err != nil && !errors.Is(err, storage.ErrConflict) {
			t.Errorf("activate %d: %v", ids[i], err)
		}
	}
	list, err := s.ListRevisions(ctx)
	mustNoErr(t, err, "list")
	active := 0
	for _, r := range list {
		if r.State == storage.RevisionActive {
			active++
		}
	}
	if active != 1 {
		t.Errorf("%d revisions active after concurrent activation, want 1", active)
	}
}

func testConcurrentCreateClient(t *testing.T, s storage.Store) {
	errs := race(12, func(i int) error {
		c := newClient("dup")
		c.Name = fmt.Sprintf("attempt %d", i)
		return s.CreateClient(ctxFor(t), c)
	})
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, storage.ErrAlreadyExists):
			t.Errorf("loser got %v, want ErrAlreadyExists", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d creations won, want exactly 1", wins)
	}
}

// testConcurrentAudit has writers on distinct chains plus two writers
// sharing one chain; the store must serialise each chain's head.
func testConcurrentAudit(t *testing.T, s storage.Store) {
	const writers, batches, batchSize = 6, 15, 8
	errs := race(writers, func(w int) error {
		chain := fmt.Sprintf("replica-%d", w)
		if w >= writers-2 {
			chain = "shared"
		}
		for b := range batches {
			recs := make([]storage.AuditRecord, batchSize)
			for i := range recs {
				recs[i] = decision(chain, w*1000+b*batchSize+i)
			}
			if err := s.AppendAudit(ctxFor(t), recs); err != nil {
				return fmt.Errorf("writer %d batch %d: %w", w, b, err)
			}
		}
		return nil
	})
	for _, err := range errs {
		mustNoErr(t, err, "concurrent append")
	}
	rep, err := s.VerifyAudit(ctxFor(t))
	mustNoErr(t, err, "verify")
	if want := int64(writers * batches * batchSize); !rep.OK || rep.Checked != want || rep.Chains != writers-1 {
		t.Errorf("report = %+v (broken %+v), want OK with %d records on %d chains", rep, rep.FirstBroken, want, writers-1)
	}
}
