package stepgateclient_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

// A web app guards its billing page: stepgate decides, the guard redirects
// to the IdP for step-up and the callback brings the user back. Each
// step-up gets its own cookie, so two tabs stepping up at once both come
// back to their page; a failed callback shows the app's own layout with a
// "Try again" link.
func ExampleGuard() {
	sg := &stepgateclient.Client{BaseURL: "http://127.0.0.1:8710", Key: "sgk_…"}
	g := &stepgateclient.Guard{
		Client:  sg,
		Token:   func(r *http.Request) string { c, _ := r.Cookie("id_token"); return cookieValue(c) },
		Session: func(r *http.Request) string { c, _ := r.Cookie("session"); return cookieValue(c) },
		Store:   stepgateclient.CookieStore{Key: []byte("0123456789abcdef0123456789abcdef")},
		OAuth: oauth2.Config{ClientID: "billing-web", RedirectURL: "http://127.0.0.1:8080/callback",
			Endpoint: oauth2.Endpoint{TokenURL: "https://idp.example/token", AuthStyle: oauth2.AuthStyleInParams}},
		SignIn: "/login", // signed-out visitors go to /login?return_to=/billing
		Layout: func(w http.ResponseWriter, r *http.Request, p stepgateclient.ErrorPage) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(p.Status)
			fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>%s</h1>%s", html.EscapeString(p.Title), html.EscapeString(p.Title), p.Body)
		},
	}
	mux := http.NewServeMux()
	mux.Handle("GET /billing", g.Require("billing.view", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "invoices")
	})))
	mux.Handle("GET /callback", g.Callback())
	fmt.Println("routes ready")
	// Output: routes ready
}

func cookieValue(c *http.Cookie) string {
	if c == nil {
		return ""
	}
	return c.Value
}

// A call-centre app starts the CIBA request a decision offered and waits
// for the customer to approve it on their phone.
func ExampleClient_WaitCIBA() {
	sg := &stepgateclient.Client{BaseURL: "http://127.0.0.1:8710", Key: "sgk_…"}
	pay := func(ctx context.Context, token string) error {
		d, err := sg.Decide(ctx, stepgateclient.Request{Token: token, Action: "billing.pay",
			Context: map[string]any{"channel": "call_center", "amount": 120000}})
		if err != nil || d.Outcome != stepgateclient.CIBA {
			return err
		}
		st, err := sg.StartCIBA(ctx, d.ID)
		if err != nil {
			return err
		}
		fmt.Println("ask the customer to confirm", st.BindingMessage)
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		st, err = sg.WaitCIBA(ctx, st.ID, 2*time.Second, nil)
		if err != nil {
			return err
		}
		fmt.Println("customer answered:", st.Status)
		return nil
	}
	_ = pay
}
