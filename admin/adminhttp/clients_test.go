package adminhttp_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var keyRE = regexp.MustCompile(`sgk_[A-Za-z0-9_-]+`)

// clientEnv is an env with the real decision API and a signed-in admin.
func clientEnv(t *testing.T) (*env, *decisionAPI, *browser) {
	t.Helper()
	var api decisionAPI
	e := newEnv(t, withDecisionAPI(t, &api))
	b := e.browser()
	b.signIn()
	return e, &api, b
}

// createClient creates billing-svc through the UI and returns its key.
func createClient(t *testing.T, b *browser) string {
	t.Helper()
	b.get("/clients/new")
	r := b.post("/clients", url.Values{"id": {"billing-svc"}, "name": {"Billing"}, "assert_claims": {"on"},
		"return_to": {"https://billing.example/\r\nhttps://shop.example/pay/"}, "reason": {"CHG-1 onboard billing"}})
	return keyAfterRedirect(t, b, r, "/clients/billing-svc")
}

// keyAfterRedirect follows the post/redirect/get of a key change: the POST
// answers 303 without the key, the client page shows it once.
func keyAfterRedirect(t *testing.T, b *browser, r response, page string) string {
	t.Helper()
	if r.Code != http.StatusSeeOther || r.Location != page {
		t.Fatalf("key change: %d → %q, want 303 to %s\n%s", r.Code, r.Location, page, r.Body)
	}
	if keyRE.MatchString(r.Body) {
		t.Fatal("the POST response carries the key")
	}
	shown := b.get(page)
	key := keyRE.FindString(shown.Body)
	if shown.Code != http.StatusOK || key == "" {
		t.Fatalf("the client page after the key change does not show the key: %d\n%s", shown.Code, shown.Body)
	}
	if again := b.get(page); keyRE.MatchString(again.Body) {
		t.Fatal("reloading the client page shows the key again")
	}
	return key
}

// decideAs makes one decision with key and returns the HTTP status.
func decideAs(api *decisionAPI, e *env, key string) int {
	code, _ := api.decide(key, claimsRequest("alice", "billing.view", []string{"pwd", "mfa"}, e.clock.Now().Add(-time.Minute), nil))
	return code
}

func TestClientCreateShowsTheKeyOnce(t *testing.T) {
	e, api, b := clientEnv(t)
	key := createClient(t, b)
	if code := decideAs(api, e, key); code != http.StatusOK {
		t.Fatalf("decision with the new key: %d", code)
	}
	for _, p := range []string{"/clients/billing-svc", "/clients", "/audit/admin", "/audit/export?format=ndjson"} {
		if r := b.get(p); strings.Contains(r.Body, key) || strings.Contains(r.Body, strings.TrimPrefix(key, "sgk_")) {
			t.Errorf("GET %s shows the key again", p)
		}
	}
	cl, err := e.store.GetClient(context.Background(), "billing-svc")
	if err != nil {
		t.Fatal(err)
	}
	if !cl.AssertClaims || !slices.Equal(cl.ReturnTo, []string{"https://billing.example/", "https://shop.example/pay/"}) || cl.Name != "Billing" {
		t.Fatalf("stored client %+v, want assert_claims and both return_to prefixes", cl)
	}
	mustContain(t, b.get("/clients"), `href="/clients/billing-svc"`, "active")
}

func TestClientFormKeepsInputAfterErrors(t *testing.T) {
	tests := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"bad id", url.Values{"id": {"Billing Svc!"}, "return_to": {"https://ok.example/"}}, "lower-case letters"},
		{"relative return_to", url.Values{"id": {"svc"}, "return_to": {"/relative"}}, "absolute http(s) URL"},
		{"return_to with credentials", url.Values{"id": {"svc"}, "return_to": {"https://u:p@evil.example/"}}, "absolute http(s) URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, b := clientEnv(t)
			b.get("/clients/new")
			tc.form.Set("name", "Kept name")
			r := b.post("/clients", tc.form)
			if r.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", r.Code)
			}
			mustContain(t, r, tc.field, `value="Kept name"`, "Please fix the marked fields")
			if keyRE.MatchString(r.Body) {
				t.Fatal("a key was shown for an invalid client")
			}
			if list, _ := e.store.ListClients(context.Background()); len(list) != 0 {
				t.Fatalf("invalid client stored: %+v", list)
			}
		})
	}
}

func TestClientDuplicateID(t *testing.T) {
	_, _, b := clientEnv(t)
	createClient(t, b)
	b.get("/clients/new")
	r := b.post("/clients", url.Values{"id": {"billing-svc"}, "reason": {"CHG-9"}})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate id: %d, want 422", r.Code)
	}
	mustContain(t, r, "already exists")
}

