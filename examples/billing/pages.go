package main

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

// invoice is a line on the billing page (sample data: the demo has no
// billing backend).
type invoice struct {
	Number, Period, Status string
	Cents                  int64
}

var sampleInvoices = []invoice{
	{"INV-2041", "March 2026", "open", 12000},
	{"INV-1987", "February 2026", "paid", 11850},
	{"INV-1932", "January 2026", "paid", 12400},
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "home", view{Title: "Home", Nav: "home", Data: struct{ Window string }{
		humanDuration(a.cfg.BillingWindow)}})
}

// humanDuration writes d as people say it ("15 minutes", "1 minute",
// "90 seconds", "1 hour 30 minutes"); "" for zero.
func humanDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Hour && d%time.Minute == 0:
		return unit(int64(d/time.Hour), "hour") + " " + unit(int64(d%time.Hour/time.Minute), "minute")
	case d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(d.Round(time.Second)/time.Second), "second")
}

func (a *App) signedOut(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "signedout", view{Title: "Signed out"})
}

// claimRow is one line of the profile's claim table.
type claimRow struct {
	Name  string
	Value any
}

func (a *App) profile(w http.ResponseWriter, r *http.Request) {
	s := signedIn(r)
	rows := make([]claimRow, 0, len(s.claims))
	for _, k := range []string{"sub", "email", "preferred_username", "acr", "amr", "auth_time", "iss", "aud"} {
		if v, ok := s.claims[k]; ok {
			rows = append(rows, claimRow{k, v})
		}
	}
	a.render(w, r, http.StatusOK, "profile", view{Title: "Profile", Nav: "profile", Data: struct {
		Sub, SessionID string
		Claims         []claimRow
	}{s.sub, s.id, rows}})
}

// billing runs only when stepgate allowed billing.view.
func (a *App) billing(w http.ResponseWriter, r *http.Request) {
	d, _ := stepgateclient.DecisionFrom(r.Context())
	var decisionID string
	var reasons []string
	if d != nil {
		decisionID, reasons = d.ID, d.Reasons
	}
	s := a.sessionOf(r)
	if s == nil { // signed out in another tab since the guard ran
		http.Redirect(w, r, stepgateclient.SignInURL("/login", r), http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "billing", view{Title: "Billing", Nav: "billing", Data: struct {
		Invoices   []invoice
		Payments   []payment
		DecisionID string
		Reasons    []string
	}{slices.Clone(sampleInvoices), a.sessions.paymentsOf(s), decisionID, reasons}})
}
