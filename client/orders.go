package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// Order statuses.
const (
	OrderCreated       = "CREATED"
	OrderPaid          = "PAID"
	OrderPaymentFailed = "PAYMENT_FAILED"
)

// Order is an order and the outcome of its charge.
type Order struct {
	ID        string        `json:"id"`
	UserID    string        `json:"userId"`
	Amount    int64         `json:"amount"` // minor units
	Currency  string        `json:"currency"`
	Status    string        `json:"status"` // OrderPaid or OrderPaymentFailed
	Payment   *OrderPayment `json:"payment"`
	CreatedAt time.Time     `json:"createdAt"`
	UpdatedAt time.Time     `json:"updatedAt"`

	Response Response `json:"-"`
}

// OrderPayment is the provider's charge of a paid order.
type OrderPayment struct {
	Provider  string    `json:"provider"`
	PaymentID string    `json:"paymentId"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	ChargedAt time.Time `json:"chargedAt"`
}

// OrderParams is a new order.
type OrderParams struct {
	UserID   string `json:"userId"`
	Amount   int64  `json:"amount"`   // minor units, 1 to 99,999,999
	Currency string `json:"currency"` // ISO 4217
}

// CreateOrder creates an order and charges it, once per Idempotency-Key
// however often the call retries.
//
// A declined charge is a final answer, stored and replayed like a success:
// CreateOrder then returns both the order, with Status OrderPaymentFailed,
// and an *Error with Code CodePaymentFailed (HTTP 502).
func (c *Client) CreateOrder(ctx context.Context, p OrderParams, opts ...CallOption) (*Order, error) {
	var o Order
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/orders", body: p}, &o, opts)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == CodePaymentFailed {
			var body struct {
				Order *Order `json:"order"`
			}
			if json.Unmarshal(e.body, &body) == nil && body.Order != nil {
				body.Order.Response = resp
				return body.Order, err
			}
		}
		return nil, err
	}
	o.Response = resp
	return &o, nil
}

// GetOrder returns one order.
func (c *Client) GetOrder(ctx context.Context, id string, opts ...CallOption) (*Order, error) {
	return send[Order](ctx, c, request{method: http.MethodGet, path: "/orders/" + url.PathEscape(id)}, opts)
}

// ListOrdersParams filters and pages GET /orders; zero fields are left out.
type ListOrdersParams struct {
	Limit         int    // 1 to 100; the service's default is 20
	StartingAfter string // an order id: the page after it
	UserID        string
	Status        string // OrderPaid, OrderPaymentFailed, …
}

// OrderList is a page of orders, newest first.
type OrderList struct {
	Orders  []Order `json:"orders"`
	HasMore bool    `json:"has_more"`

	Response Response `json:"-"`
}

// ListOrders returns a page of orders, newest first. For the next page, set
// StartingAfter to the last order's ID while HasMore is true.
func (c *Client) ListOrders(ctx context.Context, p ListOrdersParams, opts ...CallOption) (*OrderList, error) {
	path := listPath("/orders", p.Limit, map[string]string{"starting_after": p.StartingAfter, "userId": p.UserID, "status": p.Status})
	return send[OrderList](ctx, c, request{method: http.MethodGet, path: path}, opts)
}

func (o *Order) setResponse(r Response)     { o.Response = r }
func (l *OrderList) setResponse(r Response) { l.Response = r }
