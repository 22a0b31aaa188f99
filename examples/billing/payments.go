package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

// payment is a call-centre payment and the CIBA request approving it.
type payment struct {
	// ID is stepgate's CIBA request id.
	ID, DecisionID string
	Invoice        string
	Cents          int64
	BindingMessage string
	// Status is pending, approved, denied, expired or error.
	Status, Detail string
	// ApprovedAt is the auth_time of the approval on the phone.
	ApprovedAt time.Time
	Created    time.Time
}

// pollSeconds is how often the pending page reloads.
const pollSeconds = 2

var amountRE = regexp.MustCompile(`^([0-9]{1,7})(?:\.([0-9]{1,2}))?$`)

// parseAmount reads euros such as "120" or "120.50" into cents.
func parseAmount(s string) (int64, error) {
	m := amountRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, errors.New("enter an amount such as 120.00")
	}
	euros, _ := strconv.ParseInt(m[1], 10, 64) // at most 7 digits
	cents, _ := strconv.ParseInt((m[2] + "00")[:2], 10, 64)
	total := euros*100 + cents
	if total <= 0 {
		return 0, errors.New("the amount must be more than zero")
	}
	return total, nil
}

type payView struct {
	Invoices []invoice
	// Invoice is the one preselected (after a step-up: the one chosen).
	Invoice string
	Amount  string
	Error   string
	// SignedInAgain: the customer came back from the fresh sign-in that
	// stands in for a phone approval they could not give.
	SignedInAgain bool
}

func (a *App) openInvoices() []invoice {
	var open []invoice
	for _, inv := range sampleInvoices {
		if inv.Status == "open" {
			open = append(open, inv)
		}
	}
	return open
}

func (a *App) payForm(w http.ResponseWriter, r *http.Request) {
	v := payView{Invoices: a.openInvoices(), Amount: "120.00"}
	// Back from the fresh sign-in payStepUp asked for: the form as it was.
	if q := r.URL.Query(); q.Get("signed_in_again") == "1" && a.isOpenInvoice(q.Get("invoice")) {
		if _, err := parseAmount(q.Get("amount")); err == nil {
			v.Invoice, v.Amount, v.SignedInAgain = q.Get("invoice"), q.Get("amount"), true
		}
	}
	a.render(w, r, http.StatusOK, "pay", view{Title: "Call-centre payment", Nav: "pay", Data: v})
}

// payStepUp sends the customer to sign in again when stepgate cannot ask
// their phone (no device that can approve, or it could not find out): a
// fresh sign-in then stands in for the approval, and the form comes back
// filled in. The callback verifies the sign-in and elevates the session.
func (a *App) payStepUp(w http.ResponseWriter, r *http.Request, d *stepgateclient.Decision, inv, amount string) {
	if d.StepUp == nil || d.StepUp.AuthorizeURL == "" {
		a.fail(w, r, http.StatusForbidden, "stepgate asks for a new sign-in this app cannot start: "+strings.Join(d.Reasons, "; "), nil)
		return
	}
	back := "/pay?" + url.Values{"invoice": {inv}, "amount": {amount}, "signed_in_again": {"1"}}.Encode()
	p := stepgateclient.Pending{TransactionID: d.StepUp.TransactionID, State: d.StepUp.State, CodeVerifier: d.StepUp.CodeVerifier,
		ReturnTo: back, ExpiresAt: d.StepUp.ExpiresAt, DecisionID: d.ID}
	if err := a.guard.Store.SaveStepUp(w, r, p); err != nil {
		a.fail(w, r, http.StatusInternalServerError, "The new sign-in could not be started; nothing was charged.", err)
		return
	}
	a.log.InfoContext(r.Context(), "call-centre payment needs a fresh sign-in instead of a phone approval",
		"decision", d.ID, "reasons", d.Reasons)
	http.Redirect(w, r, d.StepUp.AuthorizeURL, http.StatusSeeOther)
}

