package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Payment intent statuses.
const (
	IntentRequiresConfirmation = "requires_confirmation"
	IntentProcessing           = "processing"
	IntentRequiresCapture      = "requires_capture"
	IntentSucceeded            = "succeeded"
	IntentFailed               = "failed"
	IntentCanceled             = "canceled"
)

// Test payment methods.
const (
	PaymentMethodVisa              = "pm_fake_visa"
	PaymentMethodMastercard        = "pm_fake_mastercard"
	PaymentMethodDeclined          = "pm_fake_declined"
	PaymentMethodInsufficientFunds = "pm_fake_insufficient_funds"
)

// PaymentIntent is an asynchronous payment: confirmed, then charged by a
// worker of the service.
type PaymentIntent struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Status             string            `json:"status"`
	Amount             int64             `json:"amount"`
	AmountReceived     int64             `json:"amount_received"`
	Currency           string            `json:"currency"`
	CustomerID         string            `json:"customer_id"`
	PaymentMethodID    string            `json:"payment_method_id"`
	CaptureMethod      string            `json:"capture_method"`
	ClientSecret       string            `json:"client_secret"`
	Metadata           map[string]string `json:"metadata"`
	LastPaymentError   *PaymentError     `json:"last_payment_error"`
	CancellationReason *string           `json:"cancellation_reason"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`

	Response Response `json:"-"`
}

// PaymentError is why an intent's charge failed.
type PaymentError struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// PaymentIntentParams is a new payment intent.
type PaymentIntentParams struct {
	Amount          int64             `json:"amount"`
	Currency        string            `json:"currency"`
	CustomerID      string            `json:"customer_id"`
	PaymentMethodID string            `json:"payment_method_id"`        // one of the PaymentMethod constants
	CaptureMethod   string            `json:"capture_method,omitempty"` // "automatic" (default) or "manual"
	Metadata        map[string]string `json:"metadata,omitempty"`
}

// CreatePaymentIntent creates an intent in status requires_confirmation.
func (c *Client) CreatePaymentIntent(ctx context.Context, p PaymentIntentParams, opts ...CallOption) (*PaymentIntent, error) {
	return c.intent(ctx, request{method: http.MethodPost, path: "/payment_intents", body: p}, opts)
}

// GetPaymentIntent returns one intent.
func (c *Client) GetPaymentIntent(ctx context.Context, id string, opts ...CallOption) (*PaymentIntent, error) {
	return c.intent(ctx, request{method: http.MethodGet, path: intentPath(id)}, opts)
}

// ConfirmParams confirms an intent.
type ConfirmParams struct {
	PaymentMethodID string `json:"payment_method_id,omitempty"` // replaces the intent's
	// ForceFailure makes the worker decline the charge (?force=failure).
	ForceFailure bool `json:"-"`
}

// Confirmation is the answer to a confirm: the intent is processing, and a
// worker will charge it. Poll GetPaymentIntent, or GetPayment, for the end.
type Confirmation struct {
	ID     string `json:"id"`
	Status string `json:"status"`

	Response Response `json:"-"`
}

// ConfirmPaymentIntent confirms an intent (HTTP 202).
func (c *Client) ConfirmPaymentIntent(ctx context.Context, id string, p ConfirmParams, opts ...CallOption) (*Confirmation, error) {
	path := intentPath(id) + "/confirm"
	if p.ForceFailure {
		path += "?force=failure"
	}
	return send[Confirmation](ctx, c, request{method: http.MethodPatch, path: path, body: p}, opts)
}

// CaptureParams captures a manual intent.
type CaptureParams struct {
	AmountToCapture int64 `json:"amount_to_capture,omitempty"` // 0: the whole amount
}

// CapturePaymentIntent captures an intent in status requires_capture.
func (c *Client) CapturePaymentIntent(ctx context.Context, id string, p CaptureParams, opts ...CallOption) (*PaymentIntent, error) {
	return c.intent(ctx, request{method: http.MethodPost, path: intentPath(id) + "/capture", body: p}, opts)
}

// CancelParams cancels an intent.
type CancelParams struct {
	// CancellationReason: duplicate, fraudulent, requested_by_customer or abandoned.
	CancellationReason string `json:"cancellation_reason,omitempty"`
}

// CancelPaymentIntent cancels an intent in status requires_confirmation or
// requires_capture.
func (c *Client) CancelPaymentIntent(ctx context.Context, id string, p CancelParams, opts ...CallOption) (*PaymentIntent, error) {
	return c.intent(ctx, request{method: http.MethodPost, path: intentPath(id) + "/cancel", body: p}, opts)
}

func (c *Client) intent(ctx context.Context, req request, opts []CallOption) (*PaymentIntent, error) {
	return send[PaymentIntent](ctx, c, req, opts)
}

func intentPath(id string) string { return "/payment_intents/" + url.PathEscape(id) }

// Payment is the charge of a payment intent.
type Payment struct {
	PaymentID       string `json:"payment_id"`
	PaymentIntentID string `json:"payment_intent_id"`
	Status          string `json:"status"`
	Amount          int64  `json:"amount"`
	Currency        string `json:"currency"`
	CapturedAmount  int64  `json:"captured_amount"`
	AmountRefunded  int64  `json:"amount_refunded"`
	AuthCode        string `json:"auth_code"`
	ReceiptURL      string `json:"receipt_url"`

	Response Response `json:"-"`
}

// GetPayment returns the payment of an intent. While the intent is still
// processing the service answers 425, which the call retries (honouring
// Retry-After) within its policy and context: with a deadline, GetPayment
// waits for the charge.
func (c *Client) GetPayment(ctx context.Context, intentID string, opts ...CallOption) (*Payment, error) {
	return send[Payment](ctx, c, request{method: http.MethodGet, path: "/payments/" + url.PathEscape(intentID)}, opts)
}

func (it *PaymentIntent) setResponse(r Response) { it.Response = r }
func (cf *Confirmation) setResponse(r Response)  { cf.Response = r }
func (p *Payment) setResponse(r Response)        { p.Response = r }
