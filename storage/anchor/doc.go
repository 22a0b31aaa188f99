// Package anchor anchors the audit trail outside the database it protects.
//
// The audit records are hash-chained (storage.ComputeAuditHash), but a
// chain and its head live in one database: whoever can write the database
// can rewrite a record and recompute every hash after it, cut a chain back
// or delete it, and the chain still verifies. A Checkpointer therefore
// reads every chain's head (sequence and hash) at least once a second while
// they move, signs them with an Ed25519 key that is never stored in the
// database, and hands the signed Checkpoint to witnesses kept elsewhere: an
// append-only file (FileWitness), an HTTP collector (HTTPWitness) and the
// structured log (LogWitness), as Certificate Transparency's signed tree
// heads and CloudTrail's digest files do.
//
// Each checkpoint extends its signer's previous one: before signing, the
// checkpointer looks up the record at every chain's last signed position,
// and a chain that went back, vanished or holds another hash there is not
// signed forward (its signed head is carried on and the contradiction
// logged and counted), so a rewrite raises an alarm within a second.
//
// Verification (Check, then storage.ChainVerifier.Anchor) needs only the
// witness and the public key: every signature; each checkpoint naming its
// signer's previous one (so removed lines show); signed positions never
// going back; and then, walking the records, every signed (chain, seq,
// hash) present with that hash. A rewrite anywhere at or before a signed
// position, a chain cut back below one, a deleted chain and a deleted or
// edited witness line are all found; records after the last checkpoint are
// reported as not yet anchored.
//
// The cost is one read of the chain heads table per interval, one indexed
// lookup per moving chain and one signature (about 50 µs) per checkpoint,
// whatever the decision rate.
package anchor
