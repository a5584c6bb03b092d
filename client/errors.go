package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error codes the client acts on, or that callers commonly check. The
// service's API contract (api/openapi.yaml) lists every code.
const (
	CodeIdempotencyKeyInUse   = "idempotency_key_in_use" // 409: a request with this key still runs; retried
	CodeIdempotencyKeyReused  = "idempotency_key_reused" // 422: the key was used for another request; never retried
	CodePaymentProcessing     = "payment_processing"     // 425: the intent is still processing; retried
	CodeRateLimited           = "rate_limited"           // 429; retried
	CodeServiceUnavailable    = "service_unavailable"    // 503: the store does not answer; retried
	CodeProviderTimeout       = "provider_timeout"       // 503: the provider did not answer in time; retried
	CodeInternalError         = "internal_error"         // 500; retried, the service asks for it
	CodePaymentFailed         = "payment_failed"         // 502 from CreateOrder: a declined charge, final and replayed
	CodeUnexpectedState       = "payment_intent_unexpected_state"
	CodeAmountTooLarge        = "amount_too_large"
	CodeChargeAlreadyRefunded = "charge_already_refunded"
	CodeResourceMissing       = "resource_missing"
	CodeInvalidURL            = "invalid_url"      // 422 from CreateWebhookEndpoint
	CodeURLHostRefused        = "url_host_refused" // 422 from CreateWebhookEndpoint: a link-local or metadata address
)

// Error is an error answer of the service, after any retries: its status,
// the {"error": {...}} envelope's fields, and what the call knows about it.
// Every error answer of a call is one of these; use errors.As to get it.
type Error struct {
	StatusCode int    // HTTP status
	Type       string // error.type: invalid_request_error, validation_error, idempotency_error, api_error, …
	Code       string // error.code, stable and machine-readable
	Param      string // error.param: the field or header at fault, if any
	Message    string // error.message, for people

	RequestID      string        // X-Request-Id: quote it to find the server's log line
	RetryAfter     time.Duration // Retry-After, when sent
	IdempotencyKey string        // the call's key ("" for reads and deletes)
	Replayed       bool          // a stored answer, replayed (a declined order's 502, say)
	Attempts       int           // HTTP attempts the call made

	body []byte // the raw body, for routes whose errors carry more (a declined order)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "payments: %d", e.StatusCode)
	if e.Type != "" || e.Code != "" {
		fmt.Fprintf(&b, " %s/%s", e.Type, e.Code)
	}
	if e.Param != "" {
		fmt.Fprintf(&b, " (param %s)", e.Param)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// Retryable reports whether the answer is transient: asking again with the
// same Idempotency-Key may get another one. The call has already retried it
// as often as its policy and context allowed.
func (e *Error) Retryable() bool { return retryableStatus(e.StatusCode, e.Code) }

// NoAnswerError is a call that gave up without an answer from the service:
// every attempt, the last included, ended in a transport failure (refused,
// reset or dropped connection, timeout), or the context ended first.
//
// For a write the outcome is unknown: the service may have done the work
// and lost only the answer. Calling again with the same IdempotencyKey is
// safe and tells which: it replays the stored answer or does the work once.
type NoAnswerError struct {
	Method, Path   string
	IdempotencyKey string // "" for reads and deletes
	Attempts       int
	Err            error // the last failure, joined with the context's error if it ended
}

func (e *NoAnswerError) Error() string {
	key := ""
	if e.IdempotencyKey != "" {
		key = fmt.Sprintf(", Idempotency-Key %q", e.IdempotencyKey)
	}
	return fmt.Sprintf("payments: %s %s: no answer after %d attempt(s)%s: %v", e.Method, e.Path, e.Attempts, key, e.Err)
}

func (e *NoAnswerError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is worth another call with the same
// Idempotency-Key later: a NoAnswerError, or an Error whose answer is
// transient. Refusals of the request itself (400, 401, 404, 422, …) are not.
func IsRetryable(err error) bool {
	var na *NoAnswerError
	if errors.As(err, &na) {
		return true
	}
	var e *Error
	return errors.As(err, &e) && e.Retryable()
}

// retryableStatus is the client's one rule for which answers are transient.
//
// The list is the (409 idempotency_key_in_use, 425, 429, 503) plus
// the other server errors: every write carries an Idempotency-Key, so asking
// again after a 500 or a proxy's 502/504 cannot do the work twice, and the
// service's own 500 says "retry with the same Idempotency-Key". Two 5xx are
// final: 501, and 502 payment_failed, a declined charge the service stored.
// A 409 of another code (payment_intent_unexpected_state) and every other
// 4xx say the request is wrong: asking again would get the same answer.
func retryableStatus(status int, code string) bool {
	switch {
	case status == http.StatusConflict:
		return code == CodeIdempotencyKeyInUse
	case status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return true
	case status == http.StatusBadGateway:
		return code != CodePaymentFailed
	case status == http.StatusNotImplemented:
		return false
	default:
		return status >= 500
	}
}
