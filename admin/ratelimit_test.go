package admin

import (
	"testing"
	"time"
)

type limiterClock struct{ t time.Time }

func (c *limiterClock) now() time.Time { return c.t }

func TestLoginLimiter(t *testing.T) {
	const (
		attacker = "198.51.100.7"
		adminIP  = "192.0.2.10"
	)
	newLimiter := func() (*LoginLimiter, *limiterClock) {
		clk := &limiterClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
		return NewLoginLimiter(5, time.Minute, clk.now), clk
	}
	// hammer fails n times from addr as fast as the limiter lets it.
	hammer := func(l *LoginLimiter, addr string, n int) (tried int) {
		for range n {
			if ok, _ := l.Allow(addr, "admin"); !ok {
				continue
			}
			l.Failed(addr, "admin")
			tried++
		}
		return tried
	}

	t.Run("one address is limited to the burst, then one a minute", func(t *testing.T) {
		l, clk := newLimiter()
		if got := hammer(l, attacker, 100); got != 5 {
			t.Fatalf("%d attempts went through, want 5", got)
		}
		clk.t = clk.t.Add(time.Minute)
		if got := hammer(l, attacker, 100); got != 1 {
			t.Fatalf("a minute later %d attempts went through, want 1", got)
		}
	})

	t.Run("an attacker at one address does not lock the admin out elsewhere", func(t *testing.T) {
		l, clk := newLimiter()
		for range 60 { // an hour of hammering, one attempt a minute
			hammer(l, attacker, 100)
			clk.t = clk.t.Add(time.Minute)
			hammer(l, attacker, 100)
		}
		if ok, wait := l.Allow(adminIP, "admin"); !ok {
			t.Fatalf("the admin's clean address must wait %s", wait)
		}
		l.Succeeded(adminIP, "admin")
		// Known now: a typo and a retry still go through during the attack.
		l.Failed(adminIP, "admin")
		hammer(l, attacker, 100)
		if ok, wait := l.Allow(adminIP, "admin"); !ok {
			t.Fatalf("after a typo the admin's known address must wait %s", wait)
		}
	})

	t.Run("guesses from many addresses drain the account", func(t *testing.T) {
		l, _ := newLimiter()
		for i := range 5 {
			hammer(l, "203.0.113."+string(rune('1'+i)), 1)
		}
		// A fresh address gets its first attempt, a failed one no second.
		if ok, _ := l.Allow("203.0.113.200", "admin"); !ok {
			t.Fatal("a fresh address was refused its first attempt")
		}
		l.Failed("203.0.113.200", "admin")
		if ok, _ := l.Allow("203.0.113.200", "admin"); ok {
			t.Fatal("an address that failed was let past a drained account limit")
		}
		if ok, _ := l.Allow("203.0.113.1", "admin"); ok {
			t.Fatal("an address that failed was let past a drained account limit")
		}
	})

	t.Run("an IPv6 client counts as its /64", func(t *testing.T) {
		l, _ := newLimiter()
		for i := range 5 {
			l.Failed("2001:db8:1:2::"+string(rune('a'+i)), "nobody")
		}
		if ok, _ := l.Allow("2001:db8:1:2:ffff::1", "someone"); ok {
			t.Fatal("another address of the same /64 was not limited")
		}
		if ok, _ := l.Allow("2001:db8:1:3::1", "someone"); !ok {
			t.Fatal("another /64 was limited")
		}
	})
}
