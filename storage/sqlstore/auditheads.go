package sqlstore

import "sync"

// chainHead is the head of one hash chain: its last sequence number and
// the hash of that record ("" and 0 for an empty chain).
type chainHead struct {
	chainID string
	seq     int64
	hash    string
}

// chainHeads remembers the head of every chain this store last committed,
// so that appending a batch costs one conditional UPDATE per chain instead
// of creating, locking and reading the head row first.
//
// It is only a hint. The UPDATE that advances a head names the remembered
// head in its WHERE clause (chain id, last_seq and last_hash), so it changes
// nothing unless the table still holds exactly that head: when another
// process (a CLI, a replica, retention), another Store or a rolled-back
// transaction moved it, the UPDATE matches no row and the appender falls
// back to locking and reading the row. Correctness therefore never depends
// on the hint being current; the zero value is ready to use.
type chainHeads struct {
	mu sync.Mutex
	m  map[string]chainHead
}

// get returns the remembered head of chainID.
func (c *chainHeads) get(chainID string) (chainHead, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[chainID]
	return h, ok
}

// committed remembers heads written by a committed transaction.
func (c *chainHeads) committed(heads []chainHead) {
	if len(heads) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]chainHead, len(heads))
	}
	for _, h := range heads {
		c.m[h.chainID] = h
	}
}
