package domain

import (
	"context"
	"time"
)

// OrderStatus is where an order is in its life.
type OrderStatus string

// Order statuses, named as in the seed design so mongosh queries carry over.
const (
	OrderCreated       OrderStatus = "CREATED"
	OrderPaid          OrderStatus = "PAID"
	OrderPaymentFailed OrderStatus = "PAYMENT_FAILED"
)

// Valid reports whether s is a known order status.
func (s OrderStatus) Valid() bool {
	return s == OrderCreated || s == OrderPaid || s == OrderPaymentFailed
}

// MaxUserIDLen bounds userId so that idempotency scopes stay small.
const MaxUserIDLen = 128

// Payment is the provider's record of a successful charge of an order.
type Payment struct {
	Provider  string
	PaymentID string
	Amount    int64
	Currency  string
	ChargedAt time.Time
}

// Order is a customer's order and the outcome of charging it.
type Order struct {
	ID        string
	UserID    string
	Amount    int64
	Currency  string
	Status    OrderStatus
	Payment   *Payment
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewOrder is what a client asks for when it creates an order.
type NewOrder struct {
	UserID   string
	Amount   int64
	Currency string
}

// Validate checks the request and normalizes its currency.
func (n *NewOrder) Validate() error {
	if !validIdentifier(n.UserID, MaxUserIDLen) {
		return Invalid("userId", "invalid_user_id", "userId must be 1 to %d characters of visible text: not only spaces, and without control or formatting characters.", MaxUserIDLen)
	}
	if err := ValidateAmount("amount", n.Amount); err != nil {
		return err
	}
	cur, err := NormalizeCurrency("currency", n.Currency)
	if err != nil {
		return err
	}
	n.Currency = cur
	return nil
}

// OrderFilter selects orders for a listing, newest first.
type OrderFilter struct {
	UserID        string
	Status        OrderStatus
	StartingAfter string // an order id: list only orders older than it
	Limit         int
}

// Listing limits for GET /orders.
const (
	DefaultListLimit = 20
	MaxListLimit     = 100
)

// OrderService creates and reads orders.
//
// Create returns the order charged or refused by the provider; a refused
// charge is an order in PAYMENT_FAILED, not an error. id is chosen by the
// caller so that a retry after a crash continues the same order.
type OrderService interface {
	Create(ctx context.Context, id string, in NewOrder) (Order, error)
	Get(ctx context.Context, id string) (Order, error)
	List(ctx context.Context, f OrderFilter) (orders []Order, hasMore bool, err error)
}
