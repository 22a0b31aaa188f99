package forwardauth

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/stepgate/stepgate/pdp/policy"
)

// Route maps requests to the action a decision is asked for.
type Route struct {
	// Host is the request's host (without port), "*.example.com" for any
	// subdomain, or empty for any host.
	Host string `yaml:"host" json:"host,omitempty"`
	// Methods are HTTP methods (GET, POST, …); empty means any.
	Methods []string `yaml:"methods" json:"methods,omitempty"`
	// Path is a path.Match pattern of the cleaned request path ("/invoices/*"),
	// an exact path, or a prefix ending in "/**" ("/billing/**" is /billing
	// and everything under it).
	Path string `yaml:"path" json:"path"`
	// Action is the policy action, e.g. billing.view.
	Action string `yaml:"action" json:"action"`
	// ResourceType is the resource.type of the decision; default "http".
	ResourceType string `yaml:"resource_type" json:"resource_type,omitempty"`
}

// DefaultRoute is what an unmatched request gets: an action, or deny.
type DefaultRoute struct {
	Action       string `yaml:"action" json:"action,omitempty"`
	ResourceType string `yaml:"resource_type" json:"resource_type,omitempty"`
	// Deny refuses unmatched requests without asking the policy.
	Deny bool `yaml:"deny" json:"deny,omitempty"`
}

// Table is an ordered route table: the first matching route wins.
type Table struct {
	routes []Route
	def    DefaultRoute
}

// NewTable validates the routes and the default. The default must be
// explicit: an action, or deny.
func NewTable(routes []Route, def DefaultRoute) (*Table, error) {
	var errs []error
	own := make([]Route, len(routes))
	for i, r := range routes {
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("routes[%d]: %w", i, err))
		}
		r.Methods = slices.Clone(r.Methods)
		for j, m := range r.Methods {
			r.Methods[j] = strings.ToUpper(m)
		}
		r.Host = strings.ToLower(r.Host)
		own[i] = r
	}
	switch {
	case def.Deny && def.Action != "":
		errs = append(errs, errors.New("default: set action or deny, not both"))
	case !def.Deny && def.Action == "":
		errs = append(errs, errors.New("default: an explicit action or deny: true is required for unmatched routes"))
	case def.Action != "" && !policy.ValidAction(def.Action):
		errs = append(errs, fmt.Errorf("default: action %q must match %s", def.Action, policy.ActionPattern))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("forward_auth: %w", err)
	}
	return &Table{routes: own, def: def}, nil
}

func (r Route) validate() error {
	switch {
	case !strings.HasPrefix(r.Path, "/"):
		return fmt.Errorf("path %q must start with /", r.Path)
	case !policy.ValidAction(r.Action):
		return fmt.Errorf("action %q must match %s", r.Action, policy.ActionPattern)
	}
	if _, err := path.Match(strings.TrimSuffix(r.Path, "/**"), "/"); err != nil {
		return fmt.Errorf("path %q: %w", r.Path, err)
	}
	return nil
}

// Match returns the action and resource type for a request, and false when
// the default denies it. host has no port; p is the cleaned path.
func (t *Table) Match(host, method, p string) (action, resourceType string, ok bool) {
	host = strings.ToLower(host)
	for _, r := range t.routes {
		if r.matches(host, method, p) {
			return r.Action, resourceTypeOr(r.ResourceType), true
		}
	}
	if t.def.Deny {
		return "", "", false
	}
	return t.def.Action, resourceTypeOr(t.def.ResourceType), true
}

func (r Route) matches(host, method, p string) bool {
	if len(r.Methods) > 0 && !slices.Contains(r.Methods, method) {
		return false
	}
	switch {
	case r.Host == "":
	case strings.HasPrefix(r.Host, "*."):
		if !strings.HasSuffix(host, r.Host[1:]) {
			return false
		}
	case r.Host != host:
		return false
	}
	if base, ok := strings.CutSuffix(r.Path, "/**"); ok {
		if p == base || strings.HasPrefix(p, base+"/") || base == "" {
			return true
		}
		ok, _ := path.Match(base, p)
		return ok
	}
	ok, _ := path.Match(r.Path, p)
	return ok
}

func resourceTypeOr(t string) string {
	if t == "" {
		return "http"
	}
	return t
}
