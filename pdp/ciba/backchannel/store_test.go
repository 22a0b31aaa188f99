package backchannel_test

import (
	"testing"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
	"github.com/stepgate/stepgate/pdp/ciba/backchannel/backchanneltest"
)

func TestMemoryStoreConformance(t *testing.T) {
	backchanneltest.RunStoreConformance(t, func(testing.TB) backchannel.Store { return backchannel.NewMemoryStore() })
}
