package extauthz

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/forwardauth"
)

// MetadataClientKey is the gRPC metadata that carries the proxy's client
// key; Envoy sends it with grpc_service.initial_metadata.
const MetadataClientKey = "x-stepgate-client-key"

// Decider answers for one original request with its headers on behalf of
// the proxy client; *forwardauth.Handler implements it.
type Decider interface {
	Decide(ctx context.Context, o forwardauth.Original, header http.Header, c clientauth.Client) (*forwardauth.Response, error)
}

// ClientAuthenticator resolves a client key; *clientauth.Authenticator
// implements it.
type ClientAuthenticator interface {
	Authenticate(ctx context.Context, key string) (clientauth.Client, error)
}

// Config wires a Server. Every field but Logger is required.
type Config struct {
	Decider Decider
	Clients ClientAuthenticator
	// Client is the decision API client Envoy is (forward_auth.client):
	// the only one whose key is accepted, and the one decisions are
	// audited under.
	Client string
	Logger *slog.Logger
}

// Server is the Authorization service.
type Server struct {
	authv3.UnimplementedAuthorizationServer
	cfg Config
	log *slog.Logger
}

// New validates cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Decider == nil || cfg.Clients == nil || cfg.Client == "" {
		return nil, errors.New("extauthz: Decider, Clients and Client are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: cfg.Logger}, nil
}

// Register adds the service to g.
func (s *Server) Register(g *grpc.Server) { authv3.RegisterAuthorizationServer(g, s) }

// Check answers one ext_authz request. A caller without the proxy
// client's key gets a gRPC error (Unauthenticated or PermissionDenied),
// which Envoy turns into a 403 with failure_mode_allow off; every other
// outcome is a CheckResponse.
func (s *Server) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	c, err := s.client(ctx)
	if err != nil {
		return nil, err
	}
	o, header, err := originalOf(req)
	if err != nil {
		return errorResponse(http.StatusBadRequest, "invalid_request", err.Error()), nil
	}
	res, err := s.cfg.Decider.Decide(ctx, o, header, c)
	switch {
	case errors.Is(err, clientauth.ErrInvalidRequest):
		return errorResponse(http.StatusBadRequest, "invalid_request", err.Error()), nil
	case errors.Is(err, clientauth.ErrUnavailable):
		s.log.WarnContext(ctx, "ext_authz: decision unavailable", "err", err)
		return errorResponse(http.StatusServiceUnavailable, "temporarily_unavailable", "the store is temporarily unavailable; retry later"), nil
	case err != nil:
		s.log.ErrorContext(ctx, "ext_authz: check failed", "err", err, "host", o.Host, "path", o.Path)
		return errorResponse(http.StatusInternalServerError, "server_error", "internal error; see the server log"), nil
	}
	return checkResponse(res), nil
}

// client authenticates Envoy by the key in the call's metadata.
func (s *Server) client(ctx context.Context) (clientauth.Client, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	keys := md.Get(MetadataClientKey)
	if len(keys) != 1 || keys[0] == "" {
		return clientauth.Client{}, status.Error(codes.Unauthenticated, "send the proxy client's key in the "+MetadataClientKey+" metadata")
	}
	c, err := s.cfg.Clients.Authenticate(ctx, keys[0])
	switch {
	case errors.Is(err, clientauth.ErrUnavailable):
		return clientauth.Client{}, status.Error(codes.Unavailable, "the store is temporarily unavailable; retry later")
	case err != nil:
		return clientauth.Client{}, status.Error(codes.Unauthenticated, "the client key is not valid")
	case c.ID != s.cfg.Client:
		return clientauth.Client{}, status.Errorf(codes.PermissionDenied, "client %q is not the forward-auth proxy client", c.ID)
	}
	return c, nil
}
