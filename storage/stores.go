package storage

import (
	"context"
	"time"
)

// Revisions keeps policy revisions (PolicyRevision) and their lifecycle.
type Revisions interface {
	// CreateRevision stores a new policy revision in state RevisionDraft and
	// returns it with its store-assigned ID (positive, monotonically increasing)
	// and CreatedAt (set to now when zero).
	CreateRevision(ctx context.Context, r PolicyRevision) (PolicyRevision, error)
	// GetRevision returns one revision including its bundle, or ErrNotFound.
	GetRevision(ctx context.Context, id int64) (PolicyRevision, error)
	// ListRevisions returns all revisions newest first with Bundle left nil.
	ListRevisions(ctx context.Context) ([]PolicyRevision, error)
	// ActiveRevision returns the active revision with its bundle, or ErrNotFound.
	ActiveRevision(ctx context.Context) (PolicyRevision, error)
	// ActiveRevisionID returns the id and hash of the active revision without
	// its bundle, or ErrNotFound: the cheap query every replica polls to
	// notice an activation.
	ActiveRevisionID(ctx context.Context) (id int64, hash string, err error)
	// ActivateRevision makes id active and archives the previously active one
	// in one transaction, recording actor and at. Activating the already active
	// revision is a no-op that returns it unchanged.
	ActivateRevision(ctx context.Context, id int64, actor string, at time.Time) (PolicyRevision, error)
	// DeleteRevision removes a draft that was never active, bundle and all,
	// and returns it without its bundle. It returns ErrNotFound when there is
	// no revision id and ErrWasActive, deleting nothing, when it is or ever
	// was active. Its id is never given to another revision.
	DeleteRevision(ctx context.Context, id int64) (PolicyRevision, error)
}

// Clients keeps the decision API's clients (Client).
type Clients interface {
	// CreateClient stores a decision API client; ErrAlreadyExists when the id
	// or the key hash is taken.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns a client by id, or ErrNotFound.
	GetClient(ctx context.Context, id string) (Client, error)
	// ClientByKeyHash returns the client whose key, or previous key, hashes
	// to keyHash (hex SHA-256), or ErrNotFound. It does not judge the
	// previous key's expiry (see Client.PreviousKeyValid).
	ClientByKeyHash(ctx context.Context, keyHash string) (Client, error)
	// ListClients returns all clients ordered by id.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient replaces every field of an existing client except
	// CreatedAt and the use times; ErrNotFound when it does not exist,
	// ErrAlreadyExists when the new key hash belongs to another client.
	UpdateClient(ctx context.Context, c Client) error
	// RecordClientUse stores the latest use of client keys; a time is
	// written only when later than the stored one, and a use of an unknown
	// client is ignored. Callers batch uses, so this is not a write per
	// call.
	RecordClientUse(ctx context.Context, uses []ClientUse) error
	// DeleteClient removes a client, or returns ErrNotFound.
	DeleteClient(ctx context.Context, id string) error
}

// StepUps keeps step-up transactions (StepUpTransaction), each consumed once.
type StepUps interface {
	// CreateStepUp stores a new step-up transaction; ErrAlreadyExists on a
	// duplicate id.
	CreateStepUp(ctx context.Context, t StepUpTransaction) error
	// GetStepUp returns a transaction without consuming it, or ErrNotFound.
	GetStepUp(ctx context.Context, id string) (StepUpTransaction, error)
	// ConsumeStepUp atomically marks the transaction used at now and returns
	// it, for the client it was created for (ClientID) only. It returns
	// ErrNotFound — also when the transaction belongs to another client,
	// which it leaves untouched and does not describe —, ErrUsed when it was
	// already consumed, or ErrExpired when now is after ExpiresAt — with
	// ErrUsed and ErrExpired also the transaction, so that the refusal can
	// be audited against its decision. Exactly one of any number of
	// concurrent callers (goroutines or processes) succeeds.
	ConsumeStepUp(ctx context.Context, id, clientID string, now time.Time) (StepUpTransaction, error)
	// DeleteExpiredStepUps removes transactions that expired before the given
	// time and returns how many it removed.
	DeleteExpiredStepUps(ctx context.Context, before time.Time) (int64, error)
}

// Settings keeps small named values, such as the bootstrap password hash.
type Settings interface {
	// GetSetting returns a setting value, or ErrNotFound.
	GetSetting(ctx context.Context, key string) (string, error)
	// SetSetting creates or replaces a setting.
	SetSetting(ctx context.Context, key, value string) error
}

// SavedSearches keeps the audit searches people saved (SavedSearch).
type SavedSearches interface {
	// SaveSearch stores a new saved search and returns it with its ID;
	// ErrAlreadyExists when its owner already has one of that name,
	// ErrInvalid without an owner, a name or a query.
	SaveSearch(ctx context.Context, s SavedSearch) (SavedSearch, error)
	// ListSavedSearches returns owner's saved searches ordered by name.
	ListSavedSearches(ctx context.Context, owner string) ([]SavedSearch, error)
	// DeleteSavedSearch removes owner's saved search id; ErrNotFound when
	// owner has none with that id (also when another person does).
	DeleteSavedSearch(ctx context.Context, owner string, id int64) error
}
