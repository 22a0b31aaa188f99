package conformance

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// testConcurrentStartOffer races replicas starting one CIBA offer: a
// decision may be answered by any replica, but only one may start the
// backchannel request it offered.
func testConcurrentStartOffer(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	for round := range 5 {
		id := fmt.Sprintf("o-%d", round)
		mustNoErr(t, s.SaveCIBAOffer(ctx, newOffer(id, "d-"+id)), "save offer")
		errs := race(12, func(int) error {
			_, err := s.StartCIBAOffer(ctx, id, baseTime())
			return err
		})
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, storage.ErrUsed):
				t.Errorf("round %d: loser got %v, want ErrUsed", round, err)
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d starts won, want exactly 1", round, wins)
		}
	}
}

// testConcurrentLease races replicas leasing one free CIBA request: the
// lease is what keeps two pollers from settling the same login twice.
func testConcurrentLease(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	for round := range 5 {
		id := fmt.Sprintf("r-%d", round)
		r := newCIBARequest(id, baseTime())
		r.LeaseOwner, r.LeaseUntil = "", time.Time{}
		mustNoErr(t, s.SaveCIBARequest(ctx, r), "save request")
		won := make([]bool, 16)
		errs := race(len(won), func(i int) error {
			ok, err := s.TryLeaseCIBARequest(ctx, id, fmt.Sprintf("owner-%d", i), baseTime(), baseTime().Add(time.Minute))
			won[i] = ok
			return err
		})
		wins, winner := 0, ""
		for i, err := range errs {
			mustNoErr(t, err, "lease")
			if won[i] {
				wins, winner = wins+1, fmt.Sprintf("owner-%d", i)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d leases won, want exactly 1", round, wins)
		}
		if got := mustGetCIBARequest(t, s, id); got.LeaseOwner != winner {
			t.Errorf("round %d: lease owner %q, want the winner %q", round, got.LeaseOwner, winner)
		}
	}
}
