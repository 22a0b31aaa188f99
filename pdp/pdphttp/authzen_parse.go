package pdphttp

import (
	"mime"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp/policy"
)

// maxEntityField bounds type, id and name values.
const maxEntityField = 1024

// authzenBody reads an AuthZEN request body: Content-Type application/json
// (parameters such as charset allowed), a non-empty body within the size
// limit, strict JSON, and an object at the top. A wrong or missing media type
// is a 400, as the AuthZEN certification suite expects, not a 415. Unknown
// members are kept and ignored by the readers below, as AuthZEN requires.
func (s *Server) authzenBody(c echo.Context) (map[string]any, error) {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || !strings.EqualFold(mt, echo.MIMEApplicationJSON) {
		return nil, invalidf("Content-Type must be application/json")
	}
	body, err := s.Body(c)
	if err != nil {
		return nil, err
	}
	v, err := DecodeJSON(body)
	if err != nil {
		return nil, invalidf("%s", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, invalidf("the request body must be a JSON object")
	}
	return obj, nil
}

// azField reads one member of an AuthZEN object; null counts as absent.
func azField(obj map[string]any, k string) (any, bool) {
	v, ok := obj[k]
	return v, ok && v != nil
}

// azObject returns obj[k] as an object; absent is (nil, false, nil).
func azObject(obj map[string]any, path, k string) (map[string]any, bool, error) {
	v, ok := azField(obj, k)
	if !ok {
		return nil, false, nil
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		return nil, false, invalidf("%s must be an object", join(path, k))
	}
	return m, true, nil
}

// azString returns obj[k] as a string; required makes absence an error.
func azString(obj map[string]any, path, k string, required bool) (string, error) {
	v, ok := azField(obj, k)
	if !ok {
		if required {
			return "", invalidf("%s is required", join(path, k))
		}
		return "", nil
	}
	s, isStr := v.(string)
	switch {
	case !isStr:
		return "", invalidf("%s must be a string", join(path, k))
	case s == "" && required:
		return "", invalidf("%s must not be empty", join(path, k))
	case len(s) > maxEntityField:
		return "", invalidf("%s is longer than %d bytes", join(path, k), maxEntityField)
	}
	return s, nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// entity is a subject or resource as sent.
type entity struct {
	Type, ID   string
	Properties map[string]any
}

// azEntity reads the subject or resource member k of obj: an object with a
// string type, a string id (required unless needID is false; then it may be
// absent but not wrongly typed) and optional object properties.
func azEntity(obj map[string]any, path, k string, needID bool) (entity, error) {
	m, ok, err := azObject(obj, path, k)
	if err != nil {
		return entity{}, err
	}
	if !ok {
		return entity{}, invalidf("%s is required", join(path, k))
	}
	p := join(path, k)
	var e entity
	if e.Type, err = azString(m, p, "type", true); err != nil {
		return entity{}, err
	}
	if e.ID, err = azString(m, p, "id", needID); err != nil {
		return entity{}, err
	}
	if e.Properties, _, err = azObject(m, p, "properties"); err != nil {
		return entity{}, err
	}
	return e, nil
}

// azAction reads the action member of obj: {name, properties?}.
func azAction(obj map[string]any, path string) (policy.Action, error) {
	m, ok, err := azObject(obj, path, "action")
	if err != nil {
		return policy.Action{}, err
	}
	if !ok {
		return policy.Action{}, invalidf("%s is required", join(path, "action"))
	}
	p := join(path, "action")
	var a policy.Action
	if a.Name, err = azString(m, p, "name", true); err != nil {
		return policy.Action{}, err
	}
	if a.Properties, _, err = azObject(m, p, "properties"); err != nil {
		return policy.Action{}, err
	}
	return a, nil
}

// azSubject converts e and checks the one property stepgate reads itself:
// properties.token, the user's token, must be a string.
func azSubject(e entity, path string) (policy.Subject, error) {
	if tok, ok := e.Properties["token"]; ok {
		if _, isStr := tok.(string); !isStr {
			return policy.Subject{}, invalidf("%s must be a string (the user's token)", join(path, "subject.properties.token"))
		}
	}
	return policy.Subject{Type: e.Type, ID: e.ID, Properties: e.Properties}, nil
}
