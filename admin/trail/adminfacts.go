package trail

import (
	"encoding/json"
	"strconv"

	"github.com/stepgate/stepgate/storage"
)

// AdminFacts are what an admin record's Detail says about the change:
// why, on what, and by whom as people know them.
type AdminFacts struct {
	// Reason is the reason the admin gave (or the draft's message).
	Reason string
	// Error is why a refused action or a failed sign-in did not happen.
	Error string
	// Label is how people know the actor (an SSO admin's e-mail); the
	// actor itself is the verified identity (issuer|subject).
	Label string
	// Target is "revision N", "client ID" or "user NAME", "" for other
	// changes.
	Target string
}

// AdminFactsOf reads the facts of an admin record. Detail is whatever the
// change wrote (see admin.Recorder); a record whose Detail is not an
// object has none.
func AdminFactsOf(r storage.AuditRecord) AdminFacts {
	var d map[string]any
	_ = json.Unmarshal(r.Detail, &d)
	var f AdminFacts
	f.Reason, _ = d["reason"].(string)
	if f.Reason == "" {
		f.Reason, _ = d["message"].(string)
	}
	f.Error, _ = d["error"].(string)
	f.Label, _ = d["actor_label"].(string)
	if rev, ok := d["revision"].(float64); ok {
		f.Target = "revision " + strconv.FormatInt(int64(rev), 10)
	} else if cl, ok := d["client"].(string); ok {
		f.Target = "client " + cl
	} else if u, ok := d["user"].(string); ok {
		f.Target = "user " + u
	}
	return f
}
