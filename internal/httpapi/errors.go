package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
)

// errorStatus is the one table from error kind to HTTP status and error type.
var errorStatus = map[domain.Kind]struct {
	status int
	typ    string
}{
	domain.KindInternal:             {http.StatusInternalServerError, "api_error"},
	domain.KindValidation:           {http.StatusUnprocessableEntity, "validation_error"},
	domain.KindInvalidRequest:       {http.StatusBadRequest, "invalid_request_error"},
	domain.KindNotFound:             {http.StatusNotFound, "invalid_request_error"},
	domain.KindMethodNotAllowed:     {http.StatusMethodNotAllowed, "invalid_request_error"},
	domain.KindConflict:             {http.StatusConflict, "invalid_request_error"},
	domain.KindTooLarge:             {http.StatusRequestEntityTooLarge, "invalid_request_error"},
	domain.KindTooEarly:             {http.StatusTooEarly, "invalid_request_error"},
	domain.KindIdempotencyInUse:     {http.StatusConflict, "idempotency_error"},
	domain.KindIdempotencyMismatch:  {http.StatusUnprocessableEntity, "idempotency_error"},
	domain.KindCard:                 {http.StatusPaymentRequired, "card_error"},
	domain.KindUnauthorized:         {http.StatusUnauthorized, "auth_error"},
	domain.KindRateLimited:          {http.StatusTooManyRequests, "rate_limit_error"},
	domain.KindPaymentFailed:        {http.StatusBadGateway, "api_error"},
	domain.KindUnavailable:          {http.StatusServiceUnavailable, "api_error"},
	domain.KindUnsupportedMediaType: {http.StatusUnsupportedMediaType, "invalid_request_error"},
	domain.KindForbidden:            {http.StatusForbidden, "auth_error"},
}

// errorJSON is the body of every error response.
type errorJSON struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

type errorEnvelope struct {
	Error errorJSON `json:"error"`
}

// Messages shared by handlers and tests.
const (
	msgInternal = "An unexpected error occurred. It has been logged; retry with the same Idempotency-Key."
)

// toErrorJSON maps err to its status and body. An uncoded error becomes a
// generic 500: its text may hold internals and never reaches the client.
func toErrorJSON(err error) (int, errorJSON, *domain.Error) {
	e, ok := domain.AsError(err)
	if !ok {
		e = &domain.Error{Kind: domain.KindInternal, Code: "internal_error", Message: msgInternal, Err: err}
	}
	m, ok := errorStatus[e.Kind]
	if !ok {
		m = errorStatus[domain.KindInternal]
	}
	return m.status, errorJSON{Type: m.typ, Code: e.Code, Message: e.Message, Param: e.Param}, e
}

// writeError answers with err in the error format and logs server-side
// failures once, with the request id.
func writeError(c *gin.Context, err error) {
	status, body, e := toErrorJSON(err)
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())))
	}
	if status >= 500 {
		// Attached to the request log line by the logging middleware.
		_ = c.Error(errors.Join(errors.New(e.Code), e.Err))
	}
	c.AbortWithStatusJSON(status, errorEnvelope{Error: body})
}
