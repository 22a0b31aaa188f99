package conformance

import (
	"testing"

	"github.com/stepgate/stepgate/storage"
)

func savedSearchTests() []subTest {
	return []subTest{
		{"SavedSearches", testSavedSearches},
	}
}

func testSavedSearches(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	alice, bob := "https://idp.example/|alice", "admin"
	save := func(owner, name, query string) storage.SavedSearch {
		t.Helper()
		got, err := s.SaveSearch(ctx, storage.SavedSearch{Owner: owner, Name: name, Query: query, CreatedAt: baseTime()})
		mustNoErr(t, err, "save "+name)
		if got.ID <= 0 || got.Owner != owner || got.Name != name || got.Query != query {
			t.Errorf("saved = %+v", got)
		}
		sameTime(t, got.CreatedAt, baseTime(), "CreatedAt")
		return got
	}
	pay := save(alice, "payments without MFA", "action=billing.pay&mfa=no")
	save(alice, "denied today", "outcome=deny&range=24h")
	theirs := save(bob, "payments without MFA", "action=billing.pay")

	list, err := s.ListSavedSearches(ctx, alice)
	mustNoErr(t, err, "list alice's")
	if len(list) != 2 || list[0].Name != "denied today" || list[1].ID != pay.ID || list[1].Query != pay.Query {
		t.Errorf("alice's searches = %+v, want two ordered by name", list)
	}
	list, err = s.ListSavedSearches(ctx, "nobody")
	mustNoErr(t, err, "list nobody's")
	if len(list) != 0 {
		t.Errorf("nobody's searches = %+v", list)
	}

	_, err = s.SaveSearch(ctx, storage.SavedSearch{Owner: alice, Name: "denied today", Query: "x=1"})
	wantErr(t, err, storage.ErrAlreadyExists, "a second search of the same name")
	for _, bad := range []storage.SavedSearch{{Name: "n", Query: "q"}, {Owner: alice, Query: "q"}, {Owner: alice, Name: "n"}} {
		_, err = s.SaveSearch(ctx, bad)
		wantErr(t, err, storage.ErrInvalid, "save an incomplete search")
	}

	wantErr(t, s.DeleteSavedSearch(ctx, alice, theirs.ID), storage.ErrNotFound, "delete another person's search")
	mustNoErr(t, s.DeleteSavedSearch(ctx, alice, pay.ID), "delete")
	wantErr(t, s.DeleteSavedSearch(ctx, alice, pay.ID), storage.ErrNotFound, "delete twice")
	list, err = s.ListSavedSearches(ctx, bob)
	mustNoErr(t, err, "list bob's")
	if len(list) != 1 || list[0].ID != theirs.ID {
		t.Errorf("bob's searches = %+v, want his one left", list)
	}
}
