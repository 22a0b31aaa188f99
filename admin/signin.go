package admin

import (
	"context"
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

// LocalAccount is a local account whose password was verified.
type LocalAccount struct {
	Name string
	Role Role
	// Version is the account's version at sign-in; a session opened under
	// it ends when the account changes (see AccountChecker).
	Version int64
}

// LocalAccounts verifies the passwords of local accounts; admin/users
// implements it.
type LocalAccounts interface {
	// Verify returns the account when password is its own and it is
	// enabled. Otherwise it returns ErrBadCredentials, with the account's
	// Name set only when the name is an existing account, so that the
	// attempt is recorded against it. Its timing must not tell whether the
	// account exists.
	Verify(ctx context.Context, name, password string) (LocalAccount, error)
}

// PasswordSignIn checks a local account's password, rate limited per
// client address and per account (LoginLimiter), and records every attempt.
type PasswordSignIn struct {
	Accounts LocalAccounts
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

// Check returns the local account when user and password belong to an
// enabled one. Every attempt is recorded; when the record of a successful
// one cannot be written, the sign-in fails.
func (p *PasswordSignIn) Check(ctx context.Context, remoteAddr, user, password string) (LocalAccount, error) {
	return p.check(ctx, ActionSignIn, remoteAddr, user, password)
}

// Reauthenticate is Check for a signed-in person confirming the password
// before a sensitive action; it is recorded as such.
func (p *PasswordSignIn) Reauthenticate(ctx context.Context, remoteAddr, user, password string) (LocalAccount, error) {
	return p.check(ctx, ActionReauth, remoteAddr, user, password)
}

func (p *PasswordSignIn) check(ctx context.Context, what, remoteAddr, user, password string) (LocalAccount, error) {
	acct, err := p.verify(ctx, remoteAddr, user, password)
	detail := map[string]any{"method": "password", "remote_addr": remoteAddr}
	switch {
	case err == nil:
		if rerr := p.Recorder.Event(ctx, LocalActor(acct.Name), what, OutcomeOK, "", detail); rerr != nil {
			return LocalAccount{}, fmt.Errorf("sign-in could not be recorded: %w", rerr)
		}
		return acct, nil
	case errors.Is(err, ErrBadCredentials), errors.Is(err, ErrRateLimited):
		// The name typed is not verified: it is kept in Detail, and the
		// actor is the account only when it names one that exists.
		actor := "anonymous"
		if acct.Name != "" {
			actor = LocalActor(acct.Name)
		} else {
			detail["user"] = truncate(user, 200)
		}
		if rerr := p.Recorder.Event(ctx, actor, what, OutcomeFailed, err.Error(), detail); rerr != nil {
			return LocalAccount{}, fmt.Errorf("failed sign-in could not be recorded: %w", rerr)
		}
	}
	return LocalAccount{}, err
}

// verify checks the password under the limiter (see LoginLimiter for how
// the address and account limits combine). A rate-limited attempt names
// the account when the limited name is one, without checking a password.
func (p *PasswordSignIn) verify(ctx context.Context, remoteAddr, user, password string) (LocalAccount, error) {
	if ok, wait := p.Limiter.Allow(remoteAddr, user); !ok {
		acct := LocalAccount{}
		if known, _ := p.Accounts.Verify(ctx, user, ""); known.Name != "" {
			acct.Name = known.Name
		}
		return acct, &RateLimitError{Wait: wait}
	}
	acct, err := p.Accounts.Verify(ctx, user, password)
	if errors.Is(err, ErrBadCredentials) {
		p.Limiter.Failed(remoteAddr, user)
		return acct, err
	}
	if err != nil {
		return LocalAccount{}, err
	}
	p.Limiter.Succeeded(remoteAddr, user)
	return acct, nil
}

// truncate cuts s to at most n bytes, so that what a stranger types cannot
// bloat the trail.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
