package journal

import (
	"bytes"
	"testing"
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
