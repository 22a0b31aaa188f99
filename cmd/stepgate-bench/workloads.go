package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// allWorkloads lists the workloads in the order they run.
func allWorkloads() []string {
	return []string{"cold", "warm", "token", "batch", "audit", "latency", "names", "swap", "forward", "rss"}
}

// perPolicy are the workloads that run on every selected policy; the
// others measure stepgate's own machinery on the default policy.
var perPolicy = map[string]bool{"cold": true, "warm": true, "latency": true, "names": true}

func (b *bench) runAll(ctx context.Context) error {
	run := map[string]func(context.Context) error{
		"cold": b.cold, "warm": b.warm, "token": b.token, "batch": b.batch,
		"audit": b.audit, "latency": b.latency, "names": b.names, "swap": b.swap, "forward": b.forward, "rss": b.rss,
	}
	defer func() { b.pol = b.def }()
	for _, w := range b.opts.workloads {
		pols := []*benchPolicy{b.def}
		if perPolicy[w] {
			pols = b.policies
		}
		for _, p := range pols {
			b.pol = p
			fmt.Fprintf(b.out, "\n== %s%s\n", w, p.suffix())
			if err := run[w](ctx); err != nil {
				return fmt.Errorf("workload %s%s: %w", w, p.suffix(), err)
			}
		}
	}
	return nil
}

func (b *bench) closedLoop(bodies, path, auth string) load {
	return load{bodies: bodies, path: path, auth: auth, connections: b.opts.connections, threads: b.opts.threads, duration: b.opts.duration}
}

// target is one process a side-by-side workload measures.
type target struct {
	name  string
	start func(context.Context) (*process, error)
	load  load
}

// sideBySide verifies a sample on stepgate and OPA, then measures stepgate
// (audit sync, the default, and async), OPA, OPA with decision logs on (with
// logged), the extra targets and optionally the no-op, each as a fresh
// process alone.
func (b *bench) sideBySide(ctx context.Context, name string, specs []spec, noop, logged bool, extra ...target) error {
	native, opaIn := make([]any, len(specs)), make([]any, len(specs))
	for i, s := range specs {
		native[i] = s.native(b.idp.url)
		opaIn[i] = map[string]any{"input": s.opaInput(b.idp.url)}
	}
	nf, err := b.writeBodies(name+"-native", native)
	if err != nil {
		return err
	}
	of, err := b.writeBodies(name+"-opa", opaIn)
	if err != nil {
		return err
	}
	if err := b.verify(ctx, name, specs); err != nil {
		return err
	}
	targets := []target{
		{"stepgate", func(ctx context.Context) (*process, error) {
			p, _, err := b.startStepgate(ctx, "sync")
			return p, err
		}, b.closedLoop(nf, "/v1/decision", benchClientKey)},
		{"stepgate-async", func(ctx context.Context) (*process, error) {
			p, _, err := b.startStepgate(ctx, "async")
			return p, err
		}, b.closedLoop(nf, "/v1/decision", benchClientKey)},
		{"opa", b.startOPA, b.closedLoop(of, opaQueryPath, "")},
	}
	if logged {
		targets = append(targets, target{"opa-dl", b.startOPALogged, b.closedLoop(of, opaQueryPath, "")})
	}
	for _, t := range extra {
		t.load = b.closedLoop(nf, "/v1/decision", benchClientKey)
		targets = append(targets, t)
	}
	if noop {
		targets = append(targets, target{"noop", b.startNoop, b.closedLoop(nf, "/v1/decision", benchClientKey)})
	}
	first := len(b.results)
	for round := 1; round <= b.opts.rounds; round++ {
		if b.opts.rounds > 1 {
			fmt.Fprintf(b.out, "  round %d of %d\n", round, b.opts.rounds)
		}
		for _, t := range targets {
			if _, err := b.once(ctx, name, t.name, t.start, t.load, 1); err != nil {
				return err
			}
		}
	}
	b.keepMedians(first)
	return nil
}

