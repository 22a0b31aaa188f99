package pdphttp

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp/authzen"
	"github.com/stepgate/stepgate/pdp/policy"
)

// searchResponse is an AuthZEN search answer. Results are exactly
// {"type","id"} for subjects and resources and {"name"} for actions;
// page.next_token is "" on the last page.
type searchResponse struct {
	Results []any      `json:"results"`
	Page    searchPage `json:"page"`
}

type searchPage struct {
	NextToken string `json:"next_token"`
}

type entityResult struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type actionResult struct {
	Name string `json:"name"`
}

// searchHandler answers POST /access/v1/search/{kind}.
func (a *authzenRoutes) searchHandler(kind authzen.SearchKind) echo.HandlerFunc {
	return func(c echo.Context) error {
		obj, err := a.s.authzenBody(c)
		if err != nil {
			return err
		}
		req, err := parseSearch(kind, obj)
		if err != nil {
			return err
		}
		page, err := a.search.Search(c.Request().Context(), ClientOf(c), req)
		if err != nil {
			return err
		}
		out := searchResponse{Results: make([]any, len(page.Results)), Page: searchPage{NextToken: page.NextToken}}
		for i, r := range page.Results {
			if kind == authzen.SearchAction {
				out.Results[i] = actionResult{Name: r.Name}
			} else {
				out.Results[i] = entityResult{Type: r.Type, ID: r.ID}
			}
		}
		return c.JSON(http.StatusOK, out)
	}
}

// parseSearch validates a search request. The searched entity needs only
// its type (subject, resource; an id it carries is ignored) or may be absent
// (action); the other entities must be complete, so an input entity without
// an id is a 400.
func parseSearch(kind authzen.SearchKind, obj map[string]any) (authzen.SearchRequest, error) {
	req := authzen.SearchRequest{Kind: kind, Input: &policy.Input{}}
	in := req.Input
	se, err := azEntity(obj, "", "subject", kind != authzen.SearchSubject)
	if err != nil {
		return req, err
	}
	if in.Subject, err = azSubject(se, ""); err != nil {
		return req, err
	}
	if kind != authzen.SearchAction {
		if in.Action, err = azAction(obj, ""); err != nil {
			return req, err
		}
	}
	re, err := azEntity(obj, "", "resource", kind != authzen.SearchResource)
	if err != nil {
		return req, err
	}
	in.Resource = policy.Resource(re)
	if in.Context, _, err = azObject(obj, "", "context"); err != nil {
		return req, err
	}
	req.Limit, req.Token, err = parsePage(obj)
	return req, err
}

// parsePage reads page.limit (an integer from 1 to pdp.MaxSearchLimit) and
// page.token.
func parsePage(obj map[string]any) (int, string, error) {
	page, ok, err := azObject(obj, "", "page")
	if err != nil || !ok {
		return 0, "", err
	}
	token, err := azString(page, "page", "token", false)
	if err != nil {
		return 0, "", err
	}
	v, ok := azField(page, "limit")
	if !ok {
		return 0, token, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, "", invalidf("page.limit must be a number")
	}
	limit, err := n.Int64()
	if err != nil || limit < 1 || limit > authzen.MaxSearchLimit {
		return 0, "", invalidf("page.limit must be an integer from 1 to %d", authzen.MaxSearchLimit)
	}
	return int(limit), token, nil
}
