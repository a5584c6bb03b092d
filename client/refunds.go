package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Refund is a refund of part or all of a payment.
type Refund struct {
	ID        string    `json:"id"`
	PaymentID string    `json:"payment_id"`
	Amount    int64     `json:"amount"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"` // pending, succeeded
	CreatedAt time.Time `json:"created_at"`

	Response Response `json:"-"`
}

// RefundParams is a new refund.
type RefundParams struct {
	PaymentID string `json:"payment_id"`
	Amount    int64  `json:"amount,omitempty"` // 0: what remains refundable
	Reason    string `json:"reason"`           // duplicate, fraudulent or requested_by_customer
}

// CreateRefund refunds a payment. Refunds never exceed what was captured:
// too much is an *Error with Code CodeAmountTooLarge, nothing left
// CodeChargeAlreadyRefunded (both HTTP 400, never retried).
func (c *Client) CreateRefund(ctx context.Context, p RefundParams, opts ...CallOption) (*Refund, error) {
	return c.refund(ctx, request{method: http.MethodPost, path: "/refunds", body: p}, opts)
}

// GetRefund returns one refund.
func (c *Client) GetRefund(ctx context.Context, id string, opts ...CallOption) (*Refund, error) {
	return c.refund(ctx, request{method: http.MethodGet, path: "/refunds/" + url.PathEscape(id)}, opts)
}

func (c *Client) refund(ctx context.Context, req request, opts []CallOption) (*Refund, error) {
	return send[Refund](ctx, c, req, opts)
}

func (r *Refund) setResponse(resp Response) { r.Response = resp }