// keepMedians replaces the results from index first on (several rounds of
// the same workloads and targets) by each one's median round by decisions
// per second, noting every round's rate. Rounds interleave the targets, so
// a slow stretch of the machine hits all of them instead of one.
func (b *bench) keepMedians(first int) {
	if b.opts.rounds <= 1 {
		return
	}
	type key struct{ workload, target string }
	var order []key
	rounds := map[key][]result{}
	for _, r := range b.results[first:] {
		k := key{r.Workload, r.Target}
		if _, ok := rounds[k]; !ok {
			order = append(order, k)
		}
		rounds[k] = append(rounds[k], r)
	}
	b.results = b.results[:first]
	for _, k := range order {
		rs := rounds[k]
		rates := make([]string, len(rs))
		for i, r := range rs {
			rates[i] = fmt.Sprintf("%.0f", r.dps())
		}
		slices.SortFunc(rs, func(x, y result) int { return cmp.Compare(x.dps(), y.dps()) })
		median := rs[len(rs)/2]
		for _, r := range rs {
			if r.Profile != "" {
				median.Pooled = append(median.Pooled, r)
			}
		}
		b.results = append(b.results, median)
		b.notes = append(b.notes, fmt.Sprintf("%s on %s: median of %d rounds (decisions/s per round: %s)",
			k.workload, k.target, len(rs), strings.Join(rates, ", ")))
	}
}

// verify starts both policy engines and compares a sample of decisions.
func (b *bench) verify(ctx context.Context, name string, specs []spec) error {
	sg, _, err := b.startStepgate(ctx, "async")
	if err != nil {
		return err
	}
	defer sg.stop()
	opa, err := b.startOPA(ctx)
	if err != nil {
		return err
	}
	defer opa.stop()
	seen, err := b.verifySample(ctx, specs, sg, opa, 100)
	if err != nil {
		return fmt.Errorf("stepgate and OPA disagree, not measuring: %w", err)
	}
	b.notes = append(b.notes, fmt.Sprintf("%s: the first %d requests got identical decisions from stepgate and OPA (%v)",
		name, min(100, len(specs)), seen))
	return nil
}

