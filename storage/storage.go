package storage

import (
	"context"
	"time"
)

// Store is stepgate's persistent state. Every method takes a context first and
// returns errors wrapping the package sentinels where callers need to branch.
// Implementations must be safe for concurrent use by many goroutines and, for
// shared databases, by many processes.
type Store interface {
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
	// ActivateRevision makes id active and archives the previously active one
	// in one transaction, recording actor and at. Activating the already active
	// revision is a no-op that returns it unchanged.
	ActivateRevision(ctx context.Context, id int64, actor string, at time.Time) (PolicyRevision, error)

	// CreateClient stores a decision API client; ErrAlreadyExists when the id
	// or the key hash is taken.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns a client by id, or ErrNotFound.
	GetClient(ctx context.Context, id string) (Client, error)
	// ClientByKeyHash returns the client whose key hashes to keyHash (hex
	// SHA-256), or ErrNotFound.
	ClientByKeyHash(ctx context.Context, keyHash string) (Client, error)
	// ListClients returns all clients ordered by id.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient replaces every field of an existing client except CreatedAt;
	// ErrNotFound when it does not exist, ErrAlreadyExists when the new key
	// hash belongs to another client.
	UpdateClient(ctx context.Context, c Client) error
	// DeleteClient removes a client, or returns ErrNotFound.
	DeleteClient(ctx context.Context, id string) error

	// CreateStepUp stores a new step-up transaction; ErrAlreadyExists on a
	// duplicate id.
	CreateStepUp(ctx context.Context, t StepUpTransaction) error
	// GetStepUp returns a transaction without consuming it, or ErrNotFound.
	GetStepUp(ctx context.Context, id string) (StepUpTransaction, error)
	// ConsumeStepUp atomically marks the transaction used at now and returns
	// it. It returns ErrNotFound, ErrUsed when it was already consumed, or
	// ErrExpired when now is after ExpiresAt — with ErrUsed and ErrExpired
	// also the transaction, so that the refusal can be audited against its
	// decision. Exactly one of any number of concurrent callers (goroutines
	// or processes) succeeds.
	ConsumeStepUp(ctx context.Context, id string, now time.Time) (StepUpTransaction, error)
	// DeleteExpiredStepUps removes transactions that expired before the given
	// time and returns how many it removed.
	DeleteExpiredStepUps(ctx context.Context, before time.Time) (int64, error)

	// GetSetting returns a setting value, or ErrNotFound.
	GetSetting(ctx context.Context, key string) (string, error)
	// SetSetting creates or replaces a setting.
	SetSetting(ctx context.Context, key, value string) error

	// AppendAudit appends a batch of records in one transaction. The store
	// assigns ID, Seq, PrevHash and Hash per ChainID (reading the chain head
	// inside the transaction, so it is correct across restarts and processes)
	// and writes them back into recs. Time is normalised to UTC microseconds
	// and set to now when zero. Either every record commits or none does.
	AppendAudit(ctx context.Context, recs []AuditRecord) error
	// SearchAudit returns one page of records matching q, newest first.
	SearchAudit(ctx context.Context, q AuditQuery) (AuditPage, error)
	// ExportAudit calls fn for every record matching q (ignoring Limit and
	// Cursor) while streaming rows from the database, so memory stays bounded.
	// An error from fn stops the export and is returned wrapped.
	ExportAudit(ctx context.Context, q AuditQuery, fn func(AuditRecord) error) error
	// VerifyAudit walks every chain in sequence order and reports the first
	// record whose content, order or link is wrong.
	VerifyAudit(ctx context.Context) (VerifyReport, error)
	// DeleteAuditBefore deletes, per chain, the longest prefix of records older
	// than before, then appends a checkpoint record to each trimmed chain so
	// the remaining chain still verifies. It returns how many records it deleted.
	DeleteAuditBefore(ctx context.Context, before time.Time) (int64, error)

	// SaveLogout stores a logout mark and returns it with its store-assigned
	// ID (positive, increasing in commit order as far as the database
	// allows) and CreatedAt (now when zero). A mark that is not Valid is
	// refused with ErrInvalid.
	SaveLogout(ctx context.Context, l SessionLogout) (SessionLogout, error)
	// LogoutsAfter returns up to limit marks with an ID greater than
	// afterID that have not expired at now, in ascending ID order.
	LogoutsAfter(ctx context.Context, afterID int64, now time.Time, limit int) ([]SessionLogout, error)
	// DeleteExpiredLogouts removes marks that expired before the cut-off
	// and returns how many it removed.
	DeleteExpiredLogouts(ctx context.Context, before time.Time) (int64, error)

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database connections.
	Close() error
}
