// Package domain holds the payment service's business types, their rules
// and its errors. It knows nothing of HTTP or MongoDB.
package domain

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error by what the caller did wrong (or what went wrong
// for them). The HTTP layer maps each kind to one status and error type.
type Kind int

// Error kinds. KindInternal is the zero value so that an uncoded error is
// never mistaken for the caller's fault.
const (
	KindInternal             Kind = iota // a bug or unexpected failure: 500
	KindValidation                       // a field has a bad value: 422
	KindInvalidRequest                   // the request is malformed: 400
	KindNotFound                         // no such resource or route: 404
	KindMethodNotAllowed                 // the route exists, the method does not: 405
	KindConflict                         // the resource is in the wrong state: 409
	KindTooLarge                         // the body is over the limit: 413
	KindTooEarly                         // the resource is not ready yet: 425
	KindIdempotencyInUse                 // the key's first request is still running: 409
	KindIdempotencyMismatch              // the key was used with another request: 422
	KindCard                             // the payment method was refused: 402
	KindUnauthorized                     // missing or wrong credentials: 401
	KindRateLimited                      // too many requests: 429
	KindPaymentFailed                    // the payment provider failed the charge: 502
	KindUnavailable                      // a dependency (MongoDB) is unreachable: 503
	KindUnsupportedMediaType             // the body is not declared as JSON: 415
	KindForbidden                        // the route is switched off for everyone: 403
)

// Error is the one error type the service reports to callers. Code is a
// stable machine-readable string, Message is safe to show to a client, and
// Param names the offending request field, if any.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Param   string
	// RetryAfter, when set, tells the client when trying again makes sense.
	RetryAfter time.Duration
	// Err is the underlying cause, kept for logs, never shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error of the given kind and code with a formatted message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports a validation failure of one request field.
func Invalid(param, code, format string, args ...any) *Error {
	return &Error{Kind: KindValidation, Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// Unavailable wraps a dependency failure so callers get 503 rather than 500.
func Unavailable(err error) *Error {
	return &Error{Kind: KindUnavailable, Code: "service_unavailable", Message: "The service is temporarily unavailable; retry with the same Idempotency-Key.", Err: err}
}

// AsError returns the *Error inside err, if there is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf returns the kind of err, KindInternal for uncoded errors.
func KindOf(err error) Kind {
	if e, ok := AsError(err); ok {
		return e.Kind
	}
	return KindInternal
}

// ErrNotFound is returned by stores when a document does not exist.
var ErrNotFound = errors.New("not found")
