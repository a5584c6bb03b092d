package webhooks_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/webhooks"
)

// TestLeaseExpiryRedelivers: a delivery claimed by a worker that died is
// claimed again once its lease ends, and delivered once.
func TestLeaseExpiryRedelivers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhooks.Config{})
	ctx := context.Background()
	c := newConsumer(t, ok)
	ep := e.subscribe(c, c.srv.URL)
	ev := e.emit()
	// A worker claims it and dies: its lease ends a moment later.
	now := time.Now().UTC()
	id, err := e.store.ClaimDelivery(ctx, "dead-worker", now, now.Add(200*time.Millisecond))
	if err != nil || id != domain.DeliveryID(ev.ID, ep.ID) {
		t.Fatalf("ClaimDelivery = %q, %v", id, err)
	}
	e.work()
	d := e.waitFinal(id)
	e.waitQueueEmpty()
	if v, _, _ := c.seen(); d.Status != domain.DeliverySucceeded || len(d.Attempts) != 1 || len(v) != 1 {
		t.Fatalf("delivery = %+v, consumer saw %d, want one attempt, one request", d, len(v))
	}
}

// TestQueueEntryOfSettledDelivery: a queue entry whose record is final (the
// worker died between settling and dequeuing, or an enqueue raced with
// settling) is removed without sending anything; one whose attempt is
// recorded but not yet due again is put back until it is.
func TestQueueEntryOfSettledDelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhooks.Config{MaxAttempts: 3, RetryWindow: time.Hour})
	ctx := context.Background()
	c := newConsumer(t, ok)
	ep := e.subscribe(c, c.srv.URL)
	settled, waiting := orderEvent(t), orderEvent(t)
	for _, ev := range []domain.Event{settled, waiting} {
		e.addEvent(ev)
		if err := e.d.Enqueue(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	sid, wid := domain.DeliveryID(settled.ID, ep.ID), domain.DeliveryID(waiting.ID, ep.ID)
	if ok, err := e.store.RecordAttempt(ctx, sid, 0, domain.DeliveryAttempt{At: now, StatusCode: 200}, domain.DeliverySucceeded, time.Time{}, now); !ok || err != nil {
		t.Fatalf("RecordAttempt: %v %v", ok, err)
	}
	later := now.Add(time.Hour)
	if ok, err := e.store.RecordAttempt(ctx, wid, 0, domain.DeliveryAttempt{At: now, StatusCode: 500, Error: domain.AttemptHTTPStatus}, domain.DeliveryPending, later, now); !ok || err != nil {
		t.Fatalf("RecordAttempt: %v %v", ok, err)
	}
	// Recording the same attempt again (a second worker) changes nothing.
	if ok, err := e.store.RecordAttempt(ctx, wid, 0, domain.DeliveryAttempt{At: now, StatusCode: 200}, domain.DeliverySucceeded, time.Time{}, now); ok || err != nil {
		t.Fatalf("second RecordAttempt of attempt 1 = %v, %v; want refused", ok, err)
	}
	// Re-driving the settled event queues nothing.
	if err := e.d.Enqueue(ctx, settled); err != nil {
		t.Fatal(err)
	}
	e.work()
	deadline := time.Now().Add(20 * time.Second)
	for e.count(mongostore.WebhookQueueCollection, bson.M{"_id": sid}) != 0 ||
		e.count(mongostore.WebhookQueueCollection, bson.M{"_id": wid, "owner": "", "availableAt": later}) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("queue not settled after 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v, r, _ := c.seen(); len(v)+r != 0 {
		t.Fatalf("%d requests sent, want none", len(v)+r)
	}
	if d, _ := e.store.GetDelivery(ctx, wid); len(d.Attempts) != 1 || d.Status != domain.DeliveryPending {
		t.Fatalf("waiting delivery = %+v", d)
	}
}

// TestEndpointDeleted: a pending delivery to a deleted endpoint is given
// up, and the endpoint's events no longer queue anything.
func TestEndpointDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhooks.Config{})
	ctx := context.Background()
	ep := e.endpoint("http://127.0.0.1:1/gone")
	ev := e.emit()
	if err := e.d.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.d.DeleteEndpoint(ctx, ep.ID); domain.KindOf(err) != domain.KindNotFound {
		t.Fatalf("second delete: %v, want not found", err)
	}
	if n := e.commands(func() { _ = e.d.Enqueue(ctx, orderEvent(t)) }); n != 0 {
		t.Fatalf("Enqueue after the delete sent %d commands, want 0", n)
	}
	e.work()
	d := e.waitFinal(domain.DeliveryID(ev.ID, ep.ID))
	if d.Status != domain.DeliveryFailed || len(d.Attempts) != 1 || d.Attempts[0].Error != domain.AttemptEndpointDeleted {
		t.Fatalf("delivery = %+v, want failed endpoint_deleted", d)
	}
}

// TestRedeliver: a redelivery is a new delivery per matching endpoint, with
// an id derived from the request's resource id, so a retried request
// queues nothing twice; an unknown event is resource_missing.
func TestRedeliver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhooks.Config{})
	ctx := context.Background()
	c := newConsumer(t, func(int) int { return http.StatusOK })
	ep := e.endpoint(c.srv.URL, string(domain.EventOrderPaid))
	e.endpoint("http://127.0.0.1:1/other", string(domain.EventRefundCreated))
	c.secret.Store(ep.Secret)
	ev := e.emit()
	rid := domain.NewSortableID(time.Now())
	var first []domain.WebhookDelivery
	for range 2 {
		ds, err := e.d.Redeliver(ctx, rid, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].ID != domain.DeliveryID(rid, ep.ID) || !ds[0].Redelivery || ds[0].EventID != ev.ID {
			t.Fatalf("Redeliver = %+v", ds)
		}
		first = ds
	}
	if n := e.count(mongostore.WebhookDeliveriesCollection, bson.M{"eventId": ev.ID}); n != 2 {
		t.Fatalf("%d deliveries of the event, want 2 (the original and one redelivery)", n)
	}
	e.work()
	e.waitFinal(first[0].ID)
	e.waitFinal(domain.DeliveryID(ev.ID, ep.ID))
	if v, _, _ := c.seen(); len(v) != 2 || v[0] != ev.ID || v[1] != ev.ID {
		t.Fatalf("consumer verified %v, want the event twice", v)
	}
	if _, err := e.d.Redeliver(ctx, domain.NewSortableID(time.Now()), "evt_000000000000000000000000"); domain.KindOf(err) != domain.KindNotFound {
		t.Fatalf("unknown event: %v, want not found", err)
	}
}
