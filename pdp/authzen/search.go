package authzen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
)

// AuthZEN search (subject, resource and action search) for policies that
// say how to enumerate their entities.
//
// The Rego contract. Besides data.stepgate.decision, a bundle that supports
// search defines candidate rules in package stepgate.search:
//
//	data.stepgate.search.subjects   set (or array) of {"type", "id", "properties"?}
//	data.stepgate.search.resources  set (or array) of {"type", "id", "properties"?}
//	data.stepgate.search.actions    set (or array) of {"name", "properties"?} or names
//
// They are evaluated once per search with the search request as input (the
// searched entity carries only its type) and list what exists, not what is
// allowed: stepgate then puts each candidate of the requested type in place
// of the searched entity (whole, as AuthZEN evaluations replace entities) and
// evaluates data.stepgate.decision, keeping the candidates it allows. So a
// search result is exactly an entity for which /access/v1/evaluation would
// answer true, and the decision logic is written once. A candidate rule may
// use input to narrow the candidates cheaply; it never has to.
//
// A bundle without the rule for a kind finds nothing for that kind, as does a
// subject whose token fails verification, an unknown type or an unknown id.
// Results are ordered by type and id (actions by name) and paged with an
// opaque cursor bound to the request.

// SearchKind names the entity a search looks for.
type SearchKind string

// The three AuthZEN searches.
const (
	SearchSubject  SearchKind = "subject"
	SearchResource SearchKind = "resource"
	SearchAction   SearchKind = "action"
)

// Query returns the candidate rule the kind is answered from.
func (k SearchKind) Query() string {
	switch k {
	case SearchSubject:
		return "data.stepgate.search.subjects"
	case SearchResource:
		return "data.stepgate.search.resources"
	case SearchAction:
		return "data.stepgate.search.actions"
	}
	return ""
}

// Search page sizes.
const (
	DefaultSearchLimit = 1000
	MaxSearchLimit     = 1000
)

// SearchRequest is one AuthZEN search. In Input the searched entity has only
// its type (subject, resource) or is empty (action); any id it has is ignored.
type SearchRequest struct {
	Kind  SearchKind
	Input *policy.Input
	// Limit is the page size: 0 means DefaultSearchLimit, at most MaxSearchLimit.
	Limit int
	// Token is the next_token of the previous page, or "" for the first.
	Token string
}

// SearchResult is one entity found: Type and ID, or Name for an action.
type SearchResult struct {
	Type string
	ID   string
	Name string
}

// SearchPage is one page of results; NextToken is "" on the last page.
type SearchPage struct {
	Results   []SearchResult
	NextToken string
}

// RevisionSource returns the stored revision with the given id, files
// included, so that the search rules of the active policy can be compiled.
type RevisionSource func(ctx context.Context, id int64) (policy.Revision, error)

// SearcherConfig wires a Searcher. Service and Revision are required.
type SearcherConfig struct {
	Service  *pdp.Service
	Revision RevisionSource
	// MaxCandidates bounds what one candidate rule may return; default 10000.
	MaxCandidates int
	Logger        *slog.Logger
}

// Searcher answers AuthZEN searches against the Service's active policy.
// It is safe for concurrent use.
type Searcher struct {
	cfg SearcherConfig
	log *slog.Logger

	mu  sync.Mutex
	cur *searchQueries
}

// NewSearcher validates cfg and returns a Searcher.
func NewSearcher(cfg SearcherConfig) (*Searcher, error) {
	if cfg.Service == nil || cfg.Revision == nil {
		return nil, errors.New("authzen: searcher config: Service and Revision are required")
	}
	if cfg.MaxCandidates < 0 {
		return nil, errors.New("authzen: searcher config: MaxCandidates must not be negative")
	}
	cfg.MaxCandidates = cmp.Or(cfg.MaxCandidates, 10000)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Searcher{cfg: cfg, log: cfg.Logger}, nil
}

// Search returns one page of the entities of the requested kind that the
// active policy allows. Errors wrap ErrInvalidRequest for a bad limit or page
// token; any other error means the search could not be answered.
func (s *Searcher) Search(ctx context.Context, c clientauth.Client, req SearchRequest) (*SearchPage, error) {
	if req.Kind.Query() == "" {
		return nil, clientauth.Invalidf("unknown search kind %q", req.Kind)
	}
	if req.Input == nil {
		return nil, clientauth.Invalidf("search input is missing")
	}
	if req.Limit < 0 || req.Limit > MaxSearchLimit {
		return nil, clientauth.Invalidf("page.limit must be between 1 and %d", MaxSearchLimit)
	}
	limit := cmp.Or(req.Limit, DefaultSearchLimit)
	fp := searchFingerprint(req.Kind, req.Input)
	after, err := decodeCursor(req.Token, fp)
	if err != nil {
		return nil, err
	}
	page := &SearchPage{Results: []SearchResult{}}
	p := s.cfg.Service.Engine().Active()
	if p == nil {
		s.log.WarnContext(ctx, "authzen search with no active policy finds nothing")
		return page, nil
	}
	q, err := s.queries(ctx, p)
	if err != nil {
		return nil, err
	}
	in, ok := s.cfg.Service.SearchInput(ctx, c, req.Kind == SearchSubject, req.Input)
	if !ok {
		return page, nil
	}
	cands, err := s.candidates(ctx, q, req.Kind, in)
	if err != nil {
		return nil, err
	}
	last := ""
	for _, cand := range cands {
		if after != "" && cand.key <= after {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("authzen search: %w", err)
		}
		res := p.Eval(ctx, cand.apply(req.Kind, in))
		if res.Err != nil {
			s.log.WarnContext(ctx, "authzen search candidate failed closed", "kind", req.Kind, "candidate", cand.key, "err", res.Err)
		}
		if res.Outcome != policy.Allow {
			continue
		}
		if len(page.Results) == limit {
			page.NextToken = encodeCursor(last, fp)
			break
		}
		page.Results = append(page.Results, cand.result)
		last = cand.key
	}
	return page, nil
}
