package storage

import "errors"

// Sentinel errors returned (wrapped) by every Store implementation. Callers
// test for them with errors.Is.
var (
	// ErrNotFound means the requested object does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists means a unique key (id, key hash, ...) is already taken.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrConflict means a concurrent change won the race; the caller may retry.
	ErrConflict = errors.New("storage: conflict")
	// ErrUsed means a single-use object (a step-up transaction) was already consumed.
	ErrUsed = errors.New("storage: already used")
	// ErrWasActive means a revision cannot be deleted because it is or once
	// was active: the bundles that decided requests stay for the record.
	ErrWasActive = errors.New("storage: revision is or was active")
	// ErrExpired means a time-limited object expired before it was used.
	ErrExpired = errors.New("storage: expired")
	// ErrInvalid means the caller passed an object that violates the storage
	// contract (for example an empty id); it is a programming error upstream.
	ErrInvalid = errors.New("storage: invalid argument")
)
