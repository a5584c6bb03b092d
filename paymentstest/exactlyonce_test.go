package paymentstest_test

// This file reads as your own test would: it uses only the public packages
// (client, paymentstest) and the MongoDB driver. checkout stands for the code
// under test, a client that pays with retries; the test starts the service,
// injects faults, runs payments through checkout, and proves in MongoDB
// that each payment was charged exactly once.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/client"
	"github.com/reliabledemo/payments/paymentstest"
)

// checkout is the code under test: it pays for one cart and reports the
// order, paid or declined. Declines are an answer, not an error.
func checkout(ctx context.Context, c *client.Client, cartID string, amount int64) (*client.Order, error) {
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	order, err := c.CreateOrder(ctx, client.OrderParams{UserID: cartID, Amount: amount, Currency: "USD"},
		client.IdempotencyKey("checkout-"+cartID)) // one key per cart: a rerun of checkout cannot pay twice
	var e *client.Error
	if errors.As(err, &e) && e.Code == client.CodePaymentFailed {
		return order, nil
	}
	return order, err
}

func TestEachPaymentIsChargedOnceUnderFaults(t *testing.T) {
	t.Parallel()
	// Retries until each checkout's deadline, with short waits: the
	// faults below make many of them.
	patient := client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: -1, MaxDelay: 250 * time.Millisecond})
	tests := []struct {
		name    string
		n       int
		opts    []paymentstest.Option
		crashes []string // crash points armed one after another during the run
		twice   bool     // each cart is checked out twice at once, as by a double click
	}{
		{name: "30% of charges time out after the money moved", n: 20, opts: []paymentstest.Option{
			paymentstest.WithBehavior(client.BehaviorPatch{TimeoutRate: client.Float(0.3), TimeoutMs: client.Int(30), TimeoutOutcome: client.String("succeed_late")})}},
		// The second checkout of a cart finds the first still charging (409
		// idempotency_key_in_use), waits out Retry-After and gets its answer
		// replayed.
		{name: "a slow provider and double clicks", n: 10, twice: true, opts: []paymentstest.Option{
			paymentstest.WithBehavior(client.BehaviorPatch{MinDelayMs: client.Int(300), MaxDelayMs: client.Int(500)})}},
		// Each attempt gives up before the charge ends; the service finishes
		// what the attempt left, and a later attempt gets its answer.
		{name: "the client's timeout is shorter than the charge", n: 10, opts: []paymentstest.Option{
			paymentstest.WithBehavior(client.BehaviorPatch{MinDelayMs: client.Int(800), MaxDelayMs: client.Int(800)}),
			paymentstest.WithClientOptions(client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: -1, MaxDelay: 250 * time.Millisecond, AttemptTimeout: 300 * time.Millisecond}))}},
		{name: "30% of responses dropped", n: 20, opts: []paymentstest.Option{paymentstest.WithDropResponseRate(0.3)}},
		{name: "crashes mid-payment", n: 12, crashes: []string{client.CrashAfterCharge, client.CrashBeforeComplete}},
		{name: "100 payments, everything at once", n: 100, opts: []paymentstest.Option{
			paymentstest.WithBehavior(client.BehaviorPatch{FailureRate: client.Float(0.3), TimeoutRate: client.Float(0.3), TimeoutMs: client.Int(30), TimeoutOutcome: client.String("succeed_late")}),
			paymentstest.WithDropResponseRate(0.3)},
			crashes: []string{client.CrashAfterClaim, client.CrashAfterCharge, client.CrashAfterOrderInsert}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := append([]paymentstest.Option{paymentstest.WithIdempotencyLease(time.Second), paymentstest.WithClientOptions(patient)}, tt.opts...)
			svc := paymentstest.New(t, opts...)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()

			crashed := make(chan struct{})
			go func() { defer close(crashed); armCrashes(ctx, t, svc, tt.crashes) }()

			orders := make([]*client.Order, tt.n)
			attempts := 0
			var mu sync.Mutex
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			for i := range tt.n {
				clicks := 1
				if tt.twice {
					clicks = 2
				}
				for range clicks {
					wg.Go(func() {
						sem <- struct{}{}
						defer func() { <-sem }()
						o, err := checkout(ctx, svc.Client, fmt.Sprintf("cart-%03d", i), int64(100+i))
						if err != nil {
							t.Errorf("cart-%03d: %v", i, err)
							return
						}
						mu.Lock()
						defer mu.Unlock()
						if orders[i] != nil && orders[i].ID != o.ID {
							t.Errorf("cart-%03d: two checkouts got orders %s and %s", i, orders[i].ID, o.ID)
						}
						orders[i], attempts = o, attempts+o.Response.Attempts
					})
				}
			}
			wg.Wait()
			cancel()
			<-crashed
			if t.Failed() {
				return
			}
			if len(tt.crashes) > 0 && svc.Crashes() == 0 {
				t.Errorf("no crash happened")
			}
			if attempts == tt.n {
				t.Errorf("%d payments took %d attempts: the faults did not bite", tt.n, attempts)
			}
			t.Logf("%d payments, %d attempts, %d crashes", tt.n, attempts, svc.Crashes())
			assertChargedOnce(t, svc, orders)
		})
	}
}

// armCrashes arms each crash point in turn, once the service is back from
// the previous crash, until ctx ends.
func armCrashes(ctx context.Context, t *testing.T, svc *paymentstest.Service, points []string) {
	for i, p := range points {
		if _, err := svc.Admin.SetFaults(ctx, client.FaultSettings{CrashAt: client.String(p)}); err != nil {
			if ctx.Err() == nil {
				t.Errorf("arm %s: %v", p, err)
			}
			return
		}
		for svc.Crashes() <= i {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// assertChargedOnce proves exactly-once in MongoDB: each cart has one
// order, the one the client was told about, and the provider's ledger one
// charge for it, of its amount, whose outcome the order reflects; and the
// ledger holds no other charge.
func assertChargedOnce(t *testing.T, svc *paymentstest.Service, orders []*client.Order) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	db := svc.DB(t)
	for _, o := range orders {
		var docs []struct {
			ID     bson.ObjectID `bson:"_id"`
			Amount int64         `bson:"amount"`
			Status string        `bson:"status"`
		}
		cur, err := db.Collection(paymentstest.OrdersCollection).Find(ctx, bson.M{"userId": o.UserID})
		if err == nil {
			err = cur.All(ctx, &docs)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 1 || docs[0].ID.Hex() != o.ID || docs[0].Status != o.Status {
			t.Errorf("%s: orders in MongoDB %+v, want one: %s %s", o.UserID, docs, o.ID, o.Status)
			continue
		}
		var charge struct {
			Amount int64  `bson:"amount"`
			Status string `bson:"status"`
		}
		if err := db.Collection(paymentstest.ChargesCollection).FindOne(ctx, bson.M{"_id": paymentstest.OrderChargeID(o.ID)}).Decode(&charge); err != nil {
			t.Errorf("%s: charge of order %s: %v", o.UserID, o.ID, err)
			continue
		}
		paid := charge.Status == "succeeded"
		if charge.Amount != docs[0].Amount || paid != (o.Status == client.OrderPaid) {
			t.Errorf("%s: charge %+v for order %s of %d", o.UserID, charge, o.Status, docs[0].Amount)
		}
	}
	n, err := db.Collection(paymentstest.ChargesCollection).CountDocuments(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(orders)) {
		t.Errorf("the ledger holds %d charges for %d payments", n, len(orders))
	}
}
