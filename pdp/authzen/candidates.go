package authzen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stepgate/stepgate/pdp/policy"
)

// ErrSearchPolicy is wrapped when a bundle's search rules cannot be used:
// they do not compile, or a candidate rule returns something malformed.
var ErrSearchPolicy = errors.New("policy search rules unusable")

// searchQueries are the candidate rules of one revision, compiled once.
type searchQueries struct {
	rev    int64
	hash   string
	byKind map[SearchKind]*policy.Policy
}

var searchKinds = []SearchKind{SearchSubject, SearchResource, SearchAction}

// queries returns the candidate rules of the revision p was built from,
// compiling them on the first search after an activation. Only the latest
// revision is kept: a search always runs against the active policy.
func (s *Searcher) queries(ctx context.Context, p *policy.Policy) (*searchQueries, error) {
	id, hash := p.Revision()
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.cur; cur != nil && cur.rev == id && cur.hash == hash {
		return cur, nil
	}
	rev, err := s.cfg.Revision(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("authzen search: load revision %d: %w", id, err)
	}
	if rev.ID != id || rev.Hash != hash {
		return nil, fmt.Errorf("authzen search: revision source returned %d/%s for the active policy %d/%s", rev.ID, rev.Hash, id, hash)
	}
	q := &searchQueries{rev: id, hash: hash, byKind: map[SearchKind]*policy.Policy{}}
	opts := s.cfg.Service.Engine().CompileOptions()
	for _, k := range searchKinds {
		opts.Query = k.Query()
		sp, err := policy.Compile(ctx, rev, opts)
		if err != nil {
			return nil, fmt.Errorf("%w: revision %d: %w", ErrSearchPolicy, id, err)
		}
		q.byKind[k] = sp
	}
	s.cur = q
	return q, nil
}

// candidate is one entity a candidate rule listed.
type candidate struct {
	key    string // sort and cursor key: type NUL id, or the action name
	result SearchResult
	props  map[string]any
}

// apply returns a copy of in with the candidate in place of the searched
// entity, replaced whole.
func (c candidate) apply(kind SearchKind, in *policy.Input) *policy.Input {
	out := *in
	switch kind {
	case SearchSubject:
		out.Subject = policy.Subject{Type: c.result.Type, ID: c.result.ID, Properties: c.props}
	case SearchResource:
		out.Resource = policy.Resource{Type: c.result.Type, ID: c.result.ID, Properties: c.props}
	case SearchAction:
		out.Action = policy.Action{Name: c.result.Name, Properties: c.props}
	}
	return &out
}

// candidates evaluates the kind's rule and returns the candidates of the
// requested type, deduplicated and sorted by key.
func (s *Searcher) candidates(ctx context.Context, q *searchQueries, kind SearchKind, in *policy.Input) ([]candidate, error) {
	v, defined, err := q.byKind[kind].Query(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("authzen search: %s: %w", kind.Query(), err)
	}
	if !defined || v == nil {
		s.log.DebugContext(ctx, "policy defines no search candidates", "rule", kind.Query(), "revision", q.rev)
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s must be a set or an array, got %T", ErrSearchPolicy, kind.Query(), v)
	}
	if len(items) > s.cfg.MaxCandidates {
		return nil, fmt.Errorf("%w: %s lists %d candidates, at most %d are searched", ErrSearchPolicy, kind.Query(), len(items), s.cfg.MaxCandidates)
	}
	wantType := ""
	switch kind {
	case SearchSubject:
		wantType = in.Subject.Type
	case SearchResource:
		wantType = in.Resource.Type
	}
	seen := make(map[string]bool, len(items))
	out := make([]candidate, 0, len(items))
	for i, it := range items {
		c, err := parseCandidate(kind, it)
		if err != nil {
			return nil, fmt.Errorf("%w: %s item %d: %w", ErrSearchPolicy, kind.Query(), i, err)
		}
		if (kind != SearchAction && c.result.Type != wantType) || seen[c.key] {
			continue
		}
		seen[c.key] = true
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b candidate) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

func parseCandidate(kind SearchKind, v any) (candidate, error) {
	if name, ok := v.(string); ok && kind == SearchAction {
		if name == "" {
			return candidate{}, errors.New("action name is empty")
		}
		return candidate{key: name, result: SearchResult{Name: name}}, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return candidate{}, fmt.Errorf("want an object, got %T", v)
	}
	var c candidate
	if p, present := obj["properties"]; present && p != nil {
		if c.props, ok = p.(map[string]any); !ok {
			return candidate{}, errors.New("properties must be an object")
		}
	}
	if kind == SearchAction {
		name, _ := obj["name"].(string)
		if name == "" {
			return candidate{}, errors.New("name must be a non-empty string")
		}
		c.key, c.result = name, SearchResult{Name: name}
		return c, nil
	}
	typ, _ := obj["type"].(string)
	id, _ := obj["id"].(string)
	if typ == "" || id == "" {
		return candidate{}, errors.New("type and id must be non-empty strings")
	}
	c.key, c.result = typ+"\x00"+id, SearchResult{Type: typ, ID: id}
	return c, nil
}
