package domain

import "time"

// RefundReason is why money goes back.
type RefundReason string

// Refund reasons, as in Stripe's API.
const (
	ReasonDuplicate           RefundReason = "duplicate"
	ReasonFraudulent          RefundReason = "fraudulent"
	ReasonRequestedByCustomer RefundReason = "requested_by_customer"
)

// Valid reports whether r is a known reason.
func (r RefundReason) Valid() bool {
	return r == ReasonDuplicate || r == ReasonFraudulent || r == ReasonRequestedByCustomer
}

// NewRefund asks to give back part or all of a captured payment.
type NewRefund struct {
	PaymentID string
	Amount    *int64 // nil: all that remains
	Reason    RefundReason
}

// Validate checks the request's own fields.
func (n NewRefund) Validate() error {
	if err := validateID("payment_id", n.PaymentID); err != nil {
		return err
	}
	if n.Amount != nil {
		if err := ValidateAmount("amount", *n.Amount); err != nil {
			return err
		}
	}
	if !n.Reason.Valid() {
		return Invalid("reason", "invalid_reason", "reason must be duplicate, fraudulent or requested_by_customer.")
	}
	return nil
}

// Refund is money given back from a payment.
type Refund struct {
	ID        string
	PaymentID string
	IntentID  string
	Amount    int64
	Reason    RefundReason
	Status    string // RefundPending, RefundSucceeded or RefundFailed
	CreatedAt time.Time
	UpdatedAt time.Time // when it succeeded or failed; CreatedAt while pending
}

// Refund statuses. A refund is recorded pending with its amount, then
// succeeds once the amount is taken off the payment, or fails when the
// payment no longer has that much left to refund.
const (
	RefundPending   = "pending"
	RefundSucceeded = "succeeded"
	RefundFailed    = "failed"
)

// Refund errors, reused by tests.
const (
	CodeAmountTooLarge        = "amount_too_large"
	CodeChargeAlreadyRefunded = "charge_already_refunded"
)
