package storage

import "time"

// Revision states.
const (
	RevisionDraft    = "draft"
	RevisionActive   = "active"
	RevisionArchived = "archived"
)

// PolicyRevision is one immutable policy bundle and its lifecycle.
type PolicyRevision struct {
	// ID is assigned by the store: positive and monotonically increasing.
	ID int64
	// Bundle is the OPA bundle as a .tar.gz. Nil in listings.
	Bundle []byte
	// Hash is the hex SHA-256 of Bundle, computed by the caller.
	Hash string
	// Author and Message describe who pushed the revision and why.
	Author  string
	Message string
	// State is RevisionDraft, RevisionActive or RevisionArchived.
	State string
	// CreatedAt is when the revision was pushed.
	CreatedAt time.Time
	// ActivatedAt and ActivatedBy record the last activation; nil/empty for
	// a revision that was never active.
	ActivatedAt *time.Time
	ActivatedBy string
}

// Client is a caller of the decision API. Its key is kept only as a hash.
type Client struct {
	// ID is the client's stable identifier, e.g. "billing-svc".
	ID string
	// KeyHash is the hex SHA-256 of the client's API key.
	KeyHash string
	// Name is a human-readable label.
	Name string
	// AssertClaims allows the client to send claims instead of a token.
	AssertClaims bool
	// ReturnTo lists the URL prefixes allowed as return_to.
	ReturnTo []string
	// Disabled clients are refused without being deleted.
	Disabled bool
	// CreatedAt is set to now by the store when zero.
	CreatedAt time.Time
	// KeyCreatedAt is when the current key was issued (created or
	// rotated). When it is zero, CreateClient sets it to CreatedAt and
	// UpdateClient to now if the key hash changed, else keeps it.
	KeyCreatedAt time.Time
	// PreviousKeyHash is the hash of the key a rotation replaced, still
	// accepted until PreviousKeyExpiresAt so callers can switch without an
	// outage; "" when there is none. The store finds a client by either
	// hash; whoever authenticates must check the expiry.
	PreviousKeyHash      string
	PreviousKeyExpiresAt *time.Time
	// LastUsedAt and PreviousKeyLastUsedAt are when the current and the
	// previous key last authenticated a call, as RecordClientUse last
	// wrote them (at most about a minute behind); nil if never. Create
	// and update leave them alone.
	LastUsedAt            *time.Time
	PreviousKeyLastUsedAt *time.Time
}

// PreviousKeyValid reports whether the previous key is accepted at now.
func (c Client) PreviousKeyValid(now time.Time) bool {
	return c.PreviousKeyHash != "" && c.PreviousKeyExpiresAt != nil && now.Before(*c.PreviousKeyExpiresAt)
}

// ClientUse is one client key's latest use, as RecordClientUse writes it.
type ClientUse struct {
	ClientID string
	// Previous is true for a call made with the previous key.
	Previous bool
	At       time.Time
}

// SavedSearch is an audit search a person saved under a name.
type SavedSearch struct {
	// ID is assigned by the store.
	ID int64
	// Owner is the admin identity (admin.Session.Actor) that saved it;
	// each person sees only their own.
	Owner string
	Name  string
	// Query is the search form as a URL query string, opaque to storage.
	Query string
	// CreatedAt is set to now by the store when zero.
	CreatedAt time.Time
}

// StepUpTransaction is the state of one step-up redirect, consumed exactly
// once when the user comes back.
type StepUpTransaction struct {
	ID string
	// ClientID is the decision API client that asked for the decision.
	ClientID string
	// Issuer is the IdP the user is sent to.
	Issuer string
	// ClientAppID is the OAuth client id used in the authorize URL.
	ClientAppID  string
	State        string
	Nonce        string
	CodeVerifier string
	DecisionID   string
	Subject      string
	ReturnTo     string
	Action       string
	// Requirements is JSON, opaque to storage.
	Requirements []byte
	IssuedAt     time.Time
	ExpiresAt    time.Time
	// UsedAt is set once the transaction was consumed.
	UsedAt *time.Time
}
