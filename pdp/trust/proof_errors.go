package trust

import "fmt"

// Error codes of step-up verification, returned as `error` by
// POST /v1/stepup/verify.
const (
	VerifyInvalidRequest     = "invalid_request"
	VerifyUnknownTransaction = "unknown_transaction"
	VerifyTransactionUsed    = "transaction_used"
	VerifyTransactionExpired = "transaction_expired"
	VerifyInvalidToken       = "invalid_token"
	VerifyNonceMismatch      = "nonce_mismatch"
	VerifyMissingAuthTime    = "missing_auth_time"
	VerifyStaleAuthTime      = "stale_auth_time"
	VerifyInsufficient       = "insufficient_authentication"
	VerifySubjectMismatch    = "subject_mismatch"
	VerifyUnavailable        = "temporarily_unavailable"
)

// VerifyError says why a step-up could not be verified.
type VerifyError struct {
	Code        string
	Description string
	Err         error
}

func (e *VerifyError) Error() string { return "step-up verification: " + e.Code + ": " + e.Description }
func (e *VerifyError) Unwrap() error { return e.Err }

// VerifyErrorf returns a *VerifyError with code and a formatted description.
func VerifyErrorf(code, format string, args ...any) *VerifyError {
	return &VerifyError{Code: code, Description: fmt.Sprintf(format, args...)}
}
