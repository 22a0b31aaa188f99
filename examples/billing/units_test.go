package main

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		name, in string
		want     int64
		wantErr  bool
	}{
		{"whole euros", "120", 12000, false},
		{"cents", "120.05", 12005, false},
		{"one decimal means tens of cents", "15.5", 1550, false},
		{"surrounding space", " 7.00 ", 700, false},
		{"zero", "0.00", 0, true},
		{"comma decimal", "12,00", 0, true},
		{"three decimals", "1.001", 0, true},
		{"negative", "-5", 0, true},
		{"too large", "12345678", 0, true},
		{"empty", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAmount(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseAmount(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// clock is a settable time for the in-memory stores.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestSessionExpiry(t *testing.T) {
	tests := []struct {
		name        string
		tokenExpiry time.Duration // from now; 0 = none
		after       time.Duration
		want        bool
	}{
		{"fresh", 0, time.Minute, true},
		{"past the session TTL", 0, 8*time.Hour + time.Second, false},
		{"the access token expired first", time.Hour, time.Hour, false},
		{"before the access token expires", time.Hour, 59 * time.Minute, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{now: time.Unix(1_700_000_000, 0)}
			st := newSessionStore(c.Now, 8*time.Hour)
			var exp time.Time
			if tc.tokenExpiry > 0 {
				exp = c.Now().Add(tc.tokenExpiry)
			}
			s, err := st.create("alice", "alice@example.test", "token", nil, exp)
			if err != nil {
				t.Fatal(err)
			}
			if s.id == s.key || len(s.key) < 40 {
				t.Fatalf("session id %q and key %q: want a distinct, long secret key", s.id, s.key)
			}
			c.Advance(tc.after)
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", sessionCookie+"="+s.key)
			if got := st.get(r) != nil; got != tc.want {
				t.Fatalf("session present = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoginStoreTakesOnce(t *testing.T) {
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	ls := newLoginStore(c.Now)
	if err := ls.put("s1", pendingLogin{nonce: "n", verifier: "v", expires: c.Now().Add(loginTTL)}); err != nil {
		t.Fatal(err)
	}
	if err := ls.put("s2", pendingLogin{nonce: "n", verifier: "v", expires: c.Now().Add(loginTTL)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ls.take("s1"); !ok {
		t.Fatal("a fresh pending sign-in was not found")
	}
	if _, ok := ls.take("s1"); ok {
		t.Fatal("a pending sign-in was taken twice")
	}
	c.Advance(loginTTL)
	if _, ok := ls.take("s2"); ok {
		t.Fatal("an expired pending sign-in was accepted")
	}
	if _, ok := ls.take("unknown"); ok {
		t.Fatal("an unknown state was accepted")
	}
}

func TestSettlePayment(t *testing.T) {
	s := &session{sub: "alice"}
	tests := []struct {
		name       string
		st         stepgateclient.CIBAStatus
		wantStatus string
	}{
		{"approved by the customer", stepgateclient.CIBAStatus{Status: "approved", Claims: map[string]any{"sub": "alice", "auth_time": 1.7e9}}, "approved"},
		{"approved by someone else", stepgateclient.CIBAStatus{Status: "approved", Claims: map[string]any{"sub": "mallory"}}, "error"},
		{"still pending", stepgateclient.CIBAStatus{Status: "pending"}, "pending"},
		{"denied", stepgateclient.CIBAStatus{Status: "denied"}, "denied"},
		{"expired", stepgateclient.CIBAStatus{Status: "expired"}, "expired"},
		{"verification failed", stepgateclient.CIBAStatus{Status: "error", Error: "acr not met"}, "error"},
	}
	a := &App{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := a.settle(payment{ID: "c1", Status: "pending"}, s, &tc.st)
			if got.Status != tc.wantStatus {
				t.Fatalf("status %q (%s), want %q", got.Status, got.Detail, tc.wantStatus)
			}
			if got.Status == "approved" && got.ApprovedAt.IsZero() {
				t.Fatal("an approval without its time")
			}
		})
	}
}
