package pdphttp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/forwardauth"
)

// HeaderForwardAuthKey carries the proxy's client key on /v1/forward-auth:
// Authorization belongs to the user's request the proxy forwards.
const HeaderForwardAuthKey = "X-Stepgate-Client-Key"

// ForwardAuthConfig is how a reverse proxy reaches forward auth.
type ForwardAuthConfig struct {
	Handler *forwardauth.Handler
	// Client is the decision API client the proxy is: the only one whose
	// key forward auth accepts (empty: any client's), and the one a proxy
	// connecting from TrustedProxies is without a key (Traefik cannot add
	// a header to its auth request).
	Client         string
	TrustedProxies []netip.Prefix
}

// RegisterForwardAuth adds the routes of forward auth:
//
//	ANY /v1/forward-auth   the proxy's subrequest (client key in
//	                       X-Stepgate-Client-Key, or a trusted proxy address)
//	GET <callback path>    the IdP's redirect back (browser, via the proxy)
//	ANY <sign-out path>    GET or POST: sign the browser out
//
// Every decision is audited with the proxy's client id.
func (s *Server) RegisterForwardAuth(cfg ForwardAuthConfig) error {
	if cfg.Handler == nil {
		return errors.New("pdphttp: forward auth needs a Handler")
	}
	if len(cfg.TrustedProxies) > 0 && cfg.Client == "" {
		return errors.New("pdphttp: forward auth: trusted proxies need the client they are")
	}
	h := forwardAuthHandlers{s: s, cfg: cfg}
	s.echo.Any("/v1/forward-auth", h.check)
	s.echo.GET(cfg.Handler.CallbackPath(), echo.WrapHandler(http.HandlerFunc(cfg.Handler.Callback)))
	s.echo.GET(cfg.Handler.SignOutPath(), echo.WrapHandler(http.HandlerFunc(cfg.Handler.SignOut)))
	s.echo.POST(cfg.Handler.SignOutPath(), echo.WrapHandler(http.HandlerFunc(cfg.Handler.SignOut)))
	return nil
}

type forwardAuthHandlers struct {
	s   *Server
	cfg ForwardAuthConfig
}

func (h forwardAuthHandlers) check(c echo.Context) error {
	cl, err := h.proxyClient(c)
	if err != nil {
		return err
	}
	return h.cfg.Handler.Check(c.Response(), c.Request(), cl)
}

// proxyClient authenticates the proxy: its client key, else its address.
func (h forwardAuthHandlers) proxyClient(c echo.Context) (clientauth.Client, error) {
	req := c.Request()
	if key := req.Header.Get(HeaderForwardAuthKey); key != "" {
		cl, err := h.s.cfg.Clients.Authenticate(req.Context(), key)
		if err == nil && h.cfg.Client != "" && cl.ID != h.cfg.Client {
			return clientauth.Client{}, fmt.Errorf("%w: client %q is not the forward-auth proxy client", clientauth.ErrForbidden, cl.ID)
		}
		return cl, err
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return clientauth.Client{}, clientauth.ErrUnauthenticated
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return clientauth.Client{}, clientauth.ErrUnauthenticated
	}
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(addr.Unmap()) {
			return clientauth.Client{ID: h.cfg.Client}, nil
		}
	}
	return clientauth.Client{}, clientauth.ErrUnauthenticated
}
