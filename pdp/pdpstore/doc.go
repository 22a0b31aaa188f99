// Package pdpstore adapts storage's CIBA and session-elevation methods to
// the interfaces the decision core declares for them:
//
//	storage (plain types, SQL in sqlstore)  ──►  pdpstore  ──►  backchannel.Store  (CIBARequests)
//	                                                        ──►  pdp.CIBAOffers     (CIBAOffers)
//	                                                        ──►  pdp.ElevationStore,
//	                                                             pdp.ElevationRevoker (Elevations)
//
// It converts types and maps storage's sentinel errors to the ones pdp and
// backchannel callers branch on (ErrNotFound → backchannel.ErrNotFound,
// ErrConflict → backchannel.ErrLeaseLost, ErrUsed → pdp.ErrCIBAOfferUsed, …).
// Each adapter declares the storage methods it calls as a small interface,
// which *sqlstore.Store satisfies, so this package imports storage's types
// but neither gorm nor sqlstore, and storage imports nothing of pdp. The
// engine itself (package pdp) still imports no storage at all; this leaf
// package is the seam, like pdphttp is for HTTP.
//
// Its tests run backchanneltest.RunStoreConformance and the offer and
// elevation contracts against SQLite and PostgreSQL through these adapters.
package pdpstore
