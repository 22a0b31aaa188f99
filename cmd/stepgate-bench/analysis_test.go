package main

import (
	"crypto/sha256"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"
)

//go:noinline
func burnHashing(d time.Duration) (sum byte) {
	buf := make([]byte, 4096)
	for end := time.Now().Add(d); time.Now().Before(end); {
		h := sha256.Sum256(buf)
		sum ^= h[0]
		buf[0] = sum
	}
	return sum
}

// profileShares reads the cumulative share of the functions a centre names
// from a real CPU profile of this test binary.
func TestProfileShares(t *testing.T) {
	f := filepath.Join(t.TempDir(), "cpu.pprof")
	out, err := os.Create(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		t.Skipf("CPU profiling unavailable: %v", err)
	}
	burnHashing(400 * time.Millisecond)
	pprof.StopCPUProfile()
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	shares, err := profileShares(t.Context(), exe, []string{f}, []costCentre{{"burn", ".burnHashing"}, {"none", "no.such.function"}})
	if err != nil {
		t.Fatal(err)
	}
	if shares[0] < 50 || shares[1] != 0 {
		t.Fatalf("shares %v: want most samples in burnHashing and none in a missing function", shares)
	}
}

//go:noinline
func burnChecksums(d time.Duration) (sum uint32) {
	buf := make([]byte, 4096)
	for end := time.Now().Add(d); time.Now().Before(end); {
		sum ^= crc32.ChecksumIEEE(buf)
		buf[0] = byte(sum)
	}
	return sum
}

// cpuProfile writes a CPU profile of burn to a file in dir.
func cpuProfile(t *testing.T, dir, name string, burn func()) string {
	t.Helper()
	f := filepath.Join(dir, name)
	out, err := os.Create(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		t.Skipf("CPU profiling unavailable: %v", err)
	}
	burn()
	pprof.StopCPUProfile()
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// Profiles of several rounds are read together: each centre's share is of
// the samples of all of them.
func TestProfileSharesPoolsRounds(t *testing.T) {
	dir := t.TempDir()
	a := cpuProfile(t, dir, "a.pprof", func() { burnHashing(400 * time.Millisecond) })
	b := cpuProfile(t, dir, "b.pprof", func() { burnChecksums(400 * time.Millisecond) })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	centres := []costCentre{{"hash", ".burnHashing"}, {"crc", ".burnChecksums"}}
	shares, err := profileShares(t.Context(), exe, []string{a, b}, centres)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range shares {
		if s < 20 || s > 80 {
			t.Fatalf("pooled shares %v: want each burn near half of the samples (centre %d)", shares, i)
		}
	}
	only, err := profileShares(t.Context(), exe, []string{a}, centres)
	if err != nil {
		t.Fatal(err)
	}
	if only[0] < 50 || only[1] != 0 {
		t.Fatalf("one round's shares %v", only)
	}
}

// TestSumCounters: the audit-denied count is read from stepgate's metrics
// exposition, comments and other metrics ignored.
func TestSumCounters(t *testing.T) {
	text := `# HELP stepgate_audit_refused_total Async audit writes refused.
# TYPE stepgate_audit_refused_total counter
stepgate_audit_refused_total 130280
stepgate_audit_queue_full_total 20
stepgate_audit_queue_depth 9000
stepgate_audit_sync_failed_total 1.5e+01
`
	if got := sumCounters(text, auditDeniedMetrics); got != 130315 {
		t.Errorf("sumCounters = %d, want 130315", got)
	}
}
