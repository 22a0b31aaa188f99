package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"
)

// Sign-in errors; their messages are shown to the person signing in.
var (
	// ErrBadCredentials means the user name or password is wrong. It does
	// not say which.
	ErrBadCredentials = errors.New("the user name or password is wrong")
	// ErrRateLimited means too many failed attempts; try again later.
	ErrRateLimited = errors.New("too many failed sign-in attempts")
)

// RateLimitError says how long to wait before the next attempt.
type RateLimitError struct{ Wait time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%v; try again in %d seconds", ErrRateLimited, int(e.Wait.Seconds())+1)
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// PasswordSignIn checks the bootstrap admin's password, rate limited per
// client address and per account (LoginLimiter), and records every attempt.
type PasswordSignIn struct {
	Settings SettingStore
	Limiter  *LoginLimiter
	// Recorder records sign-ins and failed attempts. Required.
	Recorder *Recorder
}

// Sign-in actions in the admin audit trail.
const (
	// ActionSignIn is a sign-in, successful or not.
	ActionSignIn = "admin.signin"
	// ActionReauth is a signed-in person authenticating again before a
	// sensitive action.
	ActionReauth = "admin.reauth"
	// ActionSignOut is a sign-out.
	ActionSignOut = "admin.signout"
)

// Check returns nil when user and password belong to the bootstrap admin.
// Every attempt is recorded; when the record of a successful one cannot be
// written, the sign-in fails.
func (p *PasswordSignIn) Check(ctx context.Context, remoteAddr, user, password string) error {
	return p.check(ctx, ActionSignIn, remoteAddr, user, password)
}

// Reauthenticate is Check for a signed-in person confirming the password
// before a sensitive action; it is recorded as such.
func (p *PasswordSignIn) Reauthenticate(ctx context.Context, remoteAddr, user, password string) error {
	return p.check(ctx, ActionReauth, remoteAddr, user, password)
}

func (p *PasswordSignIn) check(ctx context.Context, what, remoteAddr, user, password string) error {
	err := p.verify(ctx, remoteAddr, user, password)
	detail := map[string]any{"method": "password", "remote_addr": remoteAddr}
	switch {
	case err == nil:
		if rerr := p.Recorder.Event(ctx, LocalAdmin, what, OutcomeOK, "", detail); rerr != nil {
			return fmt.Errorf("sign-in could not be recorded: %w", rerr)
		}
		return nil
	case errors.Is(err, ErrBadCredentials), errors.Is(err, ErrRateLimited):
		// The name typed is not verified: it is kept in Detail, and the
		// actor is the account only when it names the one that exists.
		actor := "anonymous"
		if user == BootstrapAdmin {
			actor = LocalAdmin
		} else {
			detail["user"] = truncate(user, 200)
		}
		if rerr := p.Recorder.Event(ctx, actor, what, OutcomeFailed, err.Error(), detail); rerr != nil {
			return fmt.Errorf("failed sign-in could not be recorded: %w", rerr)
		}
	}
	return err
}

// verify checks the password under the limiter (see LoginLimiter for how
// the address and account limits combine).
func (p *PasswordSignIn) verify(ctx context.Context, remoteAddr, user, password string) error {
	if ok, wait := p.Limiter.Allow(remoteAddr, user); !ok {
		return &RateLimitError{Wait: wait}
	}
	// The bcrypt comparison runs whatever the user name, so timing does not
	// reveal whether the account exists.
	ok, err := CheckBootstrapPassword(ctx, p.Settings, password)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(user), []byte(BootstrapAdmin)) != 1 || !ok {
		p.Limiter.Failed(remoteAddr, user)
		return ErrBadCredentials
	}
	p.Limiter.Succeeded(remoteAddr, user)
	return nil
}

// truncate cuts s to at most n bytes, so that what a stranger types cannot
// bloat the trail.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
