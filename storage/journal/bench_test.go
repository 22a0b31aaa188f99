package journal

import (
	"bytes"
	"fmt"
	"syscall"
	"testing"
	"time"
)

func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name   string
		noSync bool
	}{{"nosync", true}, {"sync", false}} {
		b.Run(bc.name, func(b *testing.B) {
			const batch = 16
			j := openT(b, b.TempDir(), Options{NoSync: bc.noSync})
			es := make([][]byte, batch)
			for i := range es {
				es[i] = bytes.Repeat([]byte{'x'}, 600)
			}
			b.SetBytes(batch * 600)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := j.Append(es); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/entry")
		})
	}
}

func BenchmarkReadFrom(b *testing.B) {
	j := openT(b, b.TempDir(), Options{NoSync: true, SegmentSize: 4 << 20})
	es := make([][]byte, 16)
	for i := range es {
		es[i] = bytes.Repeat([]byte{'x'}, 600)
	}
	for range 1000 {
		if _, _, err := j.Append(es); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := j.ReadFrom(1, func(uint64, []byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*16000), "ns/entry")
}

// BenchmarkAppendCost reports, for synced batches of 1 and 16 entries of 600
// bytes, the process CPU (user+system, from getrusage) per entry and the
// wall-clock latency per Append. Segments are the default size, so the
// numbers include rotation (and segment preallocation) at their real rate.
func BenchmarkAppendCost(b *testing.B) {
	for _, batch := range []int{1, 16} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			j := openT(b, b.TempDir(), Options{})
			es := make([][]byte, batch)
			for i := range es {
				es[i] = bytes.Repeat([]byte{'x'}, 600)
			}
			b.SetBytes(int64(batch * 600))
			cpu0 := cpuTime(b)
			for b.Loop() {
				if _, _, err := j.Append(es); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuTime(b) - cpu0
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch), "cpu-ns/entry")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "µs/append")
		})
	}
}

func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
