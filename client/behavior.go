package client

import (
	"context"
	"net/http"
)

// PaymentBehavior is how the service's mock payment provider behaves.
type PaymentBehavior struct {
	FailureRate       float64 `json:"failureRate"`       // share of order charges declined
	MinDelayMs        int     `json:"minDelayMs"`        // an order's charge takes between min…
	MaxDelayMs        int     `json:"maxDelayMs"`        // …and max milliseconds
	AsyncDelayMs      int     `json:"asyncDelayMs"`      // an intent is charged this long after its confirm…
	AsyncJitterMs     int     `json:"asyncJitterMs"`     // …plus up to this much
	IntentFailureRate float64 `json:"intentFailureRate"` // share of intent charges declined
	TimeoutRate       float64 `json:"timeoutRate"`       // share of charges that time out (503 provider_timeout)
	TimeoutMs         int     `json:"timeoutMs"`         // how long a timing-out charge hangs first
	TimeoutOutcome    string  `json:"timeoutOutcome"`    // "fail", or "succeed_late": the charge went through after all
	ErrorCode         string  `json:"errorCode"`         // the decline code: card_declined, insufficient_funds, …

	Response Response `json:"-"`
}

// BehaviorPatch changes some fields of the behavior: nil fields stay as
// they are. Float, Int and String make the pointers.
type BehaviorPatch struct {
	FailureRate       *float64 `json:"failureRate,omitempty"`
	MinDelayMs        *int     `json:"minDelayMs,omitempty"`
	MaxDelayMs        *int     `json:"maxDelayMs,omitempty"`
	AsyncDelayMs      *int     `json:"asyncDelayMs,omitempty"`
	AsyncJitterMs     *int     `json:"asyncJitterMs,omitempty"`
	IntentFailureRate *float64 `json:"intentFailureRate,omitempty"`
	TimeoutRate       *float64 `json:"timeoutRate,omitempty"`
	TimeoutMs         *int     `json:"timeoutMs,omitempty"`
	TimeoutOutcome    *string  `json:"timeoutOutcome,omitempty"`
	ErrorCode         *string  `json:"errorCode,omitempty"`
}

// PaymentBehavior returns the mock provider's behavior.
func (a *Admin) PaymentBehavior(ctx context.Context, opts ...CallOption) (*PaymentBehavior, error) {
	return send[PaymentBehavior](ctx, a.c, request{method: http.MethodGet, path: "/admin/payment-behavior", admin: true}, opts)
}

// SetPaymentBehavior changes the fields p sets and returns the whole
// behavior. Every instance of the service follows within its
// BEHAVIOR_REFRESH (a second by default); the one that answers, at once.
func (a *Admin) SetPaymentBehavior(ctx context.Context, p BehaviorPatch, opts ...CallOption) (*PaymentBehavior, error) {
	return send[PaymentBehavior](ctx, a.c, request{method: http.MethodPost, path: "/admin/payment-behavior", body: p, admin: true}, opts)
}

func (b *PaymentBehavior) setResponse(r Response) { b.Response = r }

// Float returns a pointer to v, for the optional fields of patches.
func Float(v float64) *float64 { return &v }

// Int returns a pointer to v.
func Int(v int) *int { return &v }

// String returns a pointer to v.
func String(v string) *string { return &v }
