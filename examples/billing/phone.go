package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The simulated phone. In production the customer's authenticator app
// shows the CIBA request and answers the IdP itself; here the test
// provider's loopback-only /__test/ciba routes stand in for it. Enabled
// only with Config.PhoneSimulator.

// phoneRequest is a CIBA request waiting on the (simulated) phone.
type phoneRequest struct {
	AuthReqID      string `json:"auth_req_id"`
	ClientID       string `json:"client_id"`
	Sub            string `json:"sub"`
	BindingMessage string `json:"binding_message"`
}

func (a *App) phone(w http.ResponseWriter, r *http.Request) {
	var out struct {
		Pending []phoneRequest `json:"pending"`
	}
	if err := a.providerTest(r, http.MethodGet, "/__test/ciba/pending", &out); err != nil {
		a.fail(w, r, http.StatusBadGateway, "The simulated phone cannot reach the test identity provider.", err)
		return
	}
	a.render(w, r, http.StatusOK, "phone", view{Title: "Simulated phone", Nav: "phone", Data: struct {
		Pending []phoneRequest
		Done    string
	}{out.Pending, r.URL.Query().Get("done")}})
}

// phoneAnswer approves (with a multi-factor login, as a phone's
// authenticator would) or denies one pending request.
func (a *App) phoneAnswer(w http.ResponseWriter, r *http.Request) {
	answer := r.PathValue("answer")
	if answer != "approve" && answer != "deny" {
		a.fail(w, r, http.StatusNotFound, "The phone can only approve or deny.", nil)
		return
	}
	path := "/__test/ciba/" + url.PathEscape(r.PathValue("id")) + "/" + answer
	if err := a.providerTest(r, http.MethodPost, path, nil); err != nil {
		var pe *providerError
		if errors.As(err, &pe) && pe.status == http.StatusGone { // the request expired while the page was open
			http.Redirect(w, r, "/phone?done=expired", http.StatusSeeOther)
			return
		}
		a.fail(w, r, http.StatusBadGateway, "The simulated phone could not answer the request.", err)
		return
	}
	done := "approved"
	if answer == "deny" {
		done = "denied"
	}
	http.Redirect(w, r, "/phone?done="+done, http.StatusSeeOther)
}

// providerTest calls a test route of the provider and decodes its JSON.
func (a *App) providerTest(r *http.Request, method, path string, out any) error {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequestWithContext(r.Context(), method, a.issuer.JoinPath(path).String(), body)
	if err != nil {
		return fmt.Errorf("provider %s: %w", path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("provider %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("provider %s: read: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return &providerError{path: path, status: resp.StatusCode, body: string(raw)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("provider %s: decode: %w", path, err)
	}
	return nil
}

// providerError is a test route's non-200 answer.
type providerError struct {
	path   string
	status int
	body   string
}

func (e *providerError) Error() string {
	return fmt.Sprintf("provider %s: HTTP %d: %s", e.path, e.status, e.body)
}

// phoneEnrollment answers stepgate's enrollment lookup (issuers[].ciba.
// enrollment, mode http): {"push": true} when the user has the simulated
// phone, so that stepgate asks for CIBA only where the customer can approve.
func (a *App) phoneEnrollment(w http.ResponseWriter, r *http.Request) {
	sub := r.URL.Query().Get("sub")
	if sub == "" {
		http.Error(w, "sub is required", http.StatusBadRequest)
		return
	}
	push := a.cfg.PhoneUsers == nil || slices.Contains(a.cfg.PhoneUsers, sub)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]bool{"push": push})
}

// phoneUsers reads -phone-users: nil (everyone) when empty.
func phoneUsers(list string) []string {
	var out []string
	for u := range strings.SplitSeq(list, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}
