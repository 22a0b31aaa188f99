package stepgateclient

import (
	"bytes"
	"html/template"
	"net/http"
)

// ErrorPage is the default callback error page's content, for a Layout
// hook to place in the app's own page.
type ErrorPage struct {
	// Status is the HTTP status (CallbackError.Status).
	Status int
	// Title is a short heading, e.g. "Sign-in cancelled".
	Title string
	// Body is the page's content: what happened in the user's words, a
	// "Try again" link to the page they wanted and the decision id as a
	// reference. It is safe HTML.
	Body template.HTML
	// Err is the failure shown.
	Err *CallbackError
}

// userText is what a user reads for each kind: no engine wording.
func userText(e *CallbackError) (title, message string) {
	switch e.Kind {
	case ErrCancelled:
		return "Sign-in cancelled", "You cancelled the check at the sign-in page, so nothing was unlocked."
	case ErrExpired:
		return "The sign-in took too long", "The check expired before it was completed, so nothing was unlocked. Please start again."
	case ErrReplayed:
		return "This sign-in was already used", "This sign-in link was already used — perhaps you went Back or reloaded the page. It cannot be used twice."
	case ErrUnknownState:
		return "The sign-in could not be matched", "This sign-in does not match one started in this browser: the link may have been altered, or the browser lost its cookies. Nothing was unlocked."
	case ErrRefused:
		switch e.Code {
		case codeInsufficient:
			return "The check was not strong enough", "The sign-in did not include the check this page needs, such as a one-time code. Nothing was unlocked."
		case codeStaleAuthTime, codeMissingAuthTime:
			return "The sign-in was not recent enough", "This page needs a sign-in made just now. Nothing was unlocked."
		case codeSubjectMismatch:
			return "A different account signed in", "The check was completed for a different account than the one signed in here. Nothing was unlocked."
		}
		return "The sign-in was not accepted", "The answer from the sign-in page could not be accepted. Nothing was unlocked."
	case ErrProvider:
		return "The sign-in page reported a problem", "The sign-in could not be completed at the identity provider. Nothing was unlocked."
	}
	return "The sign-in could not be checked", "The sign-in could not be checked right now. Nothing was unlocked; please try again in a moment."
}

var errorBody = template.Must(template.New("body").Parse(
	`<div class="stepgate-error" data-kind="{{.Kind}}" role="alert"><p>{{.Message}}</p></div>
<p><a class="stepgate-try-again" href="{{.TryAgain}}">Try again</a></p>
{{- with .Reference}}
<p class="stepgate-reference">Reference: decision <code>{{.}}</code></p>
{{- end}}`))

var standalone = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body><main><h1>{{.Title}}</h1>
{{.Body}}</main></body></html>
`))

// kindName is a stable word for each kind, for data-kind and logs.
func kindName(kind error) string {
	switch kind {
	case ErrCancelled:
		return "cancelled"
	case ErrExpired:
		return "expired"
	case ErrReplayed:
		return "replayed"
	case ErrUnknownState:
		return "unknown_state"
	case ErrRefused:
		return "refused"
	case ErrProvider:
		return "provider_error"
	}
	return "unavailable"
}

// NewErrorPage builds the default page for e; "Try again" leads to e's
// ReturnTo when it is a same-origin path, else to home.
func NewErrorPage(e *CallbackError, home string) (ErrorPage, error) {
	title, message := userText(e)
	var buf bytes.Buffer
	err := errorBody.Execute(&buf, struct {
		Kind, Message, TryAgain, Reference string
	}{kindName(e.Kind), message, SafeReturnTo(e.ReturnTo, SafeReturnTo(home, "/")), e.DecisionID})
	if err != nil {
		return ErrorPage{}, err
	}
	return ErrorPage{Status: e.Status(), Title: title, Body: template.HTML(buf.String()), Err: e}, nil // #nosec G203 -- built by html/template
}

// errorPage renders the default page, in Layout when the app set one.
func (g *Guard) errorPage(w http.ResponseWriter, r *http.Request, e *CallbackError) {
	p, err := NewErrorPage(e, g.home())
	if err != nil {
		g.log().ErrorContext(r.Context(), "step-up error page", "err", err)
		http.Error(w, "the sign-in could not be completed", e.Status())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if g.Layout != nil {
		g.Layout(w, r, p)
		return
	}
	var buf bytes.Buffer
	if err := standalone.Execute(&buf, p); err != nil {
		g.log().ErrorContext(r.Context(), "step-up error page", "err", err)
		http.Error(w, "the sign-in could not be completed", e.Status())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(p.Status)
	_, _ = buf.WriteTo(w)
}
