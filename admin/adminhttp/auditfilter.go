package adminhttp

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage"
)

// auditFilter is the search form as typed, kept to refill the form and to
// build export and paging links.
type auditFilter struct {
	Range, Since, Until                    string
	Subject, Action, Outcome, Client, Kind string
	Decision, Revision, MFA, Cursor        string
	// Order is "oldest" for oldest first, "" for newest first; Back is
	// true when Cursor leads back (dir=prev).
	Order  string
	Back   bool
	Query  storage.AuditQuery
	Errors map[string]string
}

const formTime = "2006-01-02T15:04"

// parseAuditFilter reads the filters from the query string. Times are UTC;
// a range preset (24h, 7d, 30d) wins over since/until.
func parseAuditFilter(c echo.Context, now time.Time) (auditFilter, error) {
	q := c.QueryParams()
	f := auditFilter{Range: q.Get("range"), Since: q.Get("since"), Until: q.Get("until"),
		Subject: strings.TrimSpace(q.Get("subject")), Action: strings.TrimSpace(q.Get("action")), Outcome: q.Get("outcome"),
		Client: strings.TrimSpace(q.Get("client")), Kind: q.Get("kind"), Decision: strings.TrimSpace(q.Get("decision")),
		Revision: strings.TrimSpace(q.Get("revision")), MFA: q.Get("mfa"), Cursor: q.Get("cursor"), Errors: map[string]string{},
		Back: q.Get("dir") == "prev"}
	if q.Get("order") == "oldest" {
		f.Order = "oldest"
	}
	// Subject and action match as people type them: any case, any prefix
	// ("ali" finds "Alice", "billing" every billing action).
	f.Query = storage.AuditQuery{SubjectPrefix: f.Subject, ActionPrefix: f.Action, Outcome: f.Outcome, ClientID: f.Client,
		Kind: f.Kind, DecisionID: f.Decision, Cursor: f.Cursor, Limit: 50, OldestFirst: f.Order == "oldest"}
	ranges := map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}
	if d, ok := ranges[f.Range]; ok {
		since := now.Add(-d)
		f.Query.Since = &since
	} else {
		f.Range = ""
		for _, p := range []struct {
			val string
			dst **time.Time
			key string
		}{{f.Since, &f.Query.Since, "since"}, {f.Until, &f.Query.Until, "until"}} {
			if p.val == "" {
				continue
			}
			t, err := time.Parse(formTime, p.val)
			if err != nil {
				f.Errors[p.key] = "use the date picker, or YYYY-MM-DDTHH:MM (UTC)"
				continue
			}
			*p.dst = &t
		}
		if since, until := f.Query.Since, f.Query.Until; since != nil && until != nil && !until.After(*since) {
			f.Errors["until"] = "must be later than From; swap the two dates?"
		}
	}
	if f.Revision != "" {
		n, err := strconv.ParseInt(f.Revision, 10, 64)
		if err != nil || n <= 0 {
			f.Errors["revision"] = "a revision number"
		}
		f.Query.PolicyRevision = n
	}
	// A decision's outcome is one of four; flow records carry their own
	// (a step-up refusal its error code), so only a kind that can hold it
	// makes an outcome valid.
	switch {
	case f.Outcome == "" || slices.Contains(admin.Outcomes, f.Outcome):
	case f.Kind == storage.KindDecision:
		f.Errors["outcome"] = "allow, deny, step_up or ciba"
	case f.Kind == "" && !knownOutcome(f.Outcome):
		f.Errors["outcome"] = "an outcome from the list, or choose the record kind first"
	}
	if f.MFA != "yes" && f.MFA != "no" {
		f.MFA = ""
	}
	if len(f.Errors) > 0 {
		return f, echo.NewHTTPError(http.StatusBadRequest, "Some filters are not valid.")
	}
	return f, nil
}

// Values renders the filter as a query string without the cursor.
func (f auditFilter) Values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"range": f.Range, "since": f.Since, "until": f.Until, "subject": f.Subject,
		"action": f.Action, "outcome": f.Outcome, "client": f.Client, "kind": f.Kind, "decision": f.Decision,
		"revision": f.Revision, "mfa": f.MFA, "order": f.Order} {
		if x != "" && !(f.Range != "" && (k == "since" || k == "until")) {
			v.Set(k, x)
		}
	}
	return v
}

// Trail is the filter as admin reads it.
func (f auditFilter) Trail() trail.Filter {
	return trail.Filter{Query: f.Query, MFA: f.MFA, Back: f.Back && f.Cursor != ""}
}
