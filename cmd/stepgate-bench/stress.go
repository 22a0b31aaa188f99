package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/stepgate/stepgate/policies"
)

func (b *bench) startSync(ctx context.Context) (*process, error) {
	p, _, err := b.startStepgate(ctx, "sync")
	return p, err
}

// latency measures p99 with 32 connections at about half of stepgate's
// peak cold throughput (from the cold workload, or a short probe): every
// connection pauses between requests, for an exponentially distributed
// time whose mean makes the offered rate half the peak.
func (b *bench) latency(ctx context.Context) error {
	native := []any{}
	for _, s := range b.pol.cold(10_000, time.Now().Unix()) {
		native = append(native, s.native(b.idp.url))
	}
	f, err := b.writeBodies("latency"+b.pol.suffix(), native)
	if err != nil {
		return err
	}
	peak := 0.0
	if r, ok := b.find("cold"+b.pol.suffix(), "stepgate"); ok {
		peak = r.rps()
	} else {
		l := b.closedLoop(f, "/v1/decision", benchClientKey)
		l.duration = 2 * time.Second
		r, err := b.once(ctx, "latency-probe"+b.pol.suffix(), "stepgate", b.startSync, l, 1)
		if err != nil {
			return err
		}
		peak = r.rps()
	}
	const conns = 32
	delay := time.Duration(float64(conns) / (peak / 2) * float64(time.Second)).Round(time.Millisecond)
	l := b.closedLoop(f, "/v1/decision", benchClientKey)
	l.connections, l.delay = conns, max(delay, time.Millisecond)
	r, err := b.once(ctx, "latency-32c-half"+b.pol.suffix(), "stepgate", b.startSync, l, 1)
	if err != nil {
		return err
	}
	if _, err := b.once(ctx, "latency-32c-half"+b.pol.suffix(), "stepgate-async", func(ctx context.Context) (*process, error) {
		p, _, err := b.startStepgate(ctx, "async")
		return p, err
	}, l, 1); err != nil {
		return err
	}
	b.notes = append(b.notes, fmt.Sprintf("latency%s: 32 connections, each pausing between requests for a random (exponential) time with mean %s, offered ≈ half of the cold peak %.0f req/s; achieved %.0f req/s",
		b.pol.suffix(), l.delay, peak, r.rps()))
	return nil
}

// names sends the measured policy's cold mix with every action name
// distinct (and unknown to the policy), as a misbehaving or hostile client
// could: stepgate's per-action and per-input caches must stay bounded, so
// peak RSS stays near the cold workload's and throughput does not collapse.
func (b *bench) names(ctx context.Context) error {
	specs := b.pol.cold(10_000, time.Now().Unix())
	native := make([]any, len(specs))
	for i, s := range specs {
		s.action = "unknown." + placeholder
		native[i] = s.native(b.idp.url)
	}
	f, err := b.writeBodies("names"+b.pol.suffix(), native)
	if err != nil {
		return err
	}
	r, err := b.once(ctx, "names"+b.pol.suffix(), "stepgate", b.startSync, b.closedLoop(f, "/v1/decision", benchClientKey), 1)
	if err != nil {
		return err
	}
	b.notes = append(b.notes, fmt.Sprintf("names%s: %d requests, each with an action name never seen before; peak RSS %s",
		b.pol.suffix(), r.Requests, fmtMB(r.PeakRSS)))
	return nil
}

// swap measures the warm mix while a new policy revision (the default
// policy with a changed description, so a new hash) is pushed and
// activated every second with `stepgate policy push --activate` against
// the same database. Any non-200, any answer without a decision, or a
// decision that failed closed counts as a failure.
func (b *bench) swap(ctx context.Context) error {
	native := []any{}
	for _, s := range warmSpecs(1000, time.Now().Unix()) {
		native = append(native, s.native(b.idp.url))
	}
	f, err := b.writeBodies("swap", native)
	if err != nil {
		return err
	}
	p, data, err := b.startStepgate(ctx, "sync")
	if err != nil {
		return err
	}
	defer p.stop()
	pctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var pushed, failed int
	var firstErr error
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for i := 1; ; i++ {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
			}
			if err := b.pushRevision(pctx, data, i); err != nil {
				if pctx.Err() != nil {
					return
				}
				failed++
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			pushed++
		}
	})
	l := b.closedLoop(f, "/v1/decision", benchClientKey)
	l.check = true
	l.duration = max(l.duration, 8*time.Second) // several activations even in --quick
	r, err := b.measure(ctx, "swap", "stepgate", p, l, 1)
	cancel()
	wg.Wait()
	if err != nil {
		return err
	}
	note := fmt.Sprintf("swap: %d revisions pushed and activated during the run (%d pushes failed", pushed, failed)
	if firstErr != nil {
		note += fmt.Sprintf(", first: %v", firstErr)
	}
	b.notes = append(b.notes, note+fmt.Sprintf("); %d failed requests", r.Errors))
	fmt.Fprintf(b.out, "  swap: %d revisions activated, %d pushes failed, %d failed requests\n", pushed, failed, r.Errors)
	return nil
}

