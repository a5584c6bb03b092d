package e2e

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestCompleterFinishesAbandonedOrders kills the process at every crash
// point of an order and never retries: the restarted server's completer
// must finish the order on its own, once the lease and RECOVERY_AFTER have
// passed, and store the response that a late retry then gets replayed.
func TestCompleterFinishesAbandonedOrders(t *testing.T) {
	t.Parallel()
	for _, point := range []string{"after_claim", "after_charge", "after_order_insert", "before_complete"} {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			s, uri := crashServer(t, "server-abandon-"+point, "RECOVERY_AFTER=1s", "COMPLETER_INTERVAL=200ms")
			body := `{"userId":"abandoned-user","amount":4321,"currency":"EUR"}`
			s.crashOn(t, point, "POST", "/orders", "abandoned-key", body)
			s.restart(t)

			// No retry: the lease (2 s) and RECOVERY_AFTER (1 s) run out,
			// and the completer takes over.
			db := connect(t, uri)
			waitUntil(t, 20*time.Second, "the completer completes the record", func() bool {
				return count(t, db, "idempotencykeys", bson.M{"key": "abandoned-key", "status": "COMPLETED"}) == 1
			})
			if n := count(t, db, "orders", bson.M{"userId": "abandoned-user", "status": bson.M{"$in": bson.A{"PAID", "PAYMENT_FAILED"}}}); n != 1 {
				t.Fatalf("settled orders = %d, want 1", n)
			}
			if n := count(t, db, "orders", bson.M{}); n != 1 {
				t.Fatalf("orders = %d, want 1", n)
			}
			if n := count(t, db, "charges", bson.M{}); n != 1 {
				t.Fatalf("charges = %d, want 1", n)
			}

			// The client comes back late: it gets the completer's answer.
			late := s.call("POST", "/orders", "abandoned-key", apiKey, body)
			if late.err != nil || late.status != http.StatusCreated || late.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("late retry: %v %d %s", late.err, late.status, late.body)
			}
			again := s.call("POST", "/orders", "abandoned-key", apiKey, body)
			if !bytes.Equal(again.body, late.body) {
				t.Fatalf("replays differ: %s then %s", late.body, again.body)
			}
			wantEvents(t, db, late.field(t, "id"), "order.paid")
		})
	}
}

// TestCompleterFinishesAbandonedIntents kills the process at the intent
// crash points, where the worker dies holding the job and the confirm may
// not have answered yet, or where the confirm dies before its event
// (after_transition), and never retries the confirm: the intent must still
// end succeeded with one charge, the confirm's key completed, and each
// change's event recorded once, the confirm's by the completer.
func TestCompleterFinishesAbandonedIntents(t *testing.T) {
	t.Parallel()
	for _, point := range []string{"after_job_claim", "after_charge", "after_transition"} {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			s, uri := crashServer(t, "server-abandon-intent-"+point, "RECOVERY_AFTER=1s", "COMPLETER_INTERVAL=200ms")
			created := s.call("POST", "/payment_intents", "pi-abandon", apiKey,
				`{"amount":2599,"currency":"USD","customer_id":"cus_abandon","payment_method_id":"pm_fake_visa"}`)
			if created.status != http.StatusCreated {
				t.Fatalf("create: %v %d %s", created.err, created.status, created.body)
			}
			id := created.field(t, "id")
			// Armed after the create, whose own event passes
			// after_transition too.
			s.armCrash(t, point)
			s.call("PATCH", "/payment_intents/"+id+"/confirm", "confirm-abandon", apiKey, `{}`) // answered or not: never retried
			if code := s.wait(15 * time.Second); code != 3 {
				t.Fatalf("exit code %d, want 3", code)
			}
			s.restart(t)

			db := connect(t, uri)
			waitUntil(t, 30*time.Second, "the intent succeeds and the confirm's key completes", func() bool {
				return count(t, db, "paymentintents", bson.M{"_id": id, "status": "succeeded"}) == 1 &&
					count(t, db, "idempotencykeys", bson.M{"key": "confirm-abandon", "status": "COMPLETED"}) == 1
			})
			if n := count(t, db, "charges", bson.M{}); n != 1 {
				t.Fatalf("charges = %d, want 1", n)
			}
			// The worker deletes its job just after recording the outcome.
			waitUntil(t, 10*time.Second, "the job leaves the queue", func() bool {
				return count(t, db, "intentjobs", bson.M{}) == 0
			})
			wantEvents(t, db, id, "payment_intent.created", "payment_intent.processing", "payment_intent.succeeded")
		})
	}
}
