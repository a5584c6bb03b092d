package domain

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// IntentStatus is where a payment intent is in its life.
type IntentStatus string

// Payment intent statuses, as in Stripe's API.
const (
	IntentRequiresConfirmation IntentStatus = "requires_confirmation"
	IntentProcessing           IntentStatus = "processing"
	IntentRequiresCapture      IntentStatus = "requires_capture"
	IntentSucceeded            IntentStatus = "succeeded"
	IntentFailed               IntentStatus = "failed"
	IntentCanceled             IntentStatus = "canceled"
)

// Terminal reports whether no transition leaves s.
func (s IntentStatus) Terminal() bool {
	return s == IntentSucceeded || s == IntentFailed || s == IntentCanceled
}

// Action is something that moves an intent from one status to another.
type Action string

// Actions on a payment intent. Clients confirm, capture and cancel; the
// worker authorizes, succeeds or fails a processing intent.
const (
	ActionConfirm   Action = "confirm"
	ActionSucceed   Action = "succeed"   // automatic capture: charged
	ActionAuthorize Action = "authorize" // manual capture: charged, awaiting capture
	ActionFail      Action = "fail"
	ActionCapture   Action = "capture"
	ActionCancel    Action = "cancel"
)

// Transition is one row of the state machine: an action, the statuses it
// may start from, and where it leads.
type Transition struct {
	From []IntentStatus
	To   IntentStatus
}

// Transitions is the payment intent state machine, in one table. The store
// applies a transition with a filter on From, so of two concurrent actions
// on one intent only one can win.
var Transitions = map[Action]Transition{
	ActionConfirm:   {From: []IntentStatus{IntentRequiresConfirmation}, To: IntentProcessing},
	ActionSucceed:   {From: []IntentStatus{IntentProcessing}, To: IntentSucceeded},
	ActionAuthorize: {From: []IntentStatus{IntentProcessing}, To: IntentRequiresCapture},
	ActionFail:      {From: []IntentStatus{IntentProcessing}, To: IntentFailed},
	ActionCapture:   {From: []IntentStatus{IntentRequiresCapture}, To: IntentSucceeded},
	ActionCancel:    {From: []IntentStatus{IntentRequiresConfirmation, IntentRequiresCapture}, To: IntentCanceled},
}

// Allowed reports whether action may start from status s.
func (a Action) Allowed(s IntentStatus) bool {
	for _, f := range Transitions[a].From {
		if f == s {
			return true
		}
	}
	return false
}

// ErrUnexpectedState is the refusal of an action the intent's status does
// not allow.
func ErrUnexpectedState(a Action, s IntentStatus) *Error {
	return &Error{Kind: KindConflict, Code: "payment_intent_unexpected_state",
		Message: "You cannot " + string(a) + " this PaymentIntent because it has a status of " + string(s) + "."}
}

// CaptureMethod says whether a successful charge is captured at once.
type CaptureMethod string

// Capture methods.
const (
	CaptureAutomatic CaptureMethod = "automatic"
	CaptureManual    CaptureMethod = "manual"
)

// PaymentError is why the last charge attempt failed.
type PaymentError struct {
	Type    string // card_error
	Code    string // card_declined, insufficient_funds, …
	Message string
}

// Intent is a payment intent, with the payment it produced, if any.
type Intent struct {
	ID                 string
	ClientSecret       string
	Amount             int64
	Currency           string
	CustomerID         string
	PaymentMethodID    string
	CaptureMethod      CaptureMethod
	Metadata           map[string]string
	Status             IntentStatus
	ForceFailure       bool // set by confirm?force=failure
	LastPaymentError   *PaymentError
	CancellationReason string
	AmountReceived     int64
	Payment            *IntentPayment
	// LastRequestID is the idempotency resource id of the client request
	// that made the last transition: a retry of that request after a crash
	// finds its own effect here instead of a conflict.
	LastRequestID string
	RefundIDs     []string // refunds applied to the payment
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// Sequence counts the intent's changes of status, from 1 at creation.
	Sequence int64
	// Events are the events of those changes, oldest first, each written
	// with its change in one update. Whoever finds the intent after a crash
	// can record any of them that the crash lost: the snapshot a later
	// change overwrote is still here.
	Events []Event
}

// NewIntentAt is the intent in as created at now by req: its first change.
func NewIntentAt(it Intent, now time.Time, req *RequestRef) Intent {
	it.Status, it.CreatedAt, it.UpdatedAt, it.Sequence, it.Events = IntentRequiresConfirmation, now, now, 1, nil
	it.Events = []Event{IntentEvent(it, req)}
	return it
}

// Next is the intent after action a, writing ch, at now, by req (nil for
// the worker): the new status and fields, the next sequence, and that
// change's event appended. The store writes it whole, on the condition that
// the intent is still in it.Status; no change other than a transition moves
// an intent out of a status, so nothing else can have changed in between.
func (it Intent) Next(a Action, ch IntentChange, now time.Time, req *RequestRef) Intent {
	next := it
	next.Status, next.UpdatedAt, next.Sequence = Transitions[a].To, now, it.Sequence+1
	if ch.RequestID != "" {
		next.LastRequestID = ch.RequestID
	}
	if ch.PaymentMethodID != nil {
		next.PaymentMethodID = *ch.PaymentMethodID
	}
	if ch.ForceFailure != nil {
		next.ForceFailure = *ch.ForceFailure
	}
	if ch.LastPaymentError != nil {
		e := *ch.LastPaymentError
		next.LastPaymentError = &e
	}
	if ch.CancellationReason != nil {
		next.CancellationReason = *ch.CancellationReason
	}
	if ch.AmountReceived != nil {
		next.AmountReceived = *ch.AmountReceived
	}
	if ch.Payment != nil {
		p := *ch.Payment
		next.Payment = &p
	}
	next.Events = append(append([]Event(nil), it.Events...), IntentEvent(next, req))
	return next
}

