package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Event types. The prefix says which object an event's data holds: an
// Order, a PaymentIntent or a Refund.
const (
	EventOrderPaid                    = "order.paid"
	EventOrderPaymentFailed           = "order.payment_failed"
	EventPaymentIntentCreated         = "payment_intent.created"
	EventPaymentIntentProcessing      = "payment_intent.processing"
	EventPaymentIntentRequiresCapture = "payment_intent.requires_capture"
	EventPaymentIntentSucceeded       = "payment_intent.succeeded"
	EventPaymentIntentPaymentFailed   = "payment_intent.payment_failed"
	EventPaymentIntentCanceled        = "payment_intent.canceled"
	EventRefundCreated                = "refund.created"
	EventRefundSucceeded              = "refund.succeeded"
	EventRefundFailed                 = "refund.failed"
)

// Event is one change of state of an order, payment intent or refund, with
// the object as the change left it. The service records exactly one per
// change; webhooks deliver them (VerifyWebhook).
type Event struct {
	ID      string    `json:"id"`     // evt_…; a webhook delivery's webhook-id
	Object  string    `json:"object"` // "event"
	Type    string    `json:"type"`   // one of the Event constants
	Created time.Time `json:"created"`
	// Sequence counts the changes of the object, from 1. Deliveries can
	// come late or out of order: keep the highest Sequence seen per
	// object and ignore events with a lower one.
	Sequence int64         `json:"sequence"`
	Data     EventData     `json:"data"`
	Request  *EventRequest `json:"request"` // nil for a change the service's worker made

	Response Response `json:"-"` // zero for an event from VerifyWebhook
}

// EventData holds the object's snapshot, exactly as GET returns the object.
// Event.Order, Event.PaymentIntent and Event.Refund decode it.
type EventData struct {
	Object json.RawMessage `json:"object"`
}

// EventRequest is the API request that caused an event.
type EventRequest struct {
	ID             string `json:"id"` // its X-Request-Id
	IdempotencyKey string `json:"idempotency_key"`
}

// ObjectID returns the id of the event's object, or "" if its data has
// none: the key to keep the highest Sequence by.
func (e *Event) ObjectID() string {
	var o struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(e.Data.Object, &o)
	return o.ID
}

// Order decodes the object of an order.* event. Its Response is zero.
func (e *Event) Order() (*Order, error) { return eventObject[Order](e, "order.") }

// PaymentIntent decodes the object of a payment_intent.* event. Its
// Response is zero.
func (e *Event) PaymentIntent() (*PaymentIntent, error) {
	return eventObject[PaymentIntent](e, "payment_intent.")
}

// Refund decodes the object of a refund.* event. Its Response is zero.
func (e *Event) Refund() (*Refund, error) { return eventObject[Refund](e, "refund.") }

// eventObject decodes e's object as a T, if e's type starts with prefix.
func eventObject[T any](e *Event, prefix string) (*T, error) {
	if !strings.HasPrefix(e.Type, prefix) {
		return nil, fmt.Errorf("client: event %s is a %s, not a %s* event", e.ID, e.Type, prefix)
	}
	v := new(T)
	if err := json.Unmarshal(e.Data.Object, v); err != nil {
		return nil, fmt.Errorf("client: event %s: decode its object: %w", e.ID, err)
	}
	return v, nil
}

// GetEvent returns one event.
func (c *Client) GetEvent(ctx context.Context, id string, opts ...CallOption) (*Event, error) {
	return send[Event](ctx, c, request{method: http.MethodGet, path: eventPath(id)}, opts)
}

// ListEventsParams filters and pages GET /events; zero fields are left out.
type ListEventsParams struct {
	Limit         int    // 1 to 100; the service's default is 20
	StartingAfter string // an event id: the page after it
	Type          string // one of the Event constants
	ObjectID      string // only the events of this order, payment intent or refund
}

// EventList is a page of events, newest first.
type EventList struct {
	Events  []Event `json:"events"`
	HasMore bool    `json:"has_more"`

	Response Response `json:"-"`
}

// ListEvents returns a page of events, newest first; events of the same
// millisecond come in an arbitrary but stable order. For the next page, set
// StartingAfter to the last event's ID while HasMore is true.
func (c *Client) ListEvents(ctx context.Context, p ListEventsParams, opts ...CallOption) (*EventList, error) {
	path := listPath("/events", p.Limit, map[string]string{"starting_after": p.StartingAfter, "type": p.Type, "object_id": p.ObjectID})
	return send[EventList](ctx, c, request{method: http.MethodGet, path: path}, opts)
}

// Redelivery is the answer to a redeliver: the deliveries queued.
type Redelivery struct {
	EventID    string            `json:"event_id"`
	Deliveries []WebhookDelivery `json:"deliveries"` // none if no endpoint is subscribed to the event's type

	Response Response `json:"-"`
}

// RedeliverEvent queues the event again for every webhook endpoint now
// subscribed to its type (HTTP 202): new deliveries, with Redelivery set,
// that carry the event's id as webhook-id, so a consumer that processed it
// already recognises it. Like every write, the call has one Idempotency-Key:
// its retries queue nothing twice. An unknown event is an *Error with Code
// CodeResourceMissing.
func (c *Client) RedeliverEvent(ctx context.Context, id string, opts ...CallOption) (*Redelivery, error) {
	return send[Redelivery](ctx, c, request{method: http.MethodPost, path: eventPath(id) + "/redeliver"}, opts)
}

func eventPath(id string) string { return "/events/" + url.PathEscape(id) }

func (e *Event) setResponse(r Response)      { e.Response = r }
func (l *EventList) setResponse(r Response)  { l.Response = r }
func (d *Redelivery) setResponse(r Response) { d.Response = r }
