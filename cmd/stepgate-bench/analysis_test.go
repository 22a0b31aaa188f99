package main

import (
	"crypto/sha256"
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
	shares, err := profileShares(t.Context(), exe, f, []costCentre{{"burn", ".burnHashing"}, {"none", "no.such.function"}})
	if err != nil {
		t.Fatal(err)
	}
	if shares[0] < 50 || shares[1] != 0 {
		t.Fatalf("shares %v: want most samples in burnHashing and none in a missing function", shares)
	}
}
