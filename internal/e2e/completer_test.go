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
			s.armCrash(t, point)
			body := `{"userId":"abandoned-user","amount":4321,"currency":"EUR"}`
			if r := s.call("POST", "/orders", "abandoned-key", apiKey, body); r.err == nil {
				t.Fatalf("request answered %d %s; want the connection to die", r.status, r.body)
			}
			if code := s.wait(10 * time.Second); code != 3 {
				t.Fatalf("exit code %d, want 3", code)
			}
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
		})
	}
}
