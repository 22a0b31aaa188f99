package pdptest

import (
	"context"

	"github.com/stepgate/stepgate/pdp"
)

// Clients is a fixed pdp.ClientLookup for tests: key hash (pdp.HashKey) to
// client. An unknown hash is pdp.ErrUnauthenticated.
type Clients map[string]pdp.Client

// ClientByKeyHash implements pdp.ClientLookup.
func (c Clients) ClientByKeyHash(_ context.Context, h string) (pdp.Client, error) {
	if cl, ok := c[h]; ok {
		return cl, nil
	}
	return pdp.Client{}, pdp.ErrUnauthenticated
}