func TestClientUpdateSavesAllowlist(t *testing.T) {
	e, _, b := clientEnv(t)
	createClient(t, b)
	b.get("/clients/billing-svc")
	r := b.post("/clients/billing-svc", url.Values{"name": {"Billing v2"}, "return_to": {"https://new.example/"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("update: %d\n%s", r.Code, r.Body)
	}
	cl, _ := e.store.GetClient(context.Background(), "billing-svc")
	if cl.AssertClaims || cl.Name != "Billing v2" || !slices.Equal(cl.ReturnTo, []string{"https://new.example/"}) {
		t.Fatalf("after update: %+v", cl)
	}
	mustContain(t, b.get("/clients/billing-svc"), "Saved client billing-svc.", "https://new.example/")
}

// TestClientRotateAndRevoke checks the keys at the decision API, whose
// authenticator caches keys for an hour: only OnClientChange makes a
// rotated or revoked key stop working at once.
func TestClientRotateAndRevoke(t *testing.T) {
	e, api, b := clientEnv(t)
	old := createClient(t, b)
	if code := decideAs(api, e, old); code != http.StatusOK {
		t.Fatalf("decision with the first key: %d", code)
	}
	b.get("/clients/billing-svc")
	r := b.post("/clients/billing-svc/rotate", url.Values{"reason": {"CHG-2 leaked"}, "grace": {"0s"}})
	fresh := keyAfterRedirect(t, b, r, "/clients/billing-svc")
	if fresh == old {
		t.Fatal("rotation kept the key")
	}
	if code := decideAs(api, e, old); code != http.StatusUnauthorized {
		t.Errorf("old key after rotation without grace: %d, want 401", code)
	}
	if code := decideAs(api, e, fresh); code != http.StatusOK {
		t.Errorf("new key after rotation: %d, want 200", code)
	}
	mustContain(t, b.get("/clients/billing-svc"), "none — only the current key is accepted")

	r = b.post("/clients/billing-svc/revoke", url.Values{"reason": {"INC-9 compromised"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Code)
	}
	if code := decideAs(api, e, fresh); code != http.StatusUnauthorized {
		t.Errorf("revoked key: %d, want 401", code)
	}
	mustContain(t, b.get("/clients/billing-svc"), "revoked", "Revoked the key of billing-svc")
	mustContain(t, b.get("/audit/admin"), "client.create", "client.rotate", "client.revoke", "CHG-2 leaked", "INC-9 compromised")
}

// TestClientRotationOverlap: with a grace period both keys work until it
// ends, the page says until when, and then the old key is refused, even
// from the authenticator's cache.
func TestClientRotationOverlap(t *testing.T) {
	e, api, b := clientEnv(t)
	old := createClient(t, b)
	if code := decideAs(api, e, old); code != http.StatusOK {
		t.Fatalf("decision with the first key: %d", code)
	}
	b.get("/clients/billing-svc")
	r := b.post("/clients/billing-svc/rotate", url.Values{"reason": {"CHG-3 yearly"}, "grace": {"1h0m0s"}})
	fresh := keyAfterRedirect(t, b, r, "/clients/billing-svc")
	until := e.clock.Now().Add(time.Hour).UTC().Format("2006-01-02 15:04:05")
	for _, k := range []string{old, fresh} {
		if code := decideAs(api, e, k); code != http.StatusOK {
			t.Errorf("key %s… within the overlap: %d, want 200", k[:8], code)
		}
	}
	mustContain(t, b.get("/clients/billing-svc"), "still accepted until", until, "Refuse previous key")
	e.clock.Advance(59 * time.Minute)
	if code := decideAs(api, e, old); code != http.StatusOK {
		t.Errorf("old key a minute before the overlap ends: %d, want 200", code)
	}
	e.clock.Advance(time.Minute)
	if code := decideAs(api, e, old); code != http.StatusUnauthorized {
		t.Errorf("old key when the overlap ended: %d, want 401", code)
	}
	if code := decideAs(api, e, fresh); code != http.StatusOK {
		t.Errorf("new key after the overlap: %d, want 200", code)
	}
	b.signIn() // the hour outlasted the admin session
	mustContain(t, b.get("/clients/billing-svc"), "refused since "+until)
}

func TestClientEndOverlapAndReasons(t *testing.T) {
	e, api, b := clientEnv(t)
	old := createClient(t, b)
	b.get("/clients/billing-svc")
	before, _ := e.store.GetClient(context.Background(), "billing-svc")
	for _, tc := range []struct {
		path string
		form url.Values
		want string
	}{
		{"/clients/billing-svc/rotate", url.Values{"grace": {"24h0m0s"}}, `id="rotate-reason-error"`},
		{"/clients/billing-svc/rotate", url.Values{"reason": {"x"}, "grace": {"forever"}}, `id="rotate-grace-error"`},
		{"/clients/billing-svc/rotate", url.Values{"reason": {"x"}, "grace": {"900h"}}, `id="rotate-grace-error"`},
		{"/clients/billing-svc/revoke", url.Values{"reason": {"  "}}, `id="revoke-reason-error"`},
	} {
		r := b.post(tc.path, tc.form)
		if r.Code != http.StatusUnprocessableEntity {
			t.Errorf("POST %s %v: %d, want 422", tc.path, tc.form, r.Code)
		}
		mustContain(t, r, tc.want, `aria-invalid="true"`)
	}
	if after, _ := e.store.GetClient(context.Background(), "billing-svc"); after.KeyHash != before.KeyHash || after.Disabled {
		t.Fatalf("a refused key change changed the client: %+v", after)
	}

	keyAfterRedirect(t, b, b.post("/clients/billing-svc/rotate", url.Values{"reason": {"CHG-4"}, "grace": {"24h0m0s"}}), "/clients/billing-svc")
	if code := decideAs(api, e, old); code != http.StatusOK {
		t.Fatalf("old key in the overlap: %d", code)
	}
	r := b.post("/clients/billing-svc/end-overlap", url.Values{})
	mustContain(t, r, `id="end-reason-error"`)
	r = b.post("/clients/billing-svc/end-overlap", url.Values{"reason": {"all callers moved"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("end overlap: %d", r.Code)
	}
	if code := decideAs(api, e, old); code != http.StatusUnauthorized {
		t.Errorf("old key after ending the overlap: %d, want 401", code)
	}
	mustContain(t, b.get("/audit/admin"), "client.end_overlap", "all callers moved")
}

// TestClientLastUsed: the page shows when each key was last used, as
// the decision API's authenticator flushed it.
func TestClientLastUsedShown(t *testing.T) {
	e, api, b := clientEnv(t)
	key := createClient(t, b)
	mustContain(t, b.get("/clients/billing-svc"), `id="key-last-used">never`)
	if code := decideAs(api, e, key); code != http.StatusOK {
		t.Fatal(code)
	}
	if err := api.flushUse(t); err != nil {
		t.Fatal(err)
	}
	used := e.clock.Now().UTC().Format("2006-01-02 15:04:05")
	mustContain(t, b.get("/clients/billing-svc"), `id="key-last-used">`+used)
	mustContain(t, b.get("/clients"), used)
}

// TestClientKeyNeedsRecentSignIn: creating or rotating a key is a
// sensitive action that stepgate's own policy decides (sign-in within 15
// minutes); an older sign-in is sent to confirm the password first.
func TestClientKeyNeedsRecentSignIn(t *testing.T) {
	e, api, b := clientEnv(t)
	e.clock.Advance(20 * time.Minute)
	b.get("/clients/new")
	r := b.post("/clients", url.Values{"id": {"late-svc"}, "name": {"Late"}, "reason": {"CHG-5"}})
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/auth/reauth?") {
		t.Fatalf("create with a 20-minute-old sign-in: %d → %q, want re-authentication", r.Code, r.Location)
	}
	if _, err := e.store.GetClient(context.Background(), "late-svc"); err == nil {
		t.Fatal("the client was created before re-authentication")
	}
	b.get(r.Location)
	back, _ := url.Parse(r.Location)
	r = b.post("/auth/reauth", url.Values{"password": {testPassword}, "return_to": {back.Query().Get("return_to")}})
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/clients/new?") {
		t.Fatalf("re-authentication: %d → %q", r.Code, r.Location)
	}
	mustContain(t, b.get(r.Location), `value="late-svc"`, `value="Late"`, `value="CHG-5"`) // the form kept what was typed
	key := keyAfterRedirect(t, b, b.post("/clients", url.Values{"id": {"late-svc"}, "assert_claims": {"on"}, "reason": {"CHG-5"}}), "/clients/late-svc")
	if code, _ := api.decide(key, claimsRequest("a", "billing.view", []string{"mfa"}, e.clock.Now(), nil)); code != http.StatusOK {
		t.Fatalf("decision with the key created after re-authentication: %d", code)
	}
}
