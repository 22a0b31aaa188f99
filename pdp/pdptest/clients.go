package pdptest

import (
	"context"

	"github.com/stepgate/stepgate/pdp/clientauth"
)

// Clients is a fixed pdp.ClientLookup for tests: key hash (pdp.HashKey) to
// client. An unknown hash is pdp.ErrUnauthenticated.
type Clients map[string]clientauth.Client

// ClientByKeyHash implements pdp.ClientLookup.
func (c Clients) ClientByKeyHash(_ context.Context, h string) (clientauth.Client, error) {
	if cl, ok := c[h]; ok {
		return cl, nil
	}
	return clientauth.Client{}, clientauth.ErrUnauthenticated
}
