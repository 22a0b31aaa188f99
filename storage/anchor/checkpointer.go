package anchor

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// HeadReader is the part of storage.Store the checkpointer reads.
type HeadReader interface {
	AuditHeads(ctx context.Context) ([]storage.ChainHead, error)
	AuditHashAt(ctx context.Context, chainID string, seq int64) (string, error)
}

// Config configures a Checkpointer.
type Config struct {
	// Heads reads every chain head from the database. Required.
	Heads HeadReader
	// Key signs checkpoints. Required; never stored in the database.
	Key ed25519.PrivateKey
	// Signer names this process in its checkpoints (its audit chain id).
	Signer string
	// Witnesses keep the checkpoints. The first is the primary: a
	// checkpoint counts as made once the primary kept it. The others get
	// a copy; their failures are logged and counted, and the next
	// checkpoint (which covers every chain again) makes up for a missed one.
	Witnesses []Witness
	// Interval is how often heads are read and, when they moved, signed;
	// default 1s.
	Interval time.Duration
	// Resume is this signer's last checkpoint in the primary witness, which
	// the first new checkpoint names as its predecessor.
	Resume *Checkpoint
	Logger *slog.Logger
	Now    func() time.Time
}

// Stats counts the checkpointer's work.
type Stats struct {
	// Signed counts checkpoints the primary witness kept; Failed counts
	// attempts that did not get there; CopyFailed counts failures of the
	// other witnesses; Rewinds counts chains found going back or vanishing
	// and Rewrites chains whose signed position holds another hash: records
	// deleted or rewritten in the database since the last checkpoint. Each
	// chain counts once.
	Signed, Failed, CopyFailed, Rewinds, Rewrites uint64
	// Last is the time of the last checkpoint kept (zero before the first).
	Last time.Time
}

// Checkpointer signs the audit chain heads and hands each checkpoint to its
// witnesses: every Interval while the heads move, and once more when it
// stops. A quiet trail costs one small read per interval.
type Checkpointer struct {
	cfg Config

	mu         sync.Mutex // serialises checkpoints
	last       []storage.ChainHead
	lastDigest string

	signed, failed, copyFailed, rewinds, rewrites atomic.Uint64
	// broken names the chains found contradicting their signed head, so
	// that each is logged once.
	broken   map[string]bool
	lastTime atomic.Pointer[time.Time]

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// New validates cfg.
func New(cfg Config) (*Checkpointer, error) {
	if cfg.Heads == nil || len(cfg.Key) != ed25519.PrivateKeySize || len(cfg.Witnesses) == 0 {
		return nil, errors.New("anchor: Heads, an Ed25519 Key and at least one witness are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Checkpointer{cfg: cfg, stop: make(chan struct{}), done: make(chan struct{}), broken: map[string]bool{}}
	if r := cfg.Resume; r != nil {
		c.last, c.lastDigest = slices.Clone(r.Chains), r.Digest()
	}
	return c, nil
}

// Start runs the checkpoint loop until Stop.
func (c *Checkpointer) Start() {
	go func() {
		defer close(c.done)
		t := time.NewTicker(c.cfg.Interval)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Interval+5*time.Second)
			_, err := c.Checkpoint(ctx)
			cancel()
			switch {
			case err != nil && !failing:
				c.cfg.Logger.Error("audit checkpoint failed; the trail is not anchored until it succeeds", "err", err)
			case err == nil && failing:
				c.cfg.Logger.Info("audit checkpoints resumed")
			}
			failing = err != nil
		}
	}()
}

// Stop ends the loop and makes a last checkpoint, so that the records
// committed before shutdown are anchored. Call it after the audit writer
// has drained.
func (c *Checkpointer) Stop(ctx context.Context) error {
	c.once.Do(func() { close(c.stop) })
	select {
	case <-c.done:
	case <-ctx.Done():
		return fmt.Errorf("anchor: stop: %w", ctx.Err())
	}
	_, err := c.Checkpoint(ctx)
	return err
}

// Checkpoint signs the current heads unless they are what was signed last,
// and reports whether it made a checkpoint.
func (c *Checkpointer) Checkpoint(ctx context.Context) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	heads, err := c.cfg.Heads.AuditHeads(ctx)
	if err != nil {
		c.failed.Add(1)
		return false, fmt.Errorf("read audit chain heads: %w", err)
	}
	// The database's collation need not be Go's byte order.
	slices.SortFunc(heads, byChainID)
	if slices.Equal(heads, c.last) {
		return false, nil
	}
	if heads, err = c.extend(ctx, heads); err != nil {
		c.failed.Add(1)
		return false, err
	}
	if slices.Equal(heads, c.last) {
		return false, nil
	}
	cp := Checkpoint{Time: c.cfg.Now(), Signer: c.cfg.Signer, Prev: c.lastDigest, Chains: heads}
	cp.Sign(c.cfg.Key)
	if err := c.cfg.Witnesses[0].Witness(ctx, cp); err != nil {
		c.failed.Add(1)
		return false, err
	}
	for _, w := range c.cfg.Witnesses[1:] {
		if err := w.Witness(ctx, cp); err != nil {
			c.copyFailed.Add(1)
			c.cfg.Logger.Warn("audit checkpoint copy failed", "witness", w.String(), "err", err)
		}
	}
	c.last, c.lastDigest = cp.Chains, cp.Digest()
	c.signed.Add(1)
	c.lastTime.Store(&cp.Time)
	return true, nil
}

