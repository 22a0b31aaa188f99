package adminhttp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/adminhttp"
)

// TestJournalBacklogIsShown: with an audit journal, the dashboard and the
// audit search say how far this replica's records are indexed for search,
// and how many durable records are not yet searchable.
func TestJournalBacklogIsShown(t *testing.T) {
	indexedAt := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	backlog := int64(0)
	e := newEnv(t, func(c *adminhttp.Config) {
		c.AuditQueue = func() admin.QueueStats {
			return admin.QueueStats{Mode: "sync", Capacity: 10, Journal: true, Journaled: 120 + backlog, Indexed: 120,
				Backlog: backlog, IndexedAt: indexedAt}
		}
	})
	b := e.browser()
	b.signIn()
	for _, tc := range []struct {
		backlog int64
		want    []string
		absent  string
	}{
		{0, []string{"indexed for search up to 120"}, "not yet searchable"},
		{7, []string{"indexed for search up to 120", "7 not yet searchable"}, ""},
	} {
		backlog = tc.backlog
		dash := b.get("/").Body
		i := strings.Index(dash, `id="audit-journal"`)
		if i < 0 {
			t.Fatalf("backlog %d: the dashboard does not show the journal", tc.backlog)
		}
		line := dash[i:min(len(dash), i+400)]
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("backlog %d: dashboard journal line %q lacks %q", tc.backlog, line, w)
			}
		}
		if tc.absent != "" && strings.Contains(line, tc.absent) {
			t.Errorf("backlog %d: dashboard journal line %q says %q", tc.backlog, line, tc.absent)
		}
		r := b.get("/audit")
		if r.Code != http.StatusOK {
			t.Fatalf("audit search: %d", r.Code)
		}
		page := r.Body
		j := strings.Index(page, `id="indexed-up-to"`)
		if j < 0 {
			t.Fatalf("backlog %d: the audit search does not say how far records are indexed", tc.backlog)
		}
		note := page[j:min(len(page), j+400)]
		if !strings.Contains(note, "up to journal entry 120") || (tc.backlog > 0) != strings.Contains(note, "7 newer records are durable but not yet searchable") {
			t.Errorf("backlog %d: audit search note %q", tc.backlog, note)
		}
	}
}
