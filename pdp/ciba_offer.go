package pdp

import (
	"context"
	"crypto/rand"

	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/trust"
)

// offerCIBA stores the decision's backchannel request as an offer when
// stepgate runs CIBA for the issuer and announces it in the answer (ciba.id,
// ciba.status_url). Without an offer store, or for an issuer stepgate does
// not run CIBA for, the answer carries the request parameters only. A store
// failure leaves the answer without an id: the app can still run CIBA
// itself with the parameters, and the decision itself is unaffected.
func (s *Service) offerCIBA(ctx context.Context, c *call, d *Decision, issuer *trust.IssuerConfig) {
	if s.cfg.CIBAOffers == nil || d.CIBA == nil || issuer == nil || issuer.CIBA == nil {
		return
	}
	id := rand.Text()
	now := s.now()
	o := ciba.Offer{ID: id, DecisionID: d.ID, ClientID: c.client.ID, Issuer: issuer.Issuer,
		Subject: c.input.Subject.ID, Action: c.input.Action.Name, Request: d.CIBA.Request,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.StepUpTTL)}
	if d.Requirements != nil {
		o.Requirements = *d.Requirements
	}
	if err := s.cfg.CIBAOffers.SaveCIBAOffer(ctx, o); err != nil {
		s.log.ErrorContext(ctx, "ciba offer could not be stored; answering with the request parameters only", "decision_id", d.ID, "err", err)
		return
	}
	d.CIBA.ID, d.CIBA.StatusURL = id, ciba.StatusPath(id)
}
