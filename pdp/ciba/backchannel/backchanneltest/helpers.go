package backchanneltest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
)

func mustDo(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustGet(t testing.TB, s backchannel.Store, id string) backchannel.Record {
	t.Helper()
	r, err := s.GetRequest(t.Context(), id)
	mustDo(t, "get "+id, err)
	return r
}

func idsOf(rs []backchannel.Record) []string {
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// sameRecord compares field by field, times by instant (a database may hand
// them back in another location) and Claims as bytes.
func sameRecord(got, want backchannel.Record) error {
	times := [][2]time.Time{
		{got.NextPollAt, want.NextPollAt}, {got.ExpiresAt, want.ExpiresAt}, {got.LeaseUntil, want.LeaseUntil},
		{got.CreatedAt, want.CreatedAt}, {got.UpdatedAt, want.UpdatedAt},
	}
	for i, p := range times {
		if !p[0].Equal(p[1]) {
			return fmt.Errorf("time field %d = %v, want %v", i, p[0], p[1])
		}
	}
	if !bytes.Equal(got.Claims, want.Claims) {
		return fmt.Errorf("claims = %s, want %s", got.Claims, want.Claims)
	}
	g, w := got, want
	g.NextPollAt, g.ExpiresAt, g.LeaseUntil, g.CreatedAt, g.UpdatedAt, g.Claims = w.NextPollAt, w.ExpiresAt, w.LeaseUntil, w.CreatedAt, w.UpdatedAt, nil
	w.Claims = nil
	if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) {
		return fmt.Errorf("record = %+v, want %+v", got, want)
	}
	return nil
}
