package admin_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// countingCompiler counts the compilations Policies asks for.
type countingCompiler struct {
	engine *policy.Engine
	n      atomic.Int32
}

func (c *countingCompiler) Compile(ctx context.Context, rev policy.Revision) (*policy.Policy, error) {
	c.n.Add(1)
	return c.engine.Compile(ctx, rev)
}

// TestPushActivateValidatesOnce: `policy push --activate` compiles and
// tests the bundle once, not again on activation; activating a stored
// revision later validates it anew.
func TestPushActivateValidatesOnce(t *testing.T) {
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	c := &countingCompiler{engine: policy.NewEngine(policy.EngineConfig{})}
	st := sqlstoretest.NewSQLite(t)
	rec, err := admin.NewRecorder(admin.RecorderConfig{ChainID: testChain, Log: storeLog{st}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := admin.NewPolicies(admin.PoliciesConfig{Store: st, Recorder: rec, Compiler: c})
	if err != nil {
		t.Fatal(err)
	}
	rev, v, err := p.Push(t.Context(), "alice", files, "first", true)
	if err != nil || !v.OK() || rev.State != storage.RevisionActive {
		t.Fatalf("push --activate: %+v %+v %v", rev, v, err)
	}
	if got := c.n.Load(); got != 1 {
		t.Fatalf("push --activate compiled %d times, want 1", got)
	}
	if _, err := p.Activate(t.Context(), "alice", rev.ID, "again"); err != nil {
		t.Fatal(err)
	}
	if got := c.n.Load(); got != 2 {
		t.Fatalf("a later activation compiled %d times in all, want 2 (it validates anew)", got)
	}
}
