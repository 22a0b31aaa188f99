package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// costCentre is one part of stepgate's work, found in a CPU profile by the
// functions whose names contain pattern (the largest cumulative share among
// them: the part's root).
type costCentre struct{ label, pattern string }

// costCentres are the parts the report breaks stepgate's CPU into. They name
// packages and entry points, not one policy's rules, so they read the same
// for every policy.
// The first is the audit work the answer waits for (auditCPU reads it): the
// writer's commit goroutine, which with the journal (the default) encodes
// and journals the records with one fdatasync per batch, and without it
// commits them to the database. The second is the journal's indexer, which
// appends the journaled records to the database in the background
// (indexCPU reads it).
var costCentres = []costCentre{
	{"audit on the request path (journal, fsync)", "stepgate/storage/audit.(*Writer).run"},
	{"audit indexing into the database (background)", "stepgate/storage/audit.(*indexer).run"},
	{"policy evaluation", "stepgate/pdp/policy.(*Policy).Eval"},
	{"audit record (redacted input, hash)", "stepgate/pdp.redactedRecord"},
	{"request decoding", "pdphttp.ParseRequest"},
	{"response writing", "pdphttp.writeJSON"},
	{"HTTP server, whole request", "net/http.(*conn).serve"},
	{"system calls (network, fsync)", "syscall.RawSyscall6"},
	{"background GC", "runtime.gcBgMarkWorker"},
}

// profileShares returns each centre's share (percent of the samples) of
// the profile files, merged, read with `go tool pprof -top -cum`.
func profileShares(ctx context.Context, bin string, files []string, centres []costCentre) ([]float64, error) {
	args := append([]string{"tool", "pprof", "-top", "-cum", "-nodecount=100000", bin}, files...)
	cmd := exec.CommandContext(ctx, "go", args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go tool pprof %s: %w: %s", strings.Join(files, " "), err, stderr.String())
	}
	shares := make([]float64, len(centres))
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		cum, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err != nil {
			continue
		}
		name := strings.Join(f[5:], " ")
		for i, c := range centres {
			if strings.Contains(name, c.pattern) {
				shares[i] = max(shares[i], cum)
			}
		}
	}
	return shares, nil
}

// sharesOf is profileShares of costCentres for profiles merged, read once.
func (b *bench) sharesOf(files ...string) ([]float64, error) {
	key := strings.Join(files, "\x00")
	if s, ok := b.shares[key]; ok {
		return s, nil
	}
	s, err := profileShares(context.Background(), b.bin.stepgate, files, costCentres)
	if err != nil {
		return nil, err
	}
	if b.shares == nil {
		b.shares = map[string][]float64{}
	}
	b.shares[key] = s
	return s, nil
}

// cpuPerDecision is centre's CPU per decision in the run (workload,
// target): its share of the profiled CPU times the process's CPU per
// decision, over every round's run when rounds were pooled. rounds is how
// many runs it read; ok is false without a profile.
func (b *bench) cpuPerDecision(workload, target string, centre int) (per time.Duration, rounds int, ok bool) {
	r, found := b.find(workload, target)
	if !found || r.Profile == "" || r.Requests == 0 {
		return 0, 0, false
	}
	runs := r.Pooled
	if len(runs) == 0 {
		runs = []result{r}
	}
	var files []string
	var cpu time.Duration
	var decisions int64
	for _, x := range runs {
		files = append(files, x.Profile)
		cpu += x.CPU
		decisions += x.Requests * int64(max(x.PerCall, 1))
	}
	shares, err := b.sharesOf(files...)
	if err != nil || decisions == 0 {
		return 0, 0, false
	}
	return time.Duration(shares[centre] / 100 * float64(cpu) / float64(decisions)), len(runs), true
}

// analysis is the part of the report that explains the numbers: where
// stepgate's CPU goes according to the profiles of this run (with
// --profile), so that a missed target says what is in the way.
func (b *bench) analysis() string {
	var sb strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	w("\n## Where the time goes (CPU profiles)\n\n")
	var rows []string
	for _, r := range b.results {
		if r.Profile == "" {
			continue
		}
		shares, err := b.sharesOf(r.Profile)
		if err != nil {
			fmt.Fprintf(b.errw, "  %v\n", err)
			continue
		}
		cells := make([]string, len(shares))
		for i, s := range shares {
			cells[i] = fmt.Sprintf("%.0f%%", s)
		}
		cpu := "—"
		if r.Requests > 0 {
			cpu = fmt.Sprintf("%.0f µs", r.CPU.Seconds()/float64(r.Requests*int64(max(r.PerCall, 1)))*1e6)
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", r.Workload, r.Target, cpu, strings.Join(cells, " | ")))
	}
	if len(rows) == 0 {
		w("This run took no profiles; `go run ./cmd/stepgate-bench --profile` (stepgate built with `-tags pprof`) fills this section.\n")
		return sb.String()
	}
	w("Each stepgate run of this report was profiled for its load duration less two seconds (`--profile`: stepgate built with `-tags pprof`, profiles kept in the run's directory). Shares are of the process's CPU samples; a sample can count in more than one column (system calls inside the audit commit, the whole request inside the HTTP server). *CPU/decision* is the process's CPU time per decision over the run.\n\n")
	w("| workload | target | CPU/decision |")
	for _, c := range costCentres {
		w(" %s |", c.label)
	}
	w("\n|---|---|---:|%s\n", strings.Repeat("---:|", len(costCentres)))
	for _, r := range rows {
		w("%s\n", r)
	}
	w("%s", readingProfiles)
	return sb.String()
}

// readingProfiles explains the columns' mechanisms; the numbers above are
// this run's own.
const readingProfiles = `
How to read it:

- **Audit on the request path** is the audit writer's commit goroutine with the journal on (the
  default): encoding each batch's records, appending them to the local journal and its fdatasync
  (group commit). In *sync* mode every answer waits for this, and only this; its CPU per record is
  the "audit CPU per record on the request path" target above. The fdatasync's CPU is the
  kernel's and falls with the batch size (the decisions that arrive during one fdatasync).
- **Audit indexing** is the journal's indexer: appending the journaled records to SQLite in
  batches of up to 2,000 (the table, its chain head and its search indexes, sixteen rows per
  INSERT because the pure-Go driver parses every statement it runs), the commit and its fsync.
  It runs beside the requests, not before their answers, so it costs throughput only through the
  CPU it takes from the two cores; its CPU per record is stated in the targets above.
- **Policy evaluation** is OPA's topdown on stepgate's prepared queries, after the decision cache
  and per-action specialisation. OPA's server pays the same evaluation, so it cannot make up a
  ratio by itself; in the warm mixes the cache answers most repeats (for a policy that reads the
  clock, only within the second unless its result declares valid_for).
- **System calls** are socket reads and writes shared with the load generator on two cores, and
  the fdatasyncs and fsyncs of the journal and the index.
- Every stepgate run here was profiled (about 1–2% of CPU while the profile runs); OPA's were not.
`
