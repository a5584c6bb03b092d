package client

import (
	"context"
	"net/http"
)

// WebhookFaults are the faults the service puts into its webhook
// deliveries, for drills of a consumer: duplicated, delayed, reordered,
// failed and forged deliveries. All zero in normal running.
type WebhookFaults struct {
	DuplicateRate   float64 `json:"duplicateRate"`   // share of attempts sent twice
	DelayMs         int     `json:"delayMs"`         // each attempt waits this long…
	JitterMs        int     `json:"jitterMs"`        // …plus up to this much, before sending
	ReorderWindowMs int     `json:"reorderWindowMs"` // a new delivery is due up to this long after its event
	FailRate        float64 `json:"failRate"`        // share of attempts that send nothing and count as a timeout
	ForgedRate      float64 `json:"forgedRate"`      // share of attempts also sent as a copy with an invalid signature

	Response Response `json:"-"`
}

// WebhookFaultsPatch changes some fields of the webhook faults: nil fields
// stay as they are. Rates are 0 to 1, durations 0 to 60,000 ms; another
// value is an *Error with Param the field's JSON name (HTTP 422).
type WebhookFaultsPatch struct {
	DuplicateRate   *float64 `json:"duplicateRate,omitempty"`
	DelayMs         *int     `json:"delayMs,omitempty"`
	JitterMs        *int     `json:"jitterMs,omitempty"`
	ReorderWindowMs *int     `json:"reorderWindowMs,omitempty"`
	FailRate        *float64 `json:"failRate,omitempty"`
	ForgedRate      *float64 `json:"forgedRate,omitempty"`
}

// WebhookFaults returns the webhook delivery faults in force.
func (a *Admin) WebhookFaults(ctx context.Context, opts ...CallOption) (*WebhookFaults, error) {
	return send[WebhookFaults](ctx, a.c, request{method: http.MethodGet, path: "/admin/webhook-faults", admin: true}, opts)
}

// SetWebhookFaults changes the fields p sets and returns all the faults.
// They are stored, so every instance of the service follows within its
// WEBHOOK_REFRESH (a second by default); the one that answers, at once.
func (a *Admin) SetWebhookFaults(ctx context.Context, p WebhookFaultsPatch, opts ...CallOption) (*WebhookFaults, error) {
	return send[WebhookFaults](ctx, a.c, request{method: http.MethodPost, path: "/admin/webhook-faults", body: p, admin: true}, opts)
}

func (f *WebhookFaults) setResponse(r Response) { f.Response = r }
