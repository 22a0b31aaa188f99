package pdp_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
)

// fullDisk is an audit store whose every append fails, as with a full
// disk; attempts receives a value after each attempt.
type fullDisk struct{ attempts chan struct{} }

func (d fullDisk) AppendAudit(context.Context, []storage.AuditRecord) error {
	defer func() {
		select {
		case d.attempts <- struct{}{}:
		default:
		}
	}()
	return errors.New("write audit_records: database or disk is full")
}

// writerSink hands decisions to an audit.Writer, as cmd/stepgate does.
type writerSink struct{ w *audit.Writer }

func (s writerSink) Record(ctx context.Context, events []pdp.AuditEvent) error {
	recs := make([]storage.AuditRecord, len(events))
	for i, e := range events {
		recs[i] = storage.AuditRecord{Time: e.Time, Kind: storage.KindDecision, DecisionID: e.DecisionID,
			Outcome: string(e.Outcome), Input: e.Input, InputDigest: e.InputDigest}
	}
	return s.w.WriteBatch(ctx, recs)
}

type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// In async mode with the audit store failing, decisions are allowed only
// while the oldest unrecorded one is within the writer's bound; after that
// they are denied as audit_unavailable, as in sync mode. Every decision
// that was allowed is acknowledged, and survives shutdown in a spill file.
func TestAsyncAuditFailingStoreDeniesAfterTheBound(t *testing.T) {
	clock := &manualClock{now: time.Now()}
	store := fullDisk{attempts: make(chan struct{}, 1000)}
	spill := t.TempDir()
	const maxDelay = 20 * time.Millisecond
	w, err := audit.NewWriter(audit.Config{Store: store, Mode: audit.ModeAsync, ChainID: "pdp-test", MaxDelay: maxDelay,
		RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond, SpillDir: spill, Now: clock.Now,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	idp := pdptest.NewIssuer(t)
	v, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{idp.Config()}})
	if err != nil {
		t.Fatal(err)
	}
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	e := policy.NewEngine(policy.EngineConfig{})
	if err := e.Load(t.Context(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}); err != nil {
		t.Fatal(err)
	}
	svc, err := pdp.NewService(pdp.ServiceConfig{Engine: e, Verifier: v, Transactions: pdptest.NewTransactions(),
		Audit: writerSink{w}, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	client := clientauth.Client{ID: "svc", AssertClaims: true}
	decide := func() *pdp.Decision {
		t.Helper()
		claims := map[string]any{"iss": idp.URL(), "sub": "alice", "amr": []any{"pwd", "mfa"}, "auth_time": clock.Now().Unix() - 30}
		d, err := svc.Decide(t.Context(), client, &pdp.Request{Claims: claims, Action: "billing.view"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	var allowed []string
	first := decide()
	if first.Outcome != policy.Allow {
		t.Fatalf("first decision = %s %v, want allow (queued before any failure)", first.Outcome, first.Reasons)
	}
	allowed = append(allowed, first.ID)
	for range 2 { // the first append failed and the writer noted it
		select {
		case <-store.attempts:
		case <-time.After(10 * time.Second):
			t.Fatal("the audit store was never tried")
		}
	}
	clock.Advance(audit.DefaultStallFactor * maxDelay)
	if d := decide(); d.Outcome != policy.Allow {
		t.Fatalf("decision at the bound = %s %v, want allow", d.Outcome, d.Reasons)
	} else {
		allowed = append(allowed, d.ID)
	}
	clock.Advance(time.Millisecond)
	for range 3 {
		d := decide()
		if d.Outcome != policy.Deny || len(d.Reasons) == 0 || !strings.HasPrefix(d.Reasons[0], pdp.ErrAuditUnavailable.Error()) {
			t.Fatalf("decision past the bound = %s %v, want deny audit_unavailable", d.Outcome, d.Reasons)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel() // shutdown deadline passed with the store still failing
	if err := w.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	un, err := audit.Unwritten(spill)
	if err != nil {
		t.Fatal(err)
	}
	var spilled []string
	for _, u := range un {
		if u.Lost || u.Record.Outcome != string(policy.Allow) {
			t.Errorf("unwritten %+v, want a spilled allow", u)
		}
		spilled = append(spilled, u.Record.DecisionID)
	}
	if !slices.Equal(spilled, allowed) {
		t.Errorf("spilled decisions %v, want every allowed one %v", spilled, allowed)
	}
}
