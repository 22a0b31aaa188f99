package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// PlaygroundClient is the client id the playground decides as, where the
// decision API puts the calling client's.
const PlaygroundClient = "playground"

// IsDecisionRequest tells the decision API's request shape
// ({"claims": …, "action": "billing.view"}) from the policy input shape
// ({"subject": …, "action": {"name": …}}): a request names its action with
// a string and carries claims or a token at the top level.
func IsDecisionRequest(body []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	if a, ok := top["action"]; ok {
		return bytes.HasPrefix(bytes.TrimSpace(a), []byte(`"`))
	}
	_, claims := top["claims"]
	_, token := top["token"]
	_, subject := top["subject"]
	return (claims || token) && !subject
}

// ParseInput decodes a policy input. Its authn facts are derived from its
// claims when missing, like the decision API derives them.
func ParseInput(body []byte) (*policy.Input, error) {
	var in policy.Input
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("%w: the input is neither a policy input nor a decision API request: %v", ErrInvalid, err)
	}
	if in.Subject.Authn == nil && in.Subject.Claims != nil {
		in.Subject.Authn = policy.NormalizeAuthn(in.Subject.Claims, trust.MFAACRValues(nil), in.Now)
	}
	return &in, nil
}

// RequestInput builds the policy input the decision API builds for req
// (pdp.Service.DecideBatch, then decide) at now, for PlaygroundClient. It
// validates req as the decision API does for a client that may assert
// claims. A token is refused: the playground verifies no tokens, so it
// takes the claims a verified token would carry. MFA is read with the
// default acr values (an issuer's own mfa_acr_values are not applied).
func RequestInput(req *pdp.Request, now time.Time) (*policy.Input, error) {
	if req.Token != "" {
		return nil, fmt.Errorf("%w: the playground does not verify tokens; send the token's claims as \"claims\" instead", ErrInvalid)
	}
	if err := req.Validate(clientauth.Client{ID: PlaygroundClient, AssertClaims: true}); err != nil {
		return nil, fmt.Errorf("%w: as a decision API request: %v", ErrInvalid, err)
	}
	in := &policy.Input{
		Subject:  policy.Subject{Type: "user", Claims: req.Claims},
		Action:   policy.Action{Name: req.Action},
		Resource: req.Resource,
		Context:  req.Context,
		Now:      now.Unix(),
		Client:   policy.Caller{ID: PlaygroundClient},
	}
	if sub, _ := req.Claims["sub"].(string); sub != "" {
		in.Subject.ID = sub
	}
	in.Subject.Authn = policy.NormalizeAuthn(req.Claims, trust.MFAACRValues(nil), in.Now)
	return in, nil
}
