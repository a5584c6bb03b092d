package httpapi_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/internal/orders"
)

// crash is a one-shot crash point: the first request that reaches it stops
// there, as a killed process would, leaving its lease held.
type crash struct{ armed atomic.Bool }

func (c *crash) hit() {
	if c.armed.CompareAndSwap(true, false) {
		panic("simulated crash")
	}
}

func TestRetryAfterCrashTakesOverAndFinishesOnce(t *testing.T) {
	t.Parallel()
	points := []string{"after_charge", "after_order_insert"}
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			c := &crash{}
			hooks := orders.Hooks{}
			if point == "after_order_insert" {
				hooks.AfterOrderInsert = c.hit
			} else {
				hooks.AfterCharge = c.hit
			}
			a := newApp(t, appOptions{lease: 30 * time.Second, hooks: hooks})
			c.armed.Store(true)

			if rec := a.postOrder("k-crash", orderJSON); rec.Code != http.StatusInternalServerError {
				t.Fatalf("crashed request: %d %s", rec.Code, rec.Body)
			}
			var rec bson.M
			if err := a.db.Collection("idempotencykeys").FindOne(t.Context(), bson.M{"key": "k-crash"}).Decode(&rec); err != nil {
				t.Fatal(err)
			}
			if rec["status"] != "IN_PROGRESS" {
				t.Fatalf("record after crash: %v", rec["status"])
			}
			// Within the lease the dead request still looks alive.
			busy := a.postOrder("k-crash", orderJSON)
			wantError(t, busy, http.StatusConflict, "idempotency_error", "idempotency_key_in_use")

			a.clock.Advance(31 * time.Second)
			done := a.postOrder("k-crash", orderJSON)
			if done.Code != http.StatusCreated {
				t.Fatalf("retry after lease: %d %s", done.Code, done.Body)
			}
			o := decode[orderBody](t, done)
			if o.ID != rec["resourceId"] || o.Status != "PAID" {
				t.Fatalf("takeover made order %s (%s), want the crashed request's %v", o.ID, o.Status, rec["resourceId"])
			}
			if n := a.count("orders", nil); n != 1 {
				t.Fatalf("orders = %d, want 1", n)
			}
			if n := a.count("charges", nil); n != 1 {
				t.Fatalf("charges = %d, want 1", n)
			}
			replay := a.postOrder("k-crash", orderJSON)
			if replay.Header().Get("Idempotent-Replayed") != "true" || replay.Body.String() != done.Body.String() {
				t.Fatalf("replay after takeover: %d %s", replay.Code, replay.Body)
			}
		})
	}
}