// extend makes the new checkpoint extend the last one. A chain that moved
// must still hold, at the position signed last, the hash signed there: the
// chain links every record to the one before, so that one lookup proves
// every earlier record unchanged. A chain that went back, vanished or holds
// another hash there contradicts what was signed: it is logged (once) and
// counted, and its last signed head is carried forward unchanged, so that
// the witness keeps the evidence and verification names the chain. A
// position that retention removed cannot be looked up; the verification
// walk covers it through the retention checkpoint record.
func (c *Checkpointer) extend(ctx context.Context, heads []storage.ChainHead) ([]storage.ChainHead, error) {
	out := slices.Clone(heads)
	for _, old := range c.last {
		i, found := slices.BinarySearchFunc(out, storage.ChainHead{ChainID: old.ChainID}, byChainID)
		var why string
		counter := &c.rewinds
		switch {
		case !found:
			why = "the chain is gone"
		case out[i] == old:
			continue
		case out[i].Seq < old.Seq:
			why = fmt.Sprintf("the chain went back to sequence %d", out[i].Seq)
		default:
			h, err := c.cfg.Heads.AuditHashAt(ctx, old.ChainID, old.Seq)
			switch {
			case errors.Is(err, storage.ErrNotFound):
				continue
			case err != nil:
				return nil, fmt.Errorf("read signed audit position %s/%d: %w", old.ChainID, old.Seq, err)
			case h == old.Hash:
				continue
			}
			why = fmt.Sprintf("sequence %d now has hash %q", old.Seq, h)
			counter = &c.rewrites
		}
		if found {
			out[i] = old
		} else {
			out = slices.Insert(out, i, old)
		}
		if !c.broken[old.ChainID] {
			c.broken[old.ChainID] = true
			counter.Add(1)
			c.cfg.Logger.Error("audit chain contradicts its last signed checkpoint: records were deleted or rewritten in the database; "+
				"its signed head is kept and verification names the chain", "chain_id", old.ChainID, "signed_seq", old.Seq,
				"signed_hash", old.Hash, "found", why)
		}
	}
	return out, nil
}

// Interval is how often the heads are read.
func (c *Checkpointer) Interval() time.Duration { return c.cfg.Interval }

// Stats returns the counters.
func (c *Checkpointer) Stats() Stats {
	s := Stats{Signed: c.signed.Load(), Failed: c.failed.Load(), CopyFailed: c.copyFailed.Load(),
		Rewinds: c.rewinds.Load(), Rewrites: c.rewrites.Load()}
	if t := c.lastTime.Load(); t != nil {
		s.Last = *t
	}
	return s
}

// LastBy returns the last checkpoint signer made in cps, or nil.
func LastBy(cps []Located, signer string) *Checkpoint {
	for i := len(cps) - 1; i >= 0; i-- {
		if cps[i].Signer == signer {
			return &cps[i].Checkpoint
		}
	}
	return nil
}

func byChainID(a, b storage.ChainHead) int { return strings.Compare(a.ChainID, b.ChainID) }
