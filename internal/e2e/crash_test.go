package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// crashServer starts a server with faults enabled and its own embedded
// store, whose data survives the crash because it lives in dir.
func crashServer(t *testing.T, name string, extra ...string) (*server, string) {
	t.Helper()
	dir := t.TempDir()
	mongoAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	env := append([]string{
		"FAULTS_ENABLED=true", "EMBEDDED_DATA_DIR=" + dir + "/data", "EMBEDDED_MONGO_ADDR=" + mongoAddr,
		"IDEMPOTENCY_LEASE=2s", "PAYMENT_MIN_DELAY_MS=0", "PAYMENT_MAX_DELAY_MS=0",
		"ASYNC_DELAY=0", "ASYNC_JITTER=0", "INTENT_FAILURE_RATE=0", "WORKER_LEASE=2s", "WORKER_POLL_INTERVAL=50ms",
	}, extra...)
	return startServer(t, name, dir, env), "mongodb://" + mongoAddr
}

func TestOrderCrashPoints(t *testing.T) {
	t.Parallel()
	for _, point := range []string{"after_claim", "after_charge", "after_order_insert", "before_complete"} {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			s, uri := crashServer(t, "server-"+point)
			body := `{"userId":"crash-user","amount":1234,"currency":"EUR"}`
			s.crashOn(t, point, "POST", "/orders", "crash-key", body)
			s.restart(t)
			time.Sleep(2100 * time.Millisecond) // let the dead request's lease run out
			first := s.call("POST", "/orders", "crash-key", apiKey, body)
			if first.err != nil || first.status != http.StatusCreated || first.field(t, "status") != "PAID" {
				t.Fatalf("retry after restart: %v %d %s", first.err, first.status, first.body)
			}
			for i := range 3 {
				again := s.call("POST", "/orders", "crash-key", apiKey, body)
				if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
					t.Fatalf("replay %d differs: %d %s", i, again.status, again.body)
				}
			}

			db := connect(t, uri)
			if n := count(t, db, "orders", bson.M{"userId": "crash-user"}); n != 1 {
				t.Fatalf("orders = %d, want 1", n)
			}
			if n := count(t, db, "charges", bson.M{}); n != 1 {
				t.Fatalf("charges = %d, want 1", n)
			}
			if n := count(t, db, "idempotencykeys", bson.M{"key": "crash-key", "status": "COMPLETED"}); n != 1 {
				t.Fatalf("completed records = %d, want 1", n)
			}
			wantEvents(t, db, first.field(t, "id"), "order.paid")
		})
	}
}

// TestIntentCrashPoints kills the process while an intent is confirmed and
// charged. At after_job_claim and after_charge the worker dies holding the
// job; at after_transition the confirm dies between the intent's move to
// processing and its event, and the restarted worker finishes the intent
// before the client retries the confirm.
func TestIntentCrashPoints(t *testing.T) {
	t.Parallel()
	for _, point := range []string{"after_job_claim", "after_charge", "after_transition"} {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			s, uri := crashServer(t, "server-intent-"+point)
			created := s.call("POST", "/payment_intents", "pi-key", apiKey,
				`{"amount":2599,"currency":"USD","customer_id":"cus_crash","payment_method_id":"pm_fake_visa"}`)
			if created.status != http.StatusCreated {
				t.Fatalf("create: %v %d %s", created.err, created.status, created.body)
			}
			id := created.field(t, "id")
			// Armed after the create, whose own event passes
			// after_transition too.
			s.armCrash(t, point)

			confirmed := s.call("PATCH", "/payment_intents/"+id+"/confirm", "confirm-key", apiKey, `{}`)
			if confirmed.err == nil && (confirmed.status != http.StatusAccepted || point == "after_transition") {
				t.Fatalf("confirm: %d %s; want it to die at %s", confirmed.status, confirmed.body, point)
			}
			// The worker picks the job up and dies at the point, or the
			// confirm does.
			if code := s.wait(15 * time.Second); code != 3 {
				t.Fatalf("exit code %d, want 3", code)
			}

			s.restart(t)
			db := connect(t, uri)
			if point == "after_transition" {
				// The job was queued before the confirm died: the worker
				// charges the intent while the confirm's record is still
				// leased. The processing event is missing from the log but
				// kept in the intent, for the confirm's retry to record.
				waitUntil(t, 15*time.Second, "the worker finishes the intent before the retry", func() bool {
					return count(t, db, "paymentintents", bson.M{"_id": id, "status": "succeeded"}) == 1
				})
				wantIntentHistory(t, db, id, "payment_intent.created", "payment_intent.processing", "payment_intent.succeeded")
				t.Logf("events before the retry: %s", eventTypes(objectEvents(t, db, id)))
			}
			if confirmed.err != nil {
				// The job was due at once, and the worker reached the point
				// before the confirm had answered: the process died under
				// it. The client retries after the lease.
				time.Sleep(2100 * time.Millisecond)
				confirmed = s.call("PATCH", "/payment_intents/"+id+"/confirm", "confirm-key", apiKey, `{}`)
				if confirmed.status != http.StatusAccepted {
					t.Fatalf("confirm retried after the crash: %v %d %s", confirmed.err, confirmed.status, confirmed.body)
				}
			}
			waitUntil(t, 20*time.Second, "intent succeeded after restart", func() bool {
				r := s.call("GET", "/payment_intents/"+id, "", apiKey, "")
				return r.status == http.StatusOK && r.field(t, "status") == "succeeded"
			})
			again := s.call("PATCH", "/payment_intents/"+id+"/confirm", "confirm-key", apiKey, `{}`)
			if !bytes.Equal(again.body, confirmed.body) || again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("confirm replay: %d %s", again.status, again.body)
			}

			if n := count(t, db, "charges", bson.M{"_id": id}); n != 1 {
				t.Fatalf("charges for %s = %d, want 1", id, n)
			}
			if n := count(t, db, "charges", bson.M{}); n != 1 {
				t.Fatalf("charges = %d, want 1", n)
			}
			// The worker deletes its job just after recording the outcome.
			waitUntil(t, 10*time.Second, "the job leaves the queue", func() bool {
				return count(t, db, "intentjobs", bson.M{}) == 0
			})
			if p := s.call("GET", "/payments/"+id, "", apiKey, ""); p.status != http.StatusOK || p.field(t, "status") != "succeeded" {
				t.Fatalf("payment: %d %s", p.status, p.body)
			}
			wantEvents(t, db, id, "payment_intent.created", "payment_intent.processing", "payment_intent.succeeded")
		})
	}
}

