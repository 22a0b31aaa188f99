package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// benchClientKey is the development client's key, fixed through
// STEPGATE_BOOTSTRAP_CLIENT_KEY; that client may assert claims.
const benchClientKey = "bench-dev-client-key-0123456789abcdef"

// bench holds what all workloads share.
type bench struct {
	opts      options
	out, errw io.Writer
	root      string
	dir       string
	bin       binaries
	ver       versions
	idp       *idp
	opaConfig string
	// opaLogged is OPA's config with console decision logs on.
	opaLogged string
	// policies are the policies the per-policy workloads run on (--policies);
	// pol is the one being measured, def the shipped default policy, which
	// the other workloads use.
	policies []*benchPolicy
	pol, def *benchPolicy
	// bundleDir and opaBundle hold each policy's bundle as stepgate
	// pushes it and as OPA loads it, by policy name.
	bundleDir map[string]string
	opaBundle map[string]string
	results   []result
	notes     []string
	// shares caches each profile's cost-centre shares (analysis.go).
	shares map[string][]float64
	seq    int
	// loadBefore is /proc/loadavg when the run started: other work on the
	// machine takes cores from every target alike, but it shows in the numbers.
	loadBefore string
}

func newBench(ctx context.Context, opts options, out, errw io.Writer) (*bench, error) {
	root, err := filepath.Abs(opts.module)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "stepgate-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{opts: opts, out: out, errw: errw, root: root, dir: dir}
	fmt.Fprintf(out, "building stepgate and OPA in %s …\n", dir)
	if b.bin, err = buildBinaries(ctx, root, dir, opts.profile); err != nil {
		b.close()
		return nil, err
	}
	b.ver = readVersions(ctx, root, b.bin)
	if b.idp, err = startIDP(); err != nil {
		b.close()
		return nil, err
	}
	if err := b.preparePolicies(); err != nil {
		b.close()
		return nil, err
	}
	b.loadBefore = loadAverage()
	fmt.Fprintf(out, "%s\n%s | %s | OPA %s | %s\nload average before: %s\n", machine(), b.ver.Go, b.ver.Stepgate, b.ver.OPA, b.ver.Wrk, b.loadBefore)
	return b, nil
}

func (b *bench) close() {
	if b.idp != nil {
		b.idp.close()
	}
	if b.opts.keep {
		fmt.Fprintf(b.out, "kept %s\n", b.dir)
		return
	}
	_ = os.RemoveAll(b.dir)
}

func (b *bench) next(prefix string) string {
	b.seq++
	return fmt.Sprintf("%s-%02d", prefix, b.seq)
}

// stepgateConfig names the bench IdP as the only token issuer.
func (b *bench) stepgateConfig() (string, error) {
	f := filepath.Join(b.dir, "stepgate.yaml")
	y := fmt.Sprintf("log_level: warn\nissuers:\n  - issuer: %s\n    audiences: [%s]\n    dialect: generic\n", b.idp.url, benchAudience)
	return f, os.WriteFile(f, []byte(y), 0o644)
}

// preparePolicies writes every policy's bundle for stepgate and for OPA,
// and OPA's config files.
func (b *bench) preparePolicies() error {
	all, err := benchPolicies()
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, n := range b.opts.policies {
		want[n] = true
	}
	b.bundleDir, b.opaBundle = map[string]string{}, map[string]string{}
	for _, p := range all {
		if p.name == "default" {
			b.def = p
		}
		selected := len(want) == 0 || want[p.name]
		if selected {
			b.policies = append(b.policies, p)
		} else if p.name != "default" {
			continue
		}
		dir := filepath.Join(b.dir, "policy-"+p.name)
		if err := writeBundle(dir, p.bundle, false); err != nil {
			return fmt.Errorf("write bundle %s: %w", p.name, err)
		}
		b.bundleDir[p.name] = dir
		if b.opaBundle[p.name], err = writeOPABundle(b.dir, p.name, p.bundle, b.idp); err != nil {
			return err
		}
	}
	b.pol = b.def
	b.opaConfig, b.opaLogged, err = writeOPAConfigs(b.dir)
	return err
}

// startStepgate starts stepgate on a fresh SQLite data dir with the policy
// being measured active (pushed and activated with the CLI first, as a user
// would, unless it is the default policy stepgate starts with). extraEnv
// is added to the process's environment.
func (b *bench) startStepgate(ctx context.Context, auditMode string, extraEnv ...string) (*process, string, error) {
	cfg, err := b.stepgateConfig()
	if err != nil {
		return nil, "", err
	}
	return b.startStepgateWith(ctx, cfg, auditMode, extraEnv...)
}

