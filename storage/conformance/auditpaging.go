package conformance

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func auditPagingTests() []subTest {
	return []subTest{
		{"AuditSearchFoldedPrefix", testAuditSearchFoldedPrefix},
		{"AuditSearchBothOrders", testAuditSearchBothOrders},
		{"AuditSearchPagingBack", testAuditSearchPagingBack},
		{"AuditCount", testAuditCount},
	}
}

func testAuditSearchFoldedPrefix(t *testing.T, s storage.Store) {
	subjects := []string{"Alice", "alice@example.com", "ALIBABA", "bob", "a_b", "axb", "xalice", ""}
	actions := []string{"Billing.Pay", "billing.view", "profile.update", "BILLING.PAY", "billingpay", "shop.Billing", "x", "billing.view"}
	var recs []storage.AuditRecord
	for i := range subjects {
		r := decision("a", i)
		r.Subject, r.Action = subjects[i], actions[i]
		recs = append(recs, r)
	}
	appendAll(t, s, recs...)
	tests := []struct {
		name string
		q    storage.AuditQuery
		keep func(storage.AuditRecord) bool
	}{
		{"subject lower-case prefix", storage.AuditQuery{SubjectPrefix: "ali"}, hasFoldedPrefix(func(r storage.AuditRecord) string { return r.Subject }, "ali")},
		{"subject upper-case whole", storage.AuditQuery{SubjectPrefix: "ALICE"}, hasFoldedPrefix(func(r storage.AuditRecord) string { return r.Subject }, "alice")},
		{"subject exact value is its own prefix", storage.AuditQuery{SubjectPrefix: "alice@example.com"}, func(r storage.AuditRecord) bool { return r.Subject == "alice@example.com" }},
		{"underscore is no wildcard", storage.AuditQuery{SubjectPrefix: "a_"}, func(r storage.AuditRecord) bool { return r.Subject == "a_b" }},
		{"percent is no wildcard", storage.AuditQuery{SubjectPrefix: "%"}, func(storage.AuditRecord) bool { return false }},
		{"action prefix", storage.AuditQuery{ActionPrefix: "billing"}, hasFoldedPrefix(func(r storage.AuditRecord) string { return r.Action }, "billing")},
		{"action prefix with dot", storage.AuditQuery{ActionPrefix: "BILLING.p"}, hasFoldedPrefix(func(r storage.AuditRecord) string { return r.Action }, "billing.p")},
		{"both prefixes", storage.AuditQuery{SubjectPrefix: "al", ActionPrefix: "billing.v"}, func(r storage.AuditRecord) bool {
			return strings.HasPrefix(strings.ToLower(r.Subject), "al") && strings.HasPrefix(strings.ToLower(r.Action), "billing.v")
		}},
		{"prefix and exact filter", storage.AuditQuery{SubjectPrefix: "ali", ClientID: "shop"}, func(r storage.AuditRecord) bool {
			return strings.HasPrefix(strings.ToLower(r.Subject), "ali") && r.ClientID == "shop"
		}},
		{"no match", storage.AuditQuery{SubjectPrefix: "carol"}, func(storage.AuditRecord) bool { return false }},
		// Exact filters share the fold indexes but not their case rules.
		{"exact subject keeps case", storage.AuditQuery{Subject: "Alice"}, func(r storage.AuditRecord) bool { return r.Subject == "Alice" }},
		{"exact subject in other case", storage.AuditQuery{Subject: "alice"}, func(storage.AuditRecord) bool { return false }},
		{"exact action keeps case", storage.AuditQuery{Action: "BILLING.PAY"}, func(r storage.AuditRecord) bool { return r.Action == "BILLING.PAY" }},
		{"exact action and subject prefix", storage.AuditQuery{Action: "billing.view", SubjectPrefix: "ALI"}, func(r storage.AuditRecord) bool {
			return r.Action == "billing.view" && strings.HasPrefix(strings.ToLower(r.Subject), "ali")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.SearchAudit(ctxFor(t), tc.q)
			mustNoErr(t, err, "search")
			if want := newestFirst(recs, tc.keep); !slices.Equal(recordIDs(page.Records), want) {
				t.Errorf("ids = %v, want %v", recordIDs(page.Records), want)
			}
			n, err := s.CountAudit(ctxFor(t), tc.q, 100)
			mustNoErr(t, err, "count")
			if want := int64(len(newestFirst(recs, tc.keep))); n.N != want || n.More {
				t.Errorf("count = %+v, want %d exactly", n, want)
			}
		})
	}
}

func hasFoldedPrefix(field func(storage.AuditRecord) string, prefix string) func(storage.AuditRecord) bool {
	return func(r storage.AuditRecord) bool { return strings.HasPrefix(strings.ToLower(field(r)), prefix) }
}

