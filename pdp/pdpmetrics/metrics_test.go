package pdpmetrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stepgate/stepgate/pdp/ciba/enrollment"
	"github.com/stepgate/stepgate/pdp/pdpmetrics"
)

var _ enrollment.Observer = (*pdpmetrics.Metrics)(nil)

func TestEnrollmentMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := pdpmetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveEnrollmentLookup("auth0", "capable", 20*time.Millisecond)
	m.ObserveEnrollmentLookup("auth0", "error", time.Second)
	m.ObserveEnrollmentCache("auth0", "hit")
	m.ObserveEnrollmentCache("auth0", "hit")
	m.ObserveEnrollmentCache("auth0", "miss")
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range metric.GetLabel() {
				key += "/" + l.GetValue()
			}
			if h := metric.GetHistogram(); h != nil {
				got[key] = float64(h.GetSampleCount())
			} else {
				got[key] = metric.GetCounter().GetValue()
			}
		}
	}
	for key, want := range map[string]float64{
		"stepgate_ciba_enrollment_lookups_total/capable/auth0":   1,
		"stepgate_ciba_enrollment_lookups_total/error/auth0":     1,
		"stepgate_ciba_enrollment_lookup_duration_seconds/auth0": 2,
		"stepgate_ciba_enrollment_checks_total/hit/auth0":        2,
		"stepgate_ciba_enrollment_checks_total/miss/auth0":       1,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v (all: %v)", key, got[key], want, got)
		}
	}
}
