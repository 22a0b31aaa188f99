package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// Modes.
const (
	ModeSync  = "sync"
	ModeAsync = "async"
)

// DefaultStallFactor is the default StallFactor: while the store fails, an
// async Write is refused once the oldest uncommitted record has waited four
// times MaxDelay, the bound a healthy store keeps.
const DefaultStallFactor = 4

// Appender is the part of the store the writer uses.
type Appender interface {
	AppendAudit(ctx context.Context, recs []storage.AuditRecord) error
}

// Config configures a Writer.
type Config struct {
	// Store receives the batches. Required.
	Store Appender
	// Mode is ModeSync (default) or ModeAsync.
	Mode string
	// ChainID names this writer's hash chain; use one per process/replica.
	// Required.
	ChainID string
	// QueueSize bounds the records waiting to be committed. Default 10000.
	QueueSize int
	// MaxBatch bounds the records appended in one transaction. Default 500.
	MaxBatch int
	// MaxDelay bounds how long an async record waits for its commit while
	// the database is healthy: the writer lingers up to MaxDelay/2 to grow a
	// batch, leaving the rest for the commit itself. Sync batches never
	// linger (but see SyncLinger). Default 50ms.
	MaxDelay time.Duration
	// SyncLinger bounds how long a sync batch waits for records that were
	// announced (Announce) but not yet written, so that decisions already
	// being evaluated share the next commit instead of each paying for one.
	// The writer never waits when nothing is announced, so a lone request
	// commits at once. Default 1ms; negative disables the wait.
	SyncLinger time.Duration
	// EnqueueTimeout is how long Write waits for room in a full queue before
	// returning ErrQueueFull. Default 2s. While the store is failing, an
	// async Write into a full queue is refused at once.
	EnqueueTimeout time.Duration
	// StallFactor bounds how far async mode runs ahead of a failing store:
	// once an append attempt has failed and the oldest uncommitted record is
	// older than StallFactor × MaxDelay (by Now), async Write returns
	// ErrUnavailable, as sync mode would, until a commit succeeds again. A
	// store that hangs counts as failing when its attempt times out
	// (CommitTimeout). Default DefaultStallFactor.
	StallFactor int
	// SpillDir is where Close writes the acknowledged async records the
	// store did not take before Close's deadline, one spill file per Close
	// (see Unwritten), and where a new writer of the same chain looks for
	// them to replay into the store before anything else. It must be outside
	// the database (cmd/stepgate uses the data directory). Empty disables
	// spilling: records Close cannot commit are then lost (counted in
	// Stats.Lost and logged with their decision ids).
	SpillDir string
	// JournalDir, when set, makes a record durable once it is in a local
	// journal in this directory (storage/journal: checksummed segments,
	// one fdatasync per batch), and the store the index the trail is
	// searched in: records are appended to it from the journal in the
	// background, in batches of up to IndexBatch, moving the journal's
	// position in the same transaction (storage.AuditJournals, which Store
	// must then implement). A new writer first appends what the journal
	// holds beyond the store's position. The directory belongs to one
	// writer at a time (it is locked) and must be outside the database.
	JournalDir string
	// JournalBacklog bounds the journaled records waiting for the store:
	// beyond it Write refuses with ErrUnavailable, so a store that is down
	// for long makes decisions fail closed instead of growing memory.
	// Default 50000.
	JournalBacklog int
	// IndexBatch bounds the records the indexer appends to the store in one
	// transaction. Default 2000.
	IndexBatch int
	// IndexLead bounds how far the journal runs ahead of the index while
	// the store keeps taking records: beyond it the commit goroutine waits
	// for the indexer, so a sustained load runs at the rate the store
	// indexes (and sync callers wait as they would without a journal)
	// instead of filling the backlog until decisions are refused. While the
	// indexer fails, or makes no progress for a second (a store that
	// hangs), the writer runs ahead up to JournalBacklog: the journal rides
	// out the outage. IndexLead + MaxBatch also bounds the journaled
	// records kept in memory for the indexer; the indexer reads those
	// beyond it back from the journal. Default 4 × IndexBatch, at most
	// JournalBacklog.
	IndexLead int
	// IndexDelay is how long the indexer lets journaled records gather
	// before it appends them, unless IndexBatch of them are waiting or
	// WaitIndexed asks for them: one transaction of many records costs the
	// store a fraction of many small ones. Search lags the answers by about
	// this much. Default 100ms; negative appends at once.
	IndexDelay time.Duration
	// CommitTimeout bounds one append attempt. Default 10s.
	CommitTimeout time.Duration
	// RetryMin and RetryMax bound the exponential backoff between failed
	// attempts. Defaults 50ms and 5s.
	RetryMin, RetryMax time.Duration
	// Logger receives commit failures and recoveries. Default slog.Default().
	Logger *slog.Logger
	// Now stamps records written without a Time. Default time.Now.
	Now func() time.Time
}

func (c *Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("store is required"))
	}
	if c.ChainID == "" {
		errs = append(errs, errors.New("chain id is required"))
	}
	switch c.Mode {
	case "":
		c.Mode = ModeSync
	case ModeSync, ModeAsync:
	default:
		errs = append(errs, fmt.Errorf("mode %q is neither %q nor %q", c.Mode, ModeSync, ModeAsync))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"queue size", c.QueueSize}, {"max batch", c.MaxBatch}, {"stall factor", c.StallFactor},
		{"journal backlog", c.JournalBacklog}, {"index batch", c.IndexBatch}, {"index lead", c.IndexLead}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s %d is negative", f.name, f.v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("audit: new writer: %w", err)
	}
	defaultInt(&c.QueueSize, 10000)
	defaultInt(&c.MaxBatch, 500)
	defaultDuration(&c.MaxDelay, 50*time.Millisecond)
	if c.SyncLinger == 0 {
		c.SyncLinger = time.Millisecond
	}
	defaultDuration(&c.EnqueueTimeout, 2*time.Second)
	defaultInt(&c.StallFactor, DefaultStallFactor)
	defaultInt(&c.JournalBacklog, 50000)
	defaultInt(&c.IndexBatch, 2000)
	defaultInt(&c.IndexLead, 4*c.IndexBatch)
	c.IndexLead = min(c.IndexLead, c.JournalBacklog)
	if c.IndexDelay == 0 {
		c.IndexDelay = 100 * time.Millisecond
	}
	defaultDuration(&c.CommitTimeout, 10*time.Second)
	defaultDuration(&c.RetryMin, 50*time.Millisecond)
	defaultDuration(&c.RetryMax, 5*time.Second)
	c.RetryMax = max(c.RetryMax, c.RetryMin)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

func defaultInt(v *int, d int) {
	if *v == 0 {
		*v = d
	}
}

func defaultDuration(v *time.Duration, d time.Duration) {
	if *v <= 0 {
		*v = d
	}
}