func testAuditSearchBothOrders(t *testing.T, s storage.Store) {
	recs := searchFixture(t, s)
	for _, oldest := range []bool{false, true} {
		want := newestFirst(recs, func(storage.AuditRecord) bool { return true })
		if oldest {
			slices.Reverse(want)
		}
		var ids []int64
		q := storage.AuditQuery{Limit: 7, OldestFirst: oldest}
		for pages := 0; pages < 20; pages++ {
			page, err := s.SearchAudit(ctxFor(t), q)
			mustNoErr(t, err, "search page")
			ids = append(ids, recordIDs(page.Records)...)
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
		if !slices.Equal(ids, want) {
			t.Errorf("oldest first %v: paged ids = %v, want %v", oldest, ids, want)
		}
		var exported []int64
		mustNoErr(t, s.ExportAudit(ctxFor(t), storage.AuditQuery{OldestFirst: oldest}, func(r storage.AuditRecord) error {
			exported = append(exported, r.ID)
			return nil
		}), "export")
		if !slices.Equal(exported, want) {
			t.Errorf("oldest first %v: exported ids = %v, want %v", oldest, exported, want)
		}
	}
	page, err := s.SearchAudit(ctxFor(t), storage.AuditQuery{Limit: 5})
	mustNoErr(t, err, "newest first page")
	_, err = s.SearchAudit(ctxFor(t), storage.AuditQuery{Limit: 5, OldestFirst: true, Cursor: page.NextCursor})
	wantErr(t, err, storage.ErrInvalid, "an oldest-first search with a newest-first cursor")
}

// testAuditSearchPagingBack walks to the last page and back to the first
// with PrevCursor, in both orders and with a filter, seeing every page
// again exactly as it was.
func testAuditSearchPagingBack(t *testing.T, s storage.Store) {
	searchFixture(t, s)
	since := baseTime().Add(3 * time.Second)
	for _, q := range []storage.AuditQuery{
		{Limit: 6},
		{Limit: 6, OldestFirst: true},
		{Limit: 4, ClientID: "shop", Since: &since},
		{Limit: 5, OldestFirst: true, SubjectPrefix: "USER-1"},
	} {
		var forward [][]int64
		var nexts []string
		page, err := s.SearchAudit(ctxFor(t), q)
		mustNoErr(t, err, "first page")
		if page.PrevCursor != "" {
			t.Errorf("%+v: the first page has a previous cursor", q)
		}
		for len(forward) < 20 {
			forward = append(forward, recordIDs(page.Records))
			if page.NextCursor == "" {
				break
			}
			nexts = append(nexts, page.NextCursor)
			q.Cursor = page.NextCursor
			if page, err = s.SearchAudit(ctxFor(t), q); err != nil {
				t.Fatalf("next page: %v", err)
			}
		}
		if len(forward) < 3 {
			t.Fatalf("%+v: only %d pages; the fixture should give at least 3", q, len(forward))
		}
		for i := len(forward) - 1; i > 0; i-- {
			if page.PrevCursor == "" {
				t.Fatalf("%+v: page %d has no previous cursor", q, i)
			}
			q.Cursor = page.PrevCursor
			if page, err = s.SearchAudit(ctxFor(t), q); err != nil {
				t.Fatalf("previous page: %v", err)
			}
			if got := recordIDs(page.Records); !slices.Equal(got, forward[i-1]) {
				t.Errorf("%+v: back to page %d = %v, want %v", q, i-1, got, forward[i-1])
			}
			if page.NextCursor == "" {
				t.Errorf("%+v: page %d reached going back has no next cursor", q, i-1)
			}
		}
		if page.PrevCursor != "" {
			t.Errorf("%+v: back at the first page, a previous cursor remains", q)
		}
	}
}

func testAuditCount(t *testing.T, s storage.Store) {
	searchFixture(t, s)
	tests := []struct {
		name  string
		q     storage.AuditQuery
		bound int64
		want  storage.AuditCount
	}{
		{"all under the bound", storage.AuditQuery{}, 100, storage.AuditCount{N: 40}},
		{"all at the bound", storage.AuditQuery{}, 40, storage.AuditCount{N: 40}},
		{"more than the bound", storage.AuditQuery{}, 39, storage.AuditCount{N: 39, More: true}},
		{"filtered", storage.AuditQuery{ClientID: "shop"}, 100, storage.AuditCount{N: 20}},
		{"filtered above the bound", storage.AuditQuery{ClientID: "shop"}, 7, storage.AuditCount{N: 7, More: true}},
		{"limit and cursor ignored", storage.AuditQuery{Limit: 3, Outcome: "deny"}, 100, storage.AuditCount{N: 10}},
		{"none", storage.AuditQuery{Subject: "nobody"}, 100, storage.AuditCount{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.CountAudit(ctxFor(t), tc.q, tc.bound)
			mustNoErr(t, err, "count")
			if got != tc.want {
				t.Errorf("count = %+v, want %+v", got, tc.want)
			}
		})
	}
	_, err := s.CountAudit(ctxFor(t), storage.AuditQuery{}, 0)
	wantErr(t, err, storage.ErrInvalid, "count with a bound of 0")
}
