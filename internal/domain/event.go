package domain

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// EventType names a state change that clients can be told about.
type EventType string

// Event types, one per state an object can reach, named as in Stripe's API.
const (
	EventOrderPaid          EventType = "order.paid"
	EventOrderPaymentFailed EventType = "order.payment_failed"

	EventIntentCreated         EventType = "payment_intent.created"
	EventIntentProcessing      EventType = "payment_intent.processing"
	EventIntentRequiresCapture EventType = "payment_intent.requires_capture"
	EventIntentSucceeded       EventType = "payment_intent.succeeded"
	EventIntentPaymentFailed   EventType = "payment_intent.payment_failed"
	EventIntentCanceled        EventType = "payment_intent.canceled"
	EventRefundCreated         EventType = "refund.created"
	EventRefundSucceeded       EventType = "refund.succeeded"
	EventRefundFailed          EventType = "refund.failed"
)

// EventTypes lists every event type, in the order an object meets them.
var EventTypes = []EventType{
	EventOrderPaid, EventOrderPaymentFailed,
	EventIntentCreated, EventIntentProcessing, EventIntentRequiresCapture, EventIntentSucceeded,
	EventIntentPaymentFailed, EventIntentCanceled,
	EventRefundCreated, EventRefundSucceeded, EventRefundFailed,
}

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool {
	for _, k := range EventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Object kinds an event can be about.
const (
	ObjectOrder  = "order"
	ObjectIntent = "payment_intent"
	ObjectRefund = "refund"
)

// ObjectKind is the kind of object events of type t are about.
func (t EventType) ObjectKind() string {
	kind, _, _ := strings.Cut(string(t), ".")
	return kind
}

// RequestRef names the client request that caused an event: its request id
// and Idempotency-Key. Events the worker causes have none.
type RequestRef struct {
	ID             string
	IdempotencyKey string
}

type requestKey struct{}

// WithRequest returns ctx carrying r, the request that changes made under
// ctx are caused by. The HTTP layer sets it; the services read it when they
// record an event.
func WithRequest(ctx context.Context, r RequestRef) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request ctx carries, or nil.
func RequestFrom(ctx context.Context) *RequestRef {
	if r, ok := ctx.Value(requestKey{}).(RequestRef); ok {
		return &r
	}
	return nil
}

// Event is one state change of one object, with a snapshot of the object
// as the change left it. Exactly one of Order, Intent and Refund is set.
//
// Sequence counts the changes of the object, from 1: a consumer that keeps
// the highest sequence it has seen per object discards late, stale
// deliveries. The id derives from (object id, sequence), so recording the
// event again after a crash finds the one recorded before.
type Event struct {
	ID       string
	Type     EventType
	Created  time.Time
	ObjectID string
	Sequence int64
	Request  *RequestRef

	Order  *Order
	Intent *Intent
	Refund *Refund
}

// EventIDPrefix begins every event id.
const EventIDPrefix = "evt_"

// EventID is the id of the sequence-th event of objectID, recorded at
// created: "evt_" and 24 hex digits laid out as a MongoDB ObjectId. The
// first 4 bytes are created's seconds and the next 2 its milliseconds, so
// ids sort by time and the store lists events newest first along its _id
// index; the last 6 are a hash of (objectID, sequence), so two changes never
// share an id and a repeated recording of one change always does.
func EventID(objectID string, sequence int64, created time.Time) string {
	h := sha256.Sum256([]byte(objectID + "\x00" + strconv.FormatInt(sequence, 10)))
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(created.Unix()))
	binary.BigEndian.PutUint16(b[4:6], uint16(created.Nanosecond()/int(time.Millisecond)))
	copy(b[6:], h[:6])
	return EventIDPrefix + hex.EncodeToString(b[:])
}

// OrderEvent is the event of an order stored in its final status, or false
// for an order that has none (CREATED: not charged yet).
func OrderEvent(o Order, req *RequestRef) (Event, bool) {
	var t EventType
	switch o.Status {
	case OrderPaid:
		t = EventOrderPaid
	case OrderPaymentFailed:
		t = EventOrderPaymentFailed
	default:
		return Event{}, false
	}
	// An order changes once: it is stored settled.
	return Event{ID: EventID(o.ID, 1, o.UpdatedAt), Type: t, Created: o.UpdatedAt, ObjectID: o.ID, Sequence: 1,
		Request: req, Order: &o}, true
}

// intentEventTypes maps the status an intent reaches to its event.
var intentEventTypes = map[IntentStatus]EventType{
	IntentRequiresConfirmation: EventIntentCreated,
	IntentProcessing:           EventIntentProcessing,
	IntentRequiresCapture:      EventIntentRequiresCapture,
	IntentSucceeded:            EventIntentSucceeded,
	IntentFailed:               EventIntentPaymentFailed,
	IntentCanceled:             EventIntentCanceled,
}

// IntentEvent is the event of the change that left it as it is, its
// Sequence-th; it is its own snapshot, without its event history.
func IntentEvent(it Intent, req *RequestRef) Event {
	it.Events = nil
	return Event{ID: EventID(it.ID, it.Sequence, it.UpdatedAt), Type: intentEventTypes[it.Status], Created: it.UpdatedAt,
		ObjectID: it.ID, Sequence: it.Sequence, Request: req, Intent: &it}
}

// refundEventTypes maps a refund's status to its event and sequence.
var refundEventTypes = map[string]struct {
	t   EventType
	seq int64
}{
	RefundPending:   {EventRefundCreated, 1},
	RefundSucceeded: {EventRefundSucceeded, 2},
	RefundFailed:    {EventRefundFailed, 2},
}

// RefundEvents are the events of the changes that led r to its status, in
// order: a refund is created pending, then succeeds or fails, and nothing
// else changes, so each snapshot can be rebuilt from the refund as it is.
func RefundEvents(r Refund, req *RequestRef) []Event {
	var out []Event
	for _, status := range []string{RefundPending, r.Status} {
		k, ok := refundEventTypes[status]
		if !ok || (len(out) == 1 && status == RefundPending) {
			continue
		}
		snap := r
		snap.Status = status
		at := r.CreatedAt
		if status != RefundPending {
			at = r.UpdatedAt
		}
		snap.UpdatedAt = at
		out = append(out, Event{ID: EventID(r.ID, k.seq, at), Type: k.t, Created: at, ObjectID: r.ID, Sequence: k.seq,
			Request: req, Refund: &snap})
	}
	return out
}

// EventFilter selects events for a listing, newest first.
type EventFilter struct {
	Type          EventType
	ObjectID      string
	StartingAfter string // an event id: list only older events
	Limit         int
}
