//go:build unix

package flowtest

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/flow"
)

// TestCIBAApprovalThatCannotBeRecordedDoesNotCount: the user approves on
// the device, but the approval's audit record cannot be written. The
// request ends as an error, never as an approval nobody can audit, and the
// app reading its status is not told it was approved.
func TestCIBAApprovalThatCannotBeRecordedDoesNotCount(t *testing.T) {
	m := newMintedEnv(t)
	(&scriptedIdP{polls: []string{""}}).install(m)
	e := m.e
	d := callCentre(t, e, m.login(t, time.Minute, "idp-sid-1"))
	st := e.startCIBA(t, d.ID)
	e.flows.mu.Lock()
	e.flows.fail = func(ev flow.Event) error {
		if ev.Outcome == "approved" {
			return errors.New("disk full")
		}
		return nil
	}
	e.flows.mu.Unlock()
	got := e.poll(t, e.runner, time.Second, st.ID)
	for range 2 {
		got = e.poll(t, e.runner, time.Second, st.ID)
	}
	if got.Status != "error" {
		t.Fatalf("status %+v, want error: an unrecorded approval must not count", got)
	}
	var read cibaStatus
	if code := e.call(t, http.MethodGet, "/v1/ciba/"+st.ID, clientKey, nil, &read); code != http.StatusOK || read.Status != "error" {
		t.Fatalf("the app reads %d %+v, want the error", code, read)
	}
	evs := wantTrail(t, e, d.ID, st.ID, "started", "error")
	if evs[1].Code != ciba.CodeUnrecorded {
		t.Fatalf("error record %+v, want code %s", evs[1], ciba.CodeUnrecorded)
	}
}