// once starts a target, measures it and stops it.
func (b *bench) once(ctx context.Context, workload, target string, start func(context.Context) (*process, error), l load, perCall int) (result, error) {
	p, err := start(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := b.measure(ctx, workload, target, p, l, perCall)
	if serr := p.stop(); err == nil {
		err = serr
	}
	return r, err
}

// checkpointsOff is the environment that turns signed audit checkpoints off.
const checkpointsOff = "STEPGATE_AUDIT_CHECKPOINT_INTERVAL=off"

// cold runs the measured policy's cold mix; on the default policy it also
// measures stepgate (sync) with signed audit checkpoints off, beside the
// default where they are on, to show what the checkpointer costs.
func (b *bench) cold(ctx context.Context) error {
	var extra []target
	if b.pol == b.def {
		extra = append(extra, target{name: "stepgate-nockpt", start: func(ctx context.Context) (*process, error) {
			p, _, err := b.startStepgate(ctx, "sync", checkpointsOff)
			return p, err
		}})
	}
	return b.sideBySide(ctx, "cold"+b.pol.suffix(), b.pol.cold(10_000, time.Now().Unix()), b.pol == b.def, true, extra...)
}

func (b *bench) warm(ctx context.Context) error {
	return b.sideBySide(ctx, "warm"+b.pol.suffix(), b.pol.warm(1000, time.Now().Unix()), b.pol == b.def, true)
}

func (b *bench) token(ctx context.Context) error {
	now := time.Now().Unix()
	for _, alg := range []string{"RS256", "ES256"} {
		specs, err := withTokens(warmSpecs(1000, now), b.idp, alg, now)
		if err != nil {
			return err
		}
		if err := b.sideBySide(ctx, "token-"+alg, specs, false, false); err != nil {
			return err
		}
	}
	return nil
}

// batchBodies groups specs into /v1/decisions calls of size n.
func (b *bench) batchBodies(specs []spec, n int) []any {
	var out []any
	for i := 0; i+n <= len(specs); i += n {
		reqs := make([]any, n)
		for j := range n {
			reqs[j] = specs[i+j].native(b.idp.url)
		}
		out = append(out, map[string]any{"requests": reqs})
	}
	return out
}

func (b *bench) batch(ctx context.Context) error {
	f, err := b.writeBodies("batch", b.batchBodies(warmSpecs(1000, time.Now().Unix()), 20))
	if err != nil {
		return err
	}
	_, err = b.once(ctx, "batch-20", "stepgate", func(ctx context.Context) (*process, error) {
		p, _, err := b.startStepgate(ctx, "sync")
		return p, err
	}, b.closedLoop(f, "/v1/decisions", benchClientKey), 20)
	return err
}

// audit runs the cold mix with audit sync and async (interleaved rounds,
// medians kept), and checks after the drain on shutdown of every run that
// every answered decision is in the audit trail.
func (b *bench) audit(ctx context.Context) error {
	specs := coldSpecs(10_000, time.Now().Unix())
	native := make([]any, len(specs))
	for i, s := range specs {
		native[i] = s.native(b.idp.url)
	}
	f, err := b.writeBodies("audit", native)
	if err != nil {
		return err
	}
	first := len(b.results)
	for round := 1; round <= b.opts.rounds; round++ {
		if b.opts.rounds > 1 {
			fmt.Fprintf(b.out, "  round %d of %d\n", round, b.opts.rounds)
		}
		if err := b.auditRound(ctx, f); err != nil {
			return err
		}
	}
	b.keepMedians(first)
	return b.auditSustained(ctx)
}

// auditSustained drives stepgate (sync) with batches of 20 distinct
// decisions for six load durations (at least 30 s outside --quick), with
// the audit journal on and off. The short runs end before the indexer can
// fall behind; here the database sets the pace, and no decision may be
// denied for it (the journal waits for the index beyond audit.index_lead).
func (b *bench) auditSustained(ctx context.Context) error {
	f, err := b.writeBodies("sustained", b.batchBodies(coldSpecs(20_000, time.Now().Unix()), 20))
	if err != nil {
		return err
	}
	d := 6 * b.opts.duration
	if !b.opts.quick {
		d = max(d, 30*time.Second)
	}
	for _, m := range []struct {
		workload string
		env      []string
	}{{"sustained-sync", nil}, {"sustained-sync-nojournal", []string{journalOff}}} {
		var data string
		l := b.closedLoop(f, "/v1/decisions", benchClientKey)
		l.duration = d
		r, err := b.once(ctx, m.workload, "stepgate", func(ctx context.Context) (*process, error) {
			p, dir, err := b.startStepgate(ctx, "sync", m.env...)
			data = dir
			return p, err
		}, l, 20)
		if err != nil {
			return err
		}
		n, err := b.countAudited(ctx, data)
		if err != nil {
			return err
		}
		allowed := r.Requests*20 - r.Denied // answered without a refused record
		lost := max(0, allowed-n)
		b.notes = append(b.notes, fmt.Sprintf("%s (%s): %d decisions answered, %d denied for the audit trail, %d decision records in the trail after shutdown: %d lost",
			m.workload, d, r.Requests*20, r.Denied, n, lost))
		fmt.Fprintf(b.out, "  %s: answered %d, audit-denied %d, audited %d, lost %d\n", m.workload, r.Requests*20, r.Denied, n, lost)
	}
	return nil
}

// journalOff is the environment that turns the audit journal off: each
// record is committed to the database before its decision is answered.
const journalOff = "STEPGATE_AUDIT_JOURNAL_DIR=off"

// auditRound measures the audit modes once each (and sync with the journal
// off, committing each batch to the database before answering, as before
// the journal) and checks that no answered decision is missing from the
// audit trail.
func (b *bench) auditRound(ctx context.Context, f string) error {
	for _, m := range []struct {
		workload, mode string
		env            []string
	}{
		{"audit-sync", "sync", nil}, {"audit-async", "async", nil}, {"audit-sync-nojournal", "sync", []string{journalOff}},
	} {
		var data string
		r, err := b.once(ctx, m.workload, "stepgate", func(ctx context.Context) (*process, error) {
			p, d, err := b.startStepgate(ctx, m.mode, m.env...)
			data = d
			return p, err
		}, b.closedLoop(f, "/v1/decision", benchClientKey), 1)
		if err != nil {
			return err
		}
		n, err := b.countAudited(ctx, data)
		if err != nil {
			return err
		}
		lost := max(0, r.Requests-n)
		b.notes = append(b.notes, fmt.Sprintf("%s: %d decisions answered, %d decision records in the audit trail after shutdown: %d lost",
			m.workload, r.Requests, n, lost))
		fmt.Fprintf(b.out, "  %s: answered %d, audited %d, lost %d\n", m.workload, r.Requests, n, lost)
	}
	return nil
}

// countAudited counts the decision records in a stopped stepgate's store.
func (b *bench) countAudited(ctx context.Context, data string) (int64, error) {
	cmd := exec.CommandContext(ctx, b.bin.stepgate, "audit", "export", "--format", "ndjson", "--kind", "decision")
	cmd.Env = append(cmd.Environ(), b.stepgateEnv(data, "127.0.0.1:0", "127.0.0.1:0", "sync")...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("stepgate audit export: %w: %s", err, stderr.String())
	}
	return int64(bytes.Count(out.Bytes(), []byte("\n"))), nil
}
