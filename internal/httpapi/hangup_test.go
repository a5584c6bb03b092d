package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/reliabledemo/payments/internal/orders"
	"github.com/reliabledemo/payments/internal/provider"
)

// TestAHangUpDoesNotCancelThePayment: a client whose own timeout is shorter
// than the provider's delay hangs up on every attempt. The attempt it left
// still charges once, settles the order and stores the answer, so its retry
// gets 409 while the charge runs and the replay after it. Were the charge
// cancelled with the request, the key would be released on each hang-up and
// such a client would start over on every retry, never paid.
func TestAHangUpDoesNotCancelThePayment(t *testing.T) {
	t.Parallel()
	const delay = 1200 * time.Millisecond
	counter := &countingCharger{}
	a := newApp(t, appOptions{
		realTime: true,
		behavior: provider.Behavior{MinDelayMs: int(delay.Milliseconds()), MaxDelayMs: int(delay.Milliseconds())},
		charger:  func(c orders.Charger) orders.Charger { counter.Charger = c; return counter },
	})

	// The client's first attempt gives up after 200 ms.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	abandoned := make(chan int)
	start := time.Now()
	go func() {
		abandoned <- a.do(request{method: "POST", path: "/orders", body: orderJSON, key: strp("k-hangup"), ctx: ctx}).Code
	}()

	<-ctx.Done()
	time.Sleep(50 * time.Millisecond)
	if rec := a.postOrder("k-hangup", orderJSON); rec.Code != http.StatusConflict {
		t.Fatalf("retry while the abandoned attempt charges: %d %s, want 409", rec.Code, rec.Body)
	}

	// What the server did with the attempt nobody waits for.
	if code := <-abandoned; code != http.StatusCreated {
		t.Fatalf("the abandoned attempt ended %d after %v, want 201: its charge was cut short", code, time.Since(start).Round(time.Millisecond))
	}
	rec := a.postOrder("k-hangup", orderJSON)
	if rec.Code != http.StatusCreated || rec.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after the charge: %d replayed=%q, want the replay of 201", rec.Code, rec.Header().Get("Idempotent-Replayed"))
	}
	if o := decode[orderBody](t, rec); o.Status != "PAID" {
		t.Fatalf("order %s is %s, want PAID", o.ID, o.Status)
	}
	if n := counter.n.Load(); n != 1 {
		t.Fatalf("provider asked %d times, want 1", n)
	}
	if n := a.count("orders", nil); n != 1 {
		t.Fatalf("orders = %d, want 1", n)
	}
}
