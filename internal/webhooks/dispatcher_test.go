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

// TestEnqueueNoMatchCostsNothing: the publisher calls Enqueue after every
// event, so an event no endpoint wants must not reach MongoDB.
func TestEnqueueNoMatchCostsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhooks.Config{})
	ctx := context.Background()
	ev := orderEvent(t)
	if n := e.commands(func() {
		if err := e.d.Enqueue(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("no endpoints: Enqueue sent %d commands, want 0", n)
	}
	e.endpoint("http://127.0.0.1:1/hooks", string(domain.EventRefundCreated))
	if n := e.commands(func() {
		if err := e.d.Enqueue(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("no endpoint for %s: Enqueue sent %d commands, want 0", ev.Type, n)
	}
}

// TestEnqueueIdempotent: a re-driven event finds its deliveries; one
// record and one queue entry per (event, endpoint).
func TestEnqueueIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhooks.Config{})
	ctx := context.Background()
	a := e.endpoint("http://127.0.0.1:1/a")
	b := e.endpoint("http://127.0.0.1:1/b", string(domain.EventOrderPaid))
	e.endpoint("http://127.0.0.1:1/c", string(domain.EventRefundCreated))
	ev := orderEvent(t)
	for range 3 {
		if err := e.d.Enqueue(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(mongostore.WebhookDeliveriesCollection, bson.M{"eventId": ev.ID}); n != 2 {
		t.Fatalf("%d delivery records, want 2", n)
	}
	if n := e.count(mongostore.WebhookQueueCollection, bson.M{}); n != 2 {
		t.Fatalf("%d queue entries, want 2", n)
	}
	for _, ep := range []domain.WebhookEndpoint{a, b} {
		if _, err := e.store.GetDelivery(ctx, domain.DeliveryID(ev.ID, ep.ID)); err != nil {
			t.Fatalf("delivery to %s: %v", ep.ID, err)
		}
	}
}

// TestDeliverSigned: a delivery reaches the endpoint signed so that the
// library verifies it, with the event id as webhook-id and the event as
// body, and is recorded as succeeded with its attempt.
func TestDeliverSigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhooks.Config{})
	c := newConsumer(t, func(int) int { return http.StatusNoContent })
	ep := e.subscribe(c, c.srv.URL+"/hooks")
	ev := e.emit()
	e.work()
	d := e.waitFinal(domain.DeliveryID(ev.ID, ep.ID))
	if d.Status != domain.DeliverySucceeded || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 204 || d.Attempts[0].Error != "" {
		t.Fatalf("delivery = %+v", d)
	}
	verified, rejected, bodies := c.seen()
	if len(verified) != 1 || verified[0] != ev.ID || rejected != 0 {
		t.Fatalf("consumer verified %v, rejected %d", verified, rejected)
	}
	body := decodeBody(t, bodies[0])
	if body["id"] != ev.ID || body["type"] != string(ev.Type) || body["object"] != "event" {
		t.Fatalf("body = %v", body)
	}
	e.waitQueueEmpty()
}

// TestRetryThenSucceed: non-2xx answers are retried with backoff; each
// attempt is kept with its status and error.
func TestRetryThenSucceed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhooks.Config{MaxAttempts: 5, RetryWindow: 300 * time.Millisecond})
	c := newConsumer(t, func(n int) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	ep := e.subscribe(c, c.srv.URL)
	ev := e.emit()
	e.work()
	d := e.waitFinal(domain.DeliveryID(ev.ID, ep.ID))
	if d.Status != domain.DeliverySucceeded || len(d.Attempts) != 3 {
		t.Fatalf("delivery = %+v, want succeeded on the third attempt", d)
	}
	for i, a := range d.Attempts[:2] {
		if a.StatusCode != 503 || a.Error != domain.AttemptHTTPStatus {
			t.Fatalf("attempt %d = %+v, want 503 http_status", i+1, a)
		}
	}
	if !d.Attempts[1].At.After(d.Attempts[0].At) {
		t.Fatalf("attempts not in order: %+v", d.Attempts)
	}
}

// TestRetryExhausted: after MaxAttempts failures the delivery is failed and
// leaves the queue.
func TestRetryExhausted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhooks.Config{MaxAttempts: 3, RetryWindow: 100 * time.Millisecond})
	c := newConsumer(t, func(int) int { return http.StatusInternalServerError })
	ep := e.subscribe(c, c.srv.URL)
	ev := e.emit()
	e.work()
	d := e.waitFinal(domain.DeliveryID(ev.ID, ep.ID))
	if d.Status != domain.DeliveryFailed || len(d.Attempts) != 3 {
		t.Fatalf("delivery = %+v, want failed after 3 attempts", d)
	}
	e.waitQueueEmpty()
}

// TestFaults: failRate makes attempts that send nothing and are retried;
// forgedRate and duplicateRate send extra copies, of which a verifying
// consumer accepts the duplicate and rejects the forgery.
func TestFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rate := func(v float64) *float64 { return &v }

	t.Run("fail", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, webhooks.Config{MaxAttempts: 3, RetryWindow: 100 * time.Millisecond})
		c := newConsumer(t, ok)
		ep := e.subscribe(c, c.srv.URL)
		if _, err := e.d.UpdateFaults(ctx, domain.WebhookFaultsPatch{FailRate: rate(1)}); err != nil {
			t.Fatal(err)
		}
		ev := e.emit()
		e.work()
		d := e.waitFinal(domain.DeliveryID(ev.ID, ep.ID))
		if d.Status != domain.DeliveryFailed || len(d.Attempts) != 3 {
			t.Fatalf("delivery = %+v, want failed after 3 simulated timeouts", d)
		}
		for _, a := range d.Attempts {
			if !a.Simulated || a.Error != domain.AttemptSimulatedTimeout {
				t.Fatalf("attempt = %+v, want a simulated timeout", a)
			}
		}
		if v, r, _ := c.seen(); len(v)+r != 0 {
			t.Fatalf("the consumer got %d requests, want none", len(v)+r)
		}
	})

	t.Run("duplicate and forged", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, webhooks.Config{})
		c := newConsumer(t, ok)
		ep := e.subscribe(c, c.srv.URL)
		if _, err := e.d.UpdateFaults(ctx, domain.WebhookFaultsPatch{DuplicateRate: rate(1), ForgedRate: rate(1)}); err != nil {
			t.Fatal(err)
		}
		ev := e.emit()
		e.work()
		d := e.waitFinal(domain.DeliveryID(ev.ID, ep.ID))
		if d.Status != domain.DeliverySucceeded || len(d.Attempts) != 1 || !d.Attempts[0].Duplicated || !d.Attempts[0].Forged {
			t.Fatalf("delivery = %+v", d)
		}
		// The duplicate is sent after the attempt is decided; wait for it.
		deadline := time.Now().Add(10 * time.Second)
		for {
			v, r, _ := c.seen()
			if len(v) == 2 && r == 1 {
				if v[0] != ev.ID || v[1] != ev.ID {
					t.Fatalf("webhook-ids %v, want the event id twice", v)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("consumer verified %v and rejected %d, want 2 and 1", v, r)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