// TestRefundCrashAfterTransition kills a refund at both of its changes: the
// first attempt dies once the refund is stored pending, its retry once the
// refund has succeeded, each time before the change's event. The last retry
// must record refund.created and refund.succeeded once each, and the
// payment must lose the amount once.
func TestRefundCrashAfterTransition(t *testing.T) {
	t.Parallel()
	s, uri := crashServer(t, "server-refund")
	db := connect(t, uri)
	created := s.call("POST", "/payment_intents", "pi-refund", apiKey,
		`{"amount":2599,"currency":"USD","customer_id":"cus_refund","payment_method_id":"pm_fake_visa"}`)
	if created.status != http.StatusCreated {
		t.Fatalf("create: %v %d %s", created.err, created.status, created.body)
	}
	id := created.field(t, "id")
	if r := s.call("PATCH", "/payment_intents/"+id+"/confirm", "confirm-refund", apiKey, `{}`); r.status != http.StatusAccepted {
		t.Fatalf("confirm: %v %d %s", r.err, r.status, r.body)
	}
	// Once the succeeded event is in, the worker is past after_transition
	// and cannot take the crash meant for the refund.
	intentEvents := []string{"payment_intent.created", "payment_intent.processing", "payment_intent.succeeded"}
	wantEvents(t, db, id, intentEvents...)
	pay := s.call("GET", "/payments/"+id, "", apiKey, "")
	if pay.status != http.StatusOK {
		t.Fatalf("payment: %v %d %s", pay.err, pay.status, pay.body)
	}
	body := `{"payment_id":"` + pay.field(t, "payment_id") + `","reason":"requested_by_customer"}`

	// The first attempt dies with the refund stored pending; after the
	// lease, its retry dies with the refund succeeded.
	s.crashOn(t, "after_transition", "POST", "/refunds", "refund-key", body)
	s.restart(t)
	time.Sleep(2100 * time.Millisecond)
	s.crashOn(t, "after_transition", "POST", "/refunds", "refund-key", body)
	s.restart(t)
	time.Sleep(2100 * time.Millisecond)

	first := s.call("POST", "/refunds", "refund-key", apiKey, body)
	if first.err != nil || first.status != http.StatusCreated || first.field(t, "status") != "succeeded" {
		t.Fatalf("retry after two crashes: %v %d %s", first.err, first.status, first.body)
	}
	for i := range 2 {
		again := s.call("POST", "/refunds", "refund-key", apiKey, body)
		if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay %d differs: %d %s", i, again.status, again.body)
		}
	}

	if n := count(t, db, "refunds", bson.M{}); n != 1 {
		t.Fatalf("refunds = %d, want 1", n)
	}
	if n := count(t, db, "paymentintents", bson.M{"_id": id, "amountRefunded": 2599, "refundable": 0}); n != 1 {
		t.Fatal("the payment is not refunded exactly once in full")
	}
	wantEvents(t, db, first.field(t, "id"), "refund.created", "refund.succeeded")
	wantEvents(t, db, id, intentEvents...) // a refund changes no intent status
}