// LastEvent is the event of the intent's latest change, if recorded with it.
func (it Intent) LastEvent() (Event, bool) {
	if n := len(it.Events); n > 0 && it.Events[n-1].Sequence == it.Sequence {
		return it.Events[n-1], true
	}
	return Event{}, false
}

// PaymentStatus is the state of an intent's payment.
type PaymentStatus string

// Payment statuses.
const (
	PaymentRequiresCapture PaymentStatus = "requires_capture"
	PaymentSucceeded       PaymentStatus = "succeeded"
	PaymentFailed          PaymentStatus = "failed"
	PaymentCanceled        PaymentStatus = "canceled"
)

// IntentPayment is the money movement of an intent: created by the worker's
// charge, captured, and refunded.
type IntentPayment struct {
	ID             string
	Status         PaymentStatus
	CapturedAmount int64
	AmountRefunded int64
	Refundable     int64 // CapturedAmount - AmountRefunded, kept so refunds are one conditional update
	AuthCode       string
	ReceiptURL     string
}

// PaymentIDFor derives an intent's payment id from the intent id, so both
// are found by _id and a retried charge names the same payment.
func PaymentIDFor(intentID string) string { return "pay_" + strings.TrimPrefix(intentID, "pi_") }

// IntentIDFor is the inverse of PaymentIDFor.
func IntentIDFor(paymentID string) (string, bool) {
	rest, ok := strings.CutPrefix(paymentID, "pay_")
	return "pi_" + rest, ok && rest != ""
}

// Limits on intent fields, as in Stripe's API.
const (
	MaxIDLen          = 255
	MaxMetadataKeys   = 50
	MaxMetadataKeyLen = 40
	MaxMetadataValLen = 500
)

// NewIntent is what a client asks for when it creates a payment intent.
type NewIntent struct {
	Amount          int64
	Currency        string
	CustomerID      string
	PaymentMethodID string
	CaptureMethod   CaptureMethod
	Metadata        map[string]string
}

// Validate checks the request, normalizes its currency and defaults the
// capture method to automatic.
func (n *NewIntent) Validate() error {
	if err := ValidateAmount("amount", n.Amount); err != nil {
		return err
	}
	cur, err := NormalizeCurrency("currency", n.Currency)
	if err != nil {
		return err
	}
	n.Currency = cur
	if err := validateID("customer_id", n.CustomerID); err != nil {
		return err
	}
	if err := ValidatePaymentMethod("payment_method_id", n.PaymentMethodID); err != nil {
		return err
	}
	switch n.CaptureMethod {
	case "":
		n.CaptureMethod = CaptureAutomatic
	case CaptureAutomatic, CaptureManual:
	default:
		return Invalid("capture_method", "invalid_capture_method", "capture_method must be automatic or manual.")
	}
	if len(n.Metadata) > MaxMetadataKeys {
		return Invalid("metadata", "invalid_metadata", "metadata may have at most %d keys.", MaxMetadataKeys)
	}
	for k, v := range n.Metadata {
		// Keys are identifiers (and MongoDB field names, hence no '.' or '$').
		if !validIdentifier(k, MaxMetadataKeyLen) || strings.ContainsAny(k, ".$") {
			return Invalid("metadata", "invalid_metadata", "metadata keys must be 1 to %d characters of visible text, without '.', '$', control or formatting characters.", MaxMetadataKeyLen)
		}
		if utf8.RuneCountInString(v) > MaxMetadataValLen || !validFreeText(v) {
			return Invalid("metadata", "invalid_metadata", "metadata values must be at most %d characters, without control characters other than tab and newline, or bidirectional controls.", MaxMetadataValLen)
		}
	}
	return nil
}

// validateID checks an identifier field such as customer_id; its error code
// is invalid_<param>.
func validateID(param, v string) error {
	if !validIdentifier(v, MaxIDLen) {
		return Invalid(param, "invalid_"+param, "%s must be 1 to %d characters of visible text: not only spaces, and without control or formatting characters.", param, MaxIDLen)
	}
	return nil
}

// Confirmation is what a client sends to confirm an intent.
type Confirmation struct {
	PaymentMethodID string // optional override
	ForceFailure    bool
}

// IntentService manages payment intents. Every method that changes an
// intent takes requestID, the idempotency resource id of the request, so a
// retry after a crash recognises its own earlier effect.
type IntentService interface {
	Create(ctx context.Context, requestID string, in NewIntent) (Intent, error)
	Get(ctx context.Context, id string) (Intent, error)
	Confirm(ctx context.Context, requestID, id string, c Confirmation) (Intent, error)
	Capture(ctx context.Context, requestID, id string, amount *int64) (Intent, error)
	Cancel(ctx context.Context, requestID, id, reason string) (Intent, error)
	GetPayment(ctx context.Context, intentID string) (Intent, error)
	Refund(ctx context.Context, requestID string, in NewRefund) (Refund, error)
	GetRefund(ctx context.Context, id string) (Refund, error)
}

// IntentChange is what a transition writes besides the new status. Nil
// fields are left as they are.
type IntentChange struct {
	RequestID          string // the client request making the change; "" for the worker
	PaymentMethodID    *string
	ForceFailure       *bool
	LastPaymentError   *PaymentError
	CancellationReason *string
	AmountReceived     *int64
	Payment            *IntentPayment // replaces the payment, refundable amount included
}

// CancellationReasons are the reasons a client may give for canceling.
var CancellationReasons = map[string]bool{
	"duplicate": true, "fraudulent": true, "requested_by_customer": true, "abandoned": true,
}