// pay asks stepgate for billing.pay from the call centre. The policy
// answers ciba when the customer has a phone that can approve: the app
// starts the CIBA request stepgate offered and shows its status. Without
// one it answers step_up to a fresh sign-in, which then stands in for the
// approval (allow).
func (a *App) pay(w http.ResponseWriter, r *http.Request) {
	s := signedIn(r)
	inv, amountText := r.PostFormValue("invoice"), r.PostFormValue("amount")
	cents, err := parseAmount(amountText)
	if err == nil && !a.isOpenInvoice(inv) {
		err = errors.New("choose an open invoice")
	}
	if err != nil {
		a.render(w, r, http.StatusUnprocessableEntity, "pay", view{Title: "Call-centre payment", Nav: "pay",
			Data: payView{Invoices: a.openInvoices(), Amount: amountText, Error: err.Error()}})
		return
	}
	d, err := a.sg.Decide(r.Context(), stepgateclient.Request{
		Token: s.token, Action: "billing.pay", SessionID: s.id,
		Resource: &stepgateclient.Resource{Type: "invoice", ID: inv},
		Context:  map[string]any{"channel": "call_center", "amount": cents},
	})
	if err != nil {
		a.fail(w, r, http.StatusServiceUnavailable, "The payment could not be checked; nothing was charged.", err)
		return
	}
	p := payment{ID: d.ID, DecisionID: d.ID, Invoice: inv, Cents: cents, Created: a.now()}
	switch d.Outcome {
	case stepgateclient.CIBA:
		st, err := a.sg.StartCIBA(r.Context(), d.ID)
		if err != nil {
			a.fail(w, r, http.StatusBadGateway, "The approval request could not be sent to the customer's phone; nothing was charged.", err)
			return
		}
		p.ID, p.BindingMessage, p.Status = st.ID, st.BindingMessage, st.Status
	case stepgateclient.Allow:
		p.Status, p.Detail = "approved", "allowed without a phone approval: "+strings.Join(d.Reasons, "; ")
	case stepgateclient.StepUp:
		a.payStepUp(w, r, d, inv, amountText)
		return
	default:
		a.fail(w, r, http.StatusForbidden, "stepgate did not allow this payment: "+strings.Join(d.Reasons, "; "), nil)
		return
	}
	a.sessions.addPayment(s, p)
	a.log.InfoContext(r.Context(), "call-centre payment requested", "decision", d.ID, "ciba", p.ID, "status", p.Status)
	http.Redirect(w, r, "/payments/"+p.ID, http.StatusSeeOther)
}

func (a *App) isOpenInvoice(number string) bool {
	for _, inv := range a.openInvoices() {
		if inv.Number == number {
			return true
		}
	}
	return false
}

// payment shows a payment; while it is pending it asks stepgate for the
// CIBA status and reloads itself every few seconds.
func (a *App) payment(w http.ResponseWriter, r *http.Request) {
	s := signedIn(r)
	p, ok := a.sessions.payment(s, r.PathValue("id"))
	if !ok {
		a.fail(w, r, http.StatusNotFound, "There is no such payment in this session.", nil)
		return
	}
	if p.Status == "pending" {
		st, err := a.sg.CIBA(r.Context(), p.ID)
		if err != nil {
			a.log.WarnContext(r.Context(), "read CIBA status", "ciba", p.ID, "err", err)
		} else {
			p = a.settle(p, s, st)
			a.sessions.addPayment(s, p)
		}
	}
	v := view{Title: "Payment " + p.Invoice, Nav: "pay", Data: p}
	if p.Status == "pending" {
		v.Refresh = pollSeconds
	}
	a.render(w, r, http.StatusOK, "payment", v)
}

// settle applies a CIBA status to p. An approval counts only when stepgate
// verified it for the session's own user.
func (a *App) settle(p payment, s *session, st *stepgateclient.CIBAStatus) payment {
	switch st.Status {
	case "approved":
		if sub, _ := st.Claims["sub"].(string); sub != s.sub {
			p.Status, p.Detail = "error", fmt.Sprintf("approved by %q, not by the signed-in customer", sub)
			return p
		}
		p.Status = "approved"
		if at, ok := st.Claims["auth_time"].(float64); ok {
			p.ApprovedAt = time.Unix(int64(at), 0)
		}
	case "pending":
	default:
		p.Status, p.Detail = st.Status, st.Error
	}
	return p
}
