package session

import (
	"fmt"
	"time"
)

// SessionRef is what a decision knows of the session its user's token
// belongs to, for Logouts.Ended.
type SessionRef struct {
	Issuer  string
	SID     string
	Subject string
	// ClientID and SessionID are the decision API client and the session
	// it named (or the token's sid), which a client's revocation ends.
	ClientID  string
	SessionID string
	// Login is when the user last signed in to the session, in Unix
	// seconds: auth_time after any session elevation, else the token's
	// iat. Without it (HasLogin false) the login counts as before any
	// logout, since nothing shows it came later.
	Login    int64
	HasLogin bool
}

// Ended reports whether a logout ended the session ref belongs to, with a
// reason naming the logout. A login later than the logout is a new
// session and is not ended: that is how a user gets back in by signing in
// again. A back-channel logout ends logins strictly before its iat (both
// are the IdP's clock; a login in the same second counts as a new one, so
// signing in again at once does not loop); a client's revocation, stamped
// with stepgate's clock, also ends logins up to Skew after it.
func (l *Logouts) Ended(ref SessionRef) (string, bool) {
	if l.size.Load() == 0 {
		return "", false
	}
	before := func(at int64) bool { return !ref.HasLogin || ref.Login < at }
	l.mu.RLock()
	defer l.mu.RUnlock()
	if ref.Issuer != "" && ref.SID != "" {
		if at, ok := l.sids[ref.Issuer][ref.SID]; ok && before(at) {
			return fmt.Sprintf("the session %q was ended by a back-channel logout from %s at %s; sign in again",
				ref.SID, ref.Issuer, stamp(at)), true
		}
	}
	if ref.Issuer != "" && ref.Subject != "" {
		if at, ok := l.subs[ref.Issuer][ref.Subject]; ok && before(at) {
			return fmt.Sprintf("every session of %q was ended by a back-channel logout from %s at %s; sign in again",
				ref.Subject, ref.Issuer, stamp(at)), true
		}
	}
	if ref.ClientID != "" && ref.SessionID != "" {
		if at, ok := l.sessions[ref.ClientID][ref.SessionID]; ok && before(at+int64(l.cfg.Skew/time.Second)) {
			return fmt.Sprintf("the session %q was ended by client %s at %s; sign in again",
				ref.SessionID, ref.ClientID, stamp(at)), true
		}
	}
	return "", false
}

func stamp(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }
