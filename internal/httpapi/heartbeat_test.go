package httpapi_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reliabledemo/payments/internal/orders"
	"github.com/reliabledemo/payments/internal/provider"
)

// countingCharger counts the charges the order service asks for.
type countingCharger struct {
	orders.Charger
	n atomic.Int64
}

func (c *countingCharger) Charge(ctx context.Context, req provider.ChargeRequest) (provider.Charge, error) {
	c.n.Add(1)
	return c.Charger.Charge(ctx, req)
}

// TestHeartbeatKeepsASlowRequestsLease: with the provider three times
// slower than the lease, retries during the first request all get 409 (or,
// racing its end, the replay of its answer),
// because the request extends its lease while it runs; nothing takes it
// over, and the provider is asked once.
func TestHeartbeatKeepsASlowRequestsLease(t *testing.T) {
	t.Parallel()
	const lease = 500 * time.Millisecond
	counter := &countingCharger{}
	a := newApp(t, appOptions{
		lease: lease, realTime: true,
		behavior: provider.Behavior{MinDelayMs: 1500, MaxDelayMs: 1500},
		charger:  func(c orders.Charger) orders.Charger { counter.Charger = c; return counter },
	})

	first := make(chan int)
	start := time.Now()
	go func() { first <- a.postOrder("k-slow", orderJSON).Code }()
	time.Sleep(50 * time.Millisecond) // let it claim the key

	// Retries after the first lease ran out are the ones that prove the
	// heartbeat: without it they would take the request over.
	retries, conflicts, late := 0, 0, 0
	var status int
	for done := false; !done; {
		select {
		case status = <-first:
			done = true
		case <-time.After(40 * time.Millisecond):
			if time.Since(start) > lease+100*time.Millisecond {
				late++
			}
			rec := a.postOrder("k-slow", orderJSON)
			retries++
			switch {
			case rec.Code == http.StatusConflict:
				conflicts++
			case rec.Code == http.StatusCreated && rec.Header().Get("Idempotent-Replayed") == "true":
				// Sent as the first request completed: a replay of its
				// answer. A takeover would have answered unreplayed.
				conflicts++
			default:
				t.Errorf("retry %d during the slow request: %d %s", retries, rec.Code, rec.Body)
			}
		}
	}
	if status != http.StatusCreated {
		t.Fatalf("slow request: %d", status)
	}
	if late < 2 || conflicts != retries {
		t.Fatalf("%d of %d retries got 409 (%d sent after the first lease ran out), want all, and at least 2 of those", conflicts, retries, late)
	}
	if n := counter.n.Load(); n != 1 {
		t.Fatalf("provider asked %d times, want 1", n)
	}
	if n := a.count("charges", nil); n != 1 {
		t.Fatalf("charges = %d, want 1", n)
	}
	if rec := a.postOrder("k-slow", orderJSON); rec.Code != http.StatusCreated || rec.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay after the slow request: %d", rec.Code)
	}
}
