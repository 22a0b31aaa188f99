package readiness_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/readiness"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// outage is a real SQLite store that can be made unreachable: pings and
// audit appends fail while it is down.
type outage struct {
	*sqlstore.Store
	down atomic.Bool
}

var errDown = errors.New("database is locked: disk I/O error")

func (o *outage) Ping(ctx context.Context) error {
	if o.down.Load() {
		return errDown
	}
	return o.Store.Ping(ctx)
}

func (o *outage) AppendAudit(ctx context.Context, recs []storage.AuditRecord) error {
	if o.down.Load() {
		return errDown
	}
	return o.Store.AppendAudit(ctx, recs)
}

func check(r readiness.Report, name string) readiness.Check {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return readiness.Check{}
}

// eventually polls cond every few milliseconds for up to 20 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func active(id int64) func() (int64, string, bool) {
	return func() (int64, string, bool) { return id, "h", true }
}

// TestReadinessRecoversWithoutTraffic: a sync audit writer learns that the
// store is back only from a commit. With the store back and no decision
// coming (a load balancer stopped sending them), the prober's proof record
// commits, and the replica is ready again by itself.
func TestReadinessRecoversWithoutTraffic(t *testing.T) {
	st := &outage{Store: sqlstoretest.NewSQLite(t)}
	w, err := audit.NewWriter(audit.Config{Store: st, ChainID: "replica-1", RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	var proofs atomic.Int64
	p, err := readiness.New(readiness.Config{Store: st, Audit: w, Policy: active(1),
		Interval: 20 * time.Millisecond, FailingInterval: 5 * time.Millisecond,
		ProveAudit: func(ctx context.Context, lastErr error) error {
			proofs.Add(1)
			return w.Write(ctx, storage.AuditRecord{Kind: storage.KindAdmin, Actor: "system:readiness", Action: "audit.resumed",
				Outcome: "ok", Reasons: []string{"after: " + lastErr.Error()}})
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	eventually(t, "ready at start", func() bool { return p.Report().Ready() })
	if proofs.Load() != 0 {
		t.Fatal("a proof record was written while the audit trail was healthy")
	}

	st.down.Store(true)
	// One decision during the outage: its sync record fails.
	if err := w.Write(ctx, storage.AuditRecord{Kind: storage.KindDecision, DecisionID: "d-1", Outcome: "allow"}); err == nil {
		t.Fatal("a record committed during the outage")
	}
	if c := check(p.Report(), readiness.CheckAudit); c.OK() {
		t.Fatalf("audit check %+v right after a failed commit, want failing", c)
	}
	eventually(t, "database failing", func() bool { return !check(p.Report(), readiness.CheckDatabase).OK() })
	if p.Report().Ready() {
		t.Fatal("ready during the outage")
	}

	st.down.Store(false)
	// No traffic from here on.
	eventually(t, "ready again without traffic", func() bool { return p.Report().Ready() })
	if err := w.Healthy(); err != nil {
		t.Fatalf("the writer still reports %v", err)
	}
	if proofs.Load() == 0 {
		t.Fatal("recovered without a proof record")
	}
	page, err := st.SearchAudit(ctx, storage.AuditQuery{Kind: storage.KindAdmin})
	if err != nil || len(page.Records) == 0 || page.Records[0].Action != "audit.resumed" {
		t.Fatalf("the proof record is not in the trail: %v %+v", err, page.Records)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type pingOK struct{}

func (pingOK) Ping(context.Context) error { return nil }

func module(body string) policy.Files {
	return policy.Files{"stepgate/policy.rego": []byte("package stepgate\n\n" + body)}
}

// TestPolicyErroringEverywhereIsNotReady: decisions through the real
// service under a policy whose every evaluation fails make the replica
// not ready; a new revision that works, or a window without evidence,
// makes it ready again.
func TestPolicyErroringEverywhereIsNotReady(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	eng := policy.NewEngine(policy.EngineConfig{})
	load := func(id int64, body string) {
		t.Helper()
		f := module(body)
		if err := eng.Load(ctx, policy.Revision{ID: id, Hash: f.Hash(), Files: f}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := readiness.New(readiness.Config{Store: pingOK{}, Now: clk.Now, PolicyWindow: time.Minute, PolicyMinErrors: 20,
		Policy: func() (int64, string, bool) {
			if a := eng.Active(); a != nil {
				id, hash := a.Revision()
				return id, hash, true
			}
			return 0, "", false
		}})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := pdp.NewService(pdp.ServiceConfig{Engine: eng, Verifier: verifier, Transactions: pdptest.NewTransactions(),
		Observer: p, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	decide := func(n int) (outcomes map[policy.Outcome]int) {
		outcomes = map[policy.Outcome]int{}
		for i := range n {
			d := svc.Evaluate(ctx, clientauth.Client{ID: "app"}, &policy.Input{Subject: policy.Subject{Type: "user", ID: "u" + string(rune('a'+i%26))},
				Action: policy.Action{Name: "billing.view"}})
			outcomes[d.Outcome]++
		}
		return outcomes
	}
	evaluations := func() readiness.Check { return check(p.Report(), readiness.CheckEvaluations) }

	if p.Report().Ready() {
		t.Fatal("ready with no policy and no probe")
	}
	load(1, `decision := {"decision": "deny", "reasons": ["nobody may"]}`)
	p.Probe(ctx)
	decide(30) // deny everything, without error: that is a policy, not a failure
	clk.Advance(5 * time.Second)
	p.Probe(ctx)
	if !p.Report().Ready() {
		t.Fatalf("a policy that denies is not ready: %+v", p.Report())
	}

	load(2, `decision := {"decision": "perhaps"}`)
	p.Probe(ctx)
	if got := decide(10); got[policy.Deny] != 10 {
		t.Fatalf("outcomes %v, want every answer a deny", got)
	}
	clk.Advance(5 * time.Second)
	p.Probe(ctx)
	if !evaluations().OK() {
		t.Fatal("failing after 10 errors, fewer than the minimum of 20")
	}
	decide(15)
	clk.Advance(5 * time.Second)
	p.Probe(ctx)
	if c := evaluations(); c.OK() || p.Report().Ready() {
		t.Fatalf("25 evaluations, all failed: check %+v, want failing", c)
	}

	// The window passes without traffic: the evidence expires.
	clk.Advance(61 * time.Second)
	p.Probe(ctx)
	clk.Advance(5 * time.Second)
	p.Probe(ctx)
	if !p.Report().Ready() {
		t.Fatalf("still not ready a window after the last evaluation: %+v", p.Report())
	}

	decide(25)
	clk.Advance(5 * time.Second)
	p.Probe(ctx)
	if evaluations().OK() {
		t.Fatal("the broken revision failed everything again, yet the check is ok")
	}
	load(3, `decision := {"decision": "allow", "reasons": []}`)
	p.Probe(ctx)
	if !p.Report().Ready() {
		t.Fatalf("a new revision did not start afresh: %+v", p.Report())
	}

	// Some evaluations succeed: not every answer is a failure.
	load(4, `decision := {"decision": "allow", "reasons": []} if input.subject.id == "ua"`)
	p.Probe(ctx)
	decide(52)
	clk.Advance(5 * time.Second)
	p.Probe(ctx)
	if !evaluations().OK() {
		t.Fatalf("a policy that answers some requests is reported failing: %+v", evaluations())
	}
}
