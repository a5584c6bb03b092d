// Package view holds the JSON shapes of the API's resources, and the
// conversions from domain types to them. Responses and webhook bodies both
// use them, so an event's data.object is exactly what GET returns.
package view

import (
	"time"

	"github.com/reliabledemo/payments/internal/domain"
)

// Payment is an order's payment.
type Payment struct {
	Provider  string    `json:"provider"`
	PaymentID string    `json:"paymentId"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	ChargedAt time.Time `json:"chargedAt"`
}

// Order is an order.
type Order struct {
	ID        string    `json:"id"`
	UserID    string    `json:"userId"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	Status    string    `json:"status"`
	Payment   *Payment  `json:"payment"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// FromOrder converts an order.
func FromOrder(o domain.Order) Order {
	j := Order{ID: o.ID, UserID: o.UserID, Amount: o.Amount, Currency: o.Currency,
		Status: string(o.Status), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	if p := o.Payment; p != nil {
		j.Payment = &Payment{Provider: p.Provider, PaymentID: p.PaymentID, Amount: p.Amount, Currency: p.Currency, ChargedAt: p.ChargedAt}
	}
	return j
}

// PaymentError is why an intent's last charge failed.
type PaymentError struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Intent is a payment intent.
type Intent struct {
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
}

// FromIntent converts a payment intent.
func FromIntent(it domain.Intent) Intent {
	j := Intent{
		ID: it.ID, Object: "payment_intent", Status: string(it.Status), Amount: it.Amount, AmountReceived: it.AmountReceived,
		Currency: it.Currency, CustomerID: it.CustomerID, PaymentMethodID: it.PaymentMethodID,
		CaptureMethod: string(it.CaptureMethod), ClientSecret: it.ClientSecret, Metadata: it.Metadata,
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
	}
	if j.Metadata == nil {
		j.Metadata = map[string]string{}
	}
	if e := it.LastPaymentError; e != nil {
		j.LastPaymentError = &PaymentError{Type: e.Type, Code: e.Code, Message: e.Message}
	}
	if it.Status == domain.IntentCanceled && it.CancellationReason != "" {
		j.CancellationReason = &it.CancellationReason
	}
	return j
}

// Refund is a refund.
type Refund struct {
	ID        string    `json:"id"`
	PaymentID string    `json:"payment_id"`
	Amount    int64     `json:"amount"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// FromRefund converts a refund.
func FromRefund(r domain.Refund) Refund {
	return Refund{ID: r.ID, PaymentID: r.PaymentID, Amount: r.Amount, Reason: string(r.Reason), Status: r.Status, CreatedAt: r.CreatedAt}
}

// Event is an event: a state change and the object as it left it.
type Event struct {
	ID       string        `json:"id"`
	Object   string        `json:"object"` // "event"
	Type     string        `json:"type"`
	Created  time.Time     `json:"created"`
	Sequence int64         `json:"sequence"`
	Data     EventData     `json:"data"`
	Request  *EventRequest `json:"request"`
}

// EventData holds the snapshot: an Order, an Intent or a Refund.
type EventData struct {
	Object any `json:"object"`
}

// EventRequest is the request that caused an event; null for changes the
// worker made.
type EventRequest struct {
	ID             string `json:"id"`
	IdempotencyKey string `json:"idempotency_key"`
}

// FromEvent converts an event.
func FromEvent(e domain.Event) Event {
	j := Event{ID: e.ID, Object: "event", Type: string(e.Type), Created: e.Created, Sequence: e.Sequence}
	switch {
	case e.Order != nil:
		j.Data.Object = FromOrder(*e.Order)
	case e.Intent != nil:
		j.Data.Object = FromIntent(*e.Intent)
	case e.Refund != nil:
		j.Data.Object = FromRefund(*e.Refund)
	}
	if r := e.Request; r != nil {
		j.Request = &EventRequest{ID: r.ID, IdempotencyKey: r.IdempotencyKey}
	}
	return j
}
