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
// client address and per account.
type PasswordSignIn struct {
	Settings SettingStore
	Limiter  *LoginLimiter
}

// Check returns nil when user and password belong to the bootstrap admin.
func (p *PasswordSignIn) Check(ctx context.Context, remoteAddr, user, password string) error {
	keys := []string{"addr:" + remoteAddr, "user:" + user}
	if ok, wait := p.Limiter.Allow(keys...); !ok {
		return &RateLimitError{Wait: wait}
	}
	// The bcrypt comparison runs whatever the user name, so timing does not
	// reveal whether the account exists.
	ok, err := CheckBootstrapPassword(ctx, p.Settings, password)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(user), []byte(BootstrapAdmin)) != 1 || !ok {
		p.Limiter.Failed(keys...)
		return ErrBadCredentials
	}
	return nil
}
