package anchor

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// Version names the signed encoding of a checkpoint (SignedBytes). It is
// the first field of the encoding, so a later version cannot collide.
const Version = "stepgate-checkpoint-v1"

// Checkpoint is a signed statement of every audit chain's head at one
// moment, as one witness line. Chains lists every chain the database knew,
// in chain id order, so a chain deleted later is noticed; a chain's Seq is
// also its record count, because chains number records from 1 without
// gaps.
type Checkpoint struct {
	Version string    `json:"v"`
	Time    time.Time `json:"time"`
	// Signer names the process that signed (its audit chain id); Prev is
	// the Digest of the signer's previous checkpoint ("" for its first), so
	// lines removed from the middle of a witness break the sequence.
	Signer string              `json:"signer"`
	Prev   string              `json:"prev"`
	Chains []storage.ChainHead `json:"chains"`
	// KeyID identifies the public key that verifies Sig (KeyID).
	KeyID string `json:"key_id"`
	// Sig is the Ed25519 signature of SignedBytes.
	Sig []byte `json:"sig"`
}

// SignedBytes returns the encoding the signature covers: netstrings
// (`<decimal length>:<bytes>,`) of Version, Time as decimal Unix
// microseconds, Signer, Prev, KeyID, the number of chains, then for each
// chain its id, decimal seq and hash. Time is normalised to UTC
// microseconds first, as JSON round trips keep it.
func (c *Checkpoint) SignedBytes() []byte {
	b := make([]byte, 0, 128+96*len(c.Chains))
	b = netstring(b, c.Version)
	b = netstring(b, strconv.FormatInt(storage.NormalizeTime(c.Time).UnixMicro(), 10))
	b = netstring(b, c.Signer)
	b = netstring(b, c.Prev)
	b = netstring(b, c.KeyID)
	b = netstring(b, strconv.Itoa(len(c.Chains)))
	for _, h := range c.Chains {
		b = netstring(b, h.ChainID)
		b = netstring(b, strconv.FormatInt(h.Seq, 10))
		b = netstring(b, h.Hash)
	}
	return b
}

// Digest identifies a signed checkpoint: the hex SHA-256 of its signed
// bytes followed by its signature. The next checkpoint of the same signer
// names it in Prev.
func (c *Checkpoint) Digest() string {
	h := sha256.New()
	h.Write(c.SignedBytes())
	h.Write(c.Sig)
	return hex.EncodeToString(h.Sum(nil))
}

// Sign fills in Version, KeyID and Sig with key. Chains are sorted by id
// and Time normalised first, so the signature covers what a JSON round
// trip gives back.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) {
	c.Version = Version
	c.Time = storage.NormalizeTime(c.Time)
	slices.SortFunc(c.Chains, byChainID)
	c.KeyID = KeyID(key.Public().(ed25519.PublicKey))
	c.Sig = ed25519.Sign(key, c.SignedBytes())
}

// Errors of Verify.
var (
	// ErrOtherKey means the checkpoint names a key other than the one
	// verifying: a wrong public key, or a signer with a key of its own.
	ErrOtherKey = errors.New("signed with another key")
	// ErrBadSignature means the signature does not verify: the line was
	// edited, or forged.
	ErrBadSignature = errors.New("signature does not verify")
)

// Verify checks c's version and signature with pub.
func (c *Checkpoint) Verify(pub ed25519.PublicKey) error {
	if c.Version != Version {
		return fmt.Errorf("unknown checkpoint version %q", c.Version)
	}
	if want := KeyID(pub); c.KeyID != want {
		return fmt.Errorf("%w: key id %s, verifying with %s", ErrOtherKey, c.KeyID, want)
	}
	if !ed25519.Verify(pub, c.SignedBytes(), c.Sig) {
		return ErrBadSignature
	}
	return nil
}

// Head returns the checkpoint's head of chainID.
func (c *Checkpoint) Head(chainID string) (storage.ChainHead, bool) {
	i, ok := slices.BinarySearchFunc(c.Chains, chainID, func(h storage.ChainHead, id string) int { return strings.Compare(h.ChainID, id) })
	if !ok {
		return storage.ChainHead{}, false
	}
	return c.Chains[i], true
}

func netstring(b []byte, v string) []byte {
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	b = append(b, v...)
	return append(b, ',')
}