// pushRevision writes revision i of the default bundle (writeSwapBundle)
// and pushes it with the CLI, activating it.
func (b *bench) pushRevision(ctx context.Context, data string, i int) error {
	dir := filepath.Join(b.dir, fmt.Sprintf("swap-rev-%d", i))
	if err := writeSwapBundle(dir, i); err != nil {
		return fmt.Errorf("write revision %d: %w", i, err)
	}
	cmd := exec.CommandContext(ctx, b.bin.stepgate, "policy", "push", "--activate", "-m", "bench swap", dir)
	cmd.Env = append(cmd.Environ(), b.stepgateEnv(data, "127.0.0.1:0", "127.0.0.1:0", "sync")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("policy push: %w: %s", err, out)
	}
	return nil
}

// writeSwapBundle writes the default bundle into dir with billing.view's
// description changed to name revision i.
func writeSwapBundle(dir string, i int) error {
	return fs.WalkDir(policies.Bundle(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		c, err := fs.ReadFile(policies.Bundle(), path)
		if err != nil {
			return err
		}
		if filepath.Base(path) == "data.json" {
			// Only the description changes, so the shipped Rego tests,
			// which pin every requirement, still pass and allow activation.
			if c, err = withDescription(c, "billing.view", fmt.Sprintf("revision %d", i)); err != nil {
				return err
			}
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, c, 0o644)
	})
}

// withDescription sets actions[action].description in a data document,
// keeping every other value.
func withDescription(doc []byte, action, description string) ([]byte, error) {
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("decode data.json: %w", err)
	}
	actions, _ := d["actions"].(map[string]any)
	entry, ok := actions[action].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("data.json has no action %q", action)
	}
	entry["description"] = description
	return json.MarshalIndent(d, "", "  ")
}

// rss drives one stepgate process (audit async, so that the run is bounded
// by the decision path rather than by commit latency) with distinct cold
// decisions in batches of 20 until opts.decisions were answered, then reads
// its peak RSS.
func (b *bench) rss(ctx context.Context) error {
	f, err := b.writeBodies("rss", b.batchBodies(coldSpecs(20_000, time.Now().Unix()), 20))
	if err != nil {
		return err
	}
	p, _, err := b.startStepgate(ctx, "async")
	if err != nil {
		return err
	}
	defer p.stop()
	total := result{Workload: fmt.Sprintf("rss-%dk", b.opts.decisions/1000), Target: "stepgate", PerCall: 20}
	before, err := p.usage()
	if err != nil {
		return err
	}
	deniedBefore, err := p.auditDenied()
	if err != nil {
		return err
	}
	for total.Requests*20 < int64(b.opts.decisions) {
		l := b.closedLoop(f, "/v1/decisions", benchClientKey)
		l.duration = min(10*time.Second, b.opts.duration)
		w, err := runWrk(ctx, b.dir, l.withURL(p))
		if err != nil {
			return err
		}
		total.Requests += w.Requests
		total.Elapsed += time.Duration(w.DurationUS) * time.Microsecond
		total.Errors += w.errors()
		total.P50, total.P99, total.P999 = max(total.P50, us(w.P50)), max(total.P99, us(w.P99)), max(total.P999, us(w.P999))
	}
	after, err := p.usage()
	if err != nil {
		return err
	}
	deniedAfter, err := p.auditDenied()
	if err != nil {
		return err
	}
	total.CPU, total.PeakRSS, total.Denied = after.cpu-before.cpu, after.peakRSS, deniedAfter-deniedBefore
	total.Note = "latencies are the worst of the chunks"
	b.results = append(b.results, total)
	fmt.Fprintf(b.out, "  %s: %d decisions, peak RSS %s, errors %s\n", total.Workload, total.Requests*20, fmtMB(total.PeakRSS), total.errCell())
	return nil
}

func (l load) withURL(p *process) load {
	l.url = "http://" + p.addr
	return l
}
