package admin

import (
	"cmp"
	"slices"

	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/storage"
)

// StepUpVerified is the outcome of an accepted step-up; a refused one
// carries its error code as the outcome.
const StepUpVerified = "verified"

// Outcomes of flow records, in display order.
var (
	// StepUpOutcomes are an accepted step-up and the refusals' codes.
	StepUpOutcomes = []string{StepUpVerified, trust.VerifyNonceMismatch, trust.VerifyStaleAuthTime, trust.VerifyMissingAuthTime,
		trust.VerifyInsufficient, trust.VerifySubjectMismatch, trust.VerifyInvalidToken, trust.VerifyUnknownTransaction,
		trust.VerifyTransactionUsed, trust.VerifyTransactionExpired, trust.VerifyInvalidRequest, trust.VerifyUnavailable}
	// CIBAOutcomes are the transitions of a CIBA request stepgate runs.
	CIBAOutcomes = []string{"started", "approved", "denied", "expired", "error"}
	// SessionOutcomes are what happened to an app session.
	SessionOutcomes = []string{"elevated", "revoked", "logout"}
)

// Count is one labelled number of the dashboard.
type Count struct {
	Label string
	N     int64
}

// FollowUpView is the dashboard's reading of the flow records in the
// window: step-ups verified against refused (and why), every CIBA
// transition and session event, zero counts included so that a quiet
// window reads as zero rather than as missing.
type FollowUpView struct {
	StepUpVerified, StepUpRefused int64
	// StepUpRefusals counts refusals by error code, most frequent first.
	StepUpRefusals []Count
	CIBA           []Count
	Sessions       []Count
}

// followUpView reads counts by kind and outcome (Dashboard.FollowUps).
func followUpView(byKind map[string]map[string]int64) FollowUpView {
	var v FollowUpView
	for outcome, n := range byKind[storage.KindStepUp] {
		if outcome == StepUpVerified {
			v.StepUpVerified += n
			continue
		}
		v.StepUpRefused += n
		v.StepUpRefusals = append(v.StepUpRefusals, Count{Label: outcome, N: n})
	}
	slices.SortFunc(v.StepUpRefusals, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Label, b.Label))
	})
	v.CIBA = ordered(byKind[storage.KindCIBA], CIBAOutcomes)
	v.Sessions = ordered(byKind[storage.KindSession], SessionOutcomes)
	return v
}

// ordered lists counts in the order of known, then any other outcome
// alphabetically, so that a new outcome shows rather than vanishes.
func ordered(counts map[string]int64, known []string) []Count {
	out := make([]Count, 0, len(known))
	for _, o := range known {
		out = append(out, Count{Label: o, N: counts[o]})
	}
	var other []Count
	for o, n := range counts {
		if !slices.Contains(known, o) {
			other = append(other, Count{Label: o, N: n})
		}
	}
	slices.SortFunc(other, func(a, b Count) int { return cmp.Compare(a.Label, b.Label) })
	return append(out, other...)
}