// startStepgateWith is startStepgate with the config file cfg.
func (b *bench) startStepgateWith(ctx context.Context, cfg, auditMode string, extraEnv ...string) (*process, string, error) {
	name := b.next("stepgate")
	data := filepath.Join(b.dir, name+"-data")
	if b.pol.name != "default" {
		cmd := exec.CommandContext(ctx, b.bin.stepgate, "policy", "push", "--activate", "-m", "bench policy "+b.pol.name, b.bundleDir[b.pol.name])
		cmd.Env = append(cmd.Environ(), b.stepgateEnv(data, "127.0.0.1:0", "127.0.0.1:0", auditMode)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, "", fmt.Errorf("push policy %s: %w: %s", b.pol.name, err, out)
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	admin, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	env := append(b.stepgateEnv(data, addr, admin, auditMode), extraEnv...)
	pprofAddr := ""
	if b.opts.profile {
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, "", err
		}
		env = append(env, "STEPGATE_PPROF_ADDR="+pprofAddr)
	}
	p, err := startProcess(ctx, name, b.dir, addr, "/readyz", b.bin.stepgate, []string{"--config", cfg, "serve"}, env)
	if p != nil {
		p.pprof = pprofAddr
	}
	return p, data, err
}

func (b *bench) stepgateEnv(data, addr, admin, auditMode string) []string {
	return []string{"STEPGATE_DECISION_ADDR=" + addr, "STEPGATE_ADMIN_ADDR=" + admin, "STEPGATE_DATA_DIR=" + data,
		"STEPGATE_DATABASE_URL=", "STEPGATE_AUDIT_MODE=" + auditMode, "STEPGATE_BOOTSTRAP_CLIENT_KEY=" + benchClientKey,
		"STEPGATE_BOOTSTRAP_ADMIN_PASSWORD=bench-admin-password-0123456789", "STEPGATE_AUDIT_CHAIN_ID=bench"}
}

// startOPA starts OPA's server with the measured policy and the wrapper.
func (b *bench) startOPA(ctx context.Context) (*process, error) {
	return b.startOPAWith(ctx, "opa", b.opaConfig)
}

// startOPALogged starts OPA's server with console decision logs on; they
// go to its log file.
func (b *bench) startOPALogged(ctx context.Context) (*process, error) {
	return b.startOPAWith(ctx, "opa-dl", b.opaLogged)
}

func (b *bench) startOPAWith(ctx context.Context, name, config string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return startProcess(ctx, b.next(name), b.dir, addr, "/health", b.bin.opa,
		[]string{"run", "--server", "--addr", addr, "--log-level", "error", "--disable-telemetry",
			"--config-file", config, "--bundle", b.opaBundle[b.pol.name]}, nil)
}

func (b *bench) startNoop(ctx context.Context) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return startProcess(ctx, b.next("noop"), b.dir, addr, "/", b.bin.self, []string{noopFlag, addr}, nil)
}

// writeBodies writes one request body per line for the load generator.
func (b *bench) writeBodies(name string, bodies []any) (string, error) {
	var sb strings.Builder
	for _, body := range bodies {
		l, err := line(body)
		if err != nil {
			return "", err
		}
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	f := filepath.Join(b.dir, name+".bodies")
	return f, os.WriteFile(f, []byte(sb.String()), 0o644)
}

// result is one target's numbers under one workload.
type result struct {
	Workload, Target string
	PerCall          int // decisions per request
	Requests         int64
	Elapsed          time.Duration
	P50, P99, P999   time.Duration
	Errors           int64
	// Denied counts decisions stepgate answered deny because its audit
	// writer refused their record (auditDenied): failures, not answers.
	Denied  int64
	CPU     time.Duration
	PeakRSS int64
	Note    string
	Profile string // CPU profile of the run (--profile), else ""
	// Pooled is every round's profiled run of this workload and target
	// when rounds were run (keepMedians): the per-record CPU targets read
	// all their profiles together, since a short run's profile holds too
	// few samples of a small cost centre.
	Pooled []result
	// Statuses counts the answers by HTTP status (forward workload).
	Statuses map[string]int64
}

// errCell is the errors column: failed requests, and decisions denied
// because the audit trail refused them.
func (r result) errCell() string {
	if r.Denied == 0 {
		return strconv.FormatInt(r.Errors, 10)
	}
	return fmt.Sprintf("%d + %d audit-denied", r.Errors, r.Denied)
}

func (r result) rps() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }
func (r result) dps() float64 { return r.rps() * float64(max(r.PerCall, 1)) }
func (r result) cores() float64 {
	return r.CPU.Seconds() / r.Elapsed.Seconds()
}

// measure drives p with l and records the result under workload/target.
func (b *bench) measure(ctx context.Context, workload, target string, p *process, l load, perCall int) (result, error) {
	l.url = "http://" + p.addr
	l.threads = min(b.opts.threads, l.connections)
	before, err := p.usage()
	if err != nil {
		return result{}, err
	}
	deniedBefore, err := p.auditDenied()
	if err != nil {
		return result{}, err
	}
	prof := b.startProfile(ctx, workload, p, l.duration)
	w, err := runWrk(ctx, b.dir, l)
	if err != nil {
		return result{}, fmt.Errorf("%s on %s: %w", workload, target, err)
	}
	profile := ""
	if f, err := prof.wait(); err != nil {
		fmt.Fprintf(b.errw, "  profile of %s: %v\n", workload, err)
	} else if f != "" {
		profile = f
		fmt.Fprintf(b.out, "  CPU profile: %s (go tool pprof %s %s)\n", f, b.bin.stepgate, f)
	}
	after, err := p.usage()
	if err != nil {
		return result{}, err
	}
	deniedAfter, err := p.auditDenied()
	if err != nil {
		return result{}, err
	}
	r := result{Denied: deniedAfter - deniedBefore, Workload: workload, Target: target, PerCall: perCall, Requests: w.Requests,
		Elapsed: time.Duration(w.DurationUS) * time.Microsecond, P50: us(w.P50), P99: us(w.P99), P999: us(w.P999),
		Errors: w.errors(), CPU: after.cpu - before.cpu, PeakRSS: after.peakRSS, Profile: profile, Statuses: w.Statuses}
	b.results = append(b.results, r)
	fmt.Fprintf(b.out, "  %-22s %-16s %9.0f req/s %9.0f dec/s  p50 %7s  p99 %7s  p99.9 %7s  err %s  cpu %.2f  rss %s\n",
		workload, target, r.rps(), r.dps(), fmtDur(r.P50), fmtDur(r.P99), fmtDur(r.P999), r.errCell(), r.cores(), fmtMB(r.PeakRSS))
	return r, nil
}

func us(f float64) time.Duration { return time.Duration(f * float64(time.Microsecond)) }

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

func fmtMB(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/(1<<20)) }
