package conformance

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// testCIBASweep checks DeleteCIBABefore: old ended requests and old offers
// no request refers to go; a pending request, however old, and its offer
// stay, so that a sweep never cuts a login short.
func testCIBASweep(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	old := baseTime().Add(-2 * time.Hour)
	request := func(id, status string, created time.Time) {
		r := newCIBARequest(id, created)
		r.Status, r.CreatedAt = status, created
		mustNoErr(t, s.SaveCIBARequest(ctx, r), "save request "+id)
	}
	offer := func(id string, created time.Time) {
		o := newOffer(id, "dec-"+id)
		o.CreatedAt = created
		mustNoErr(t, s.SaveCIBAOffer(ctx, o), "save offer "+id)
	}
	request("pending-old", "pending", old)
	request("ended-old", "denied", old)
	request("ended-new", "approved", baseTime())
	offer("pending-old", old)
	offer("lone-old", old)
	offer("lone-new", baseTime())

	n, err := s.DeleteCIBABefore(ctx, baseTime().Add(-time.Hour))
	mustNoErr(t, err, "sweep")
	if n != 2 {
		t.Errorf("sweep removed %d rows, want 2 (the old ended request and the old lone offer)", n)
	}
	for id, alive := range map[string]bool{"pending-old": true, "ended-old": false, "ended-new": true} {
		_, err := s.GetCIBARequest(ctx, id)
		if alive != (err == nil) {
			t.Errorf("request %s after sweep: %v, alive want %v", id, err, alive)
		}
	}
	for id, alive := range map[string]bool{"pending-old": true, "lone-old": false, "lone-new": true} {
		_, err := s.GetCIBAOffer(ctx, id)
		if alive != (err == nil) {
			t.Errorf("offer %s after sweep: %v, alive want %v", id, err, alive)
		}
	}
}
