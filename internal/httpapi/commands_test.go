package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/provider"
	"github.com/reliabledemo/payments/internal/testmongo"
)

// commandCounter records the commands the service sends, leaving out the
// driver's own connection housekeeping.
type commandCounter struct {
	mu   sync.Mutex
	on   atomic.Bool
	cmds []bson.Raw
}

func (c *commandCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		switch e.CommandName {
		case "hello", "isMaster", "ismaster", "ping", "endSessions", "buildInfo", "saslStart", "saslContinue":
			return
		}
		if c.on.Load() {
			c.mu.Lock()
			c.cmds = append(c.cmds, slices.Clone(e.Command))
			c.mu.Unlock()
		}
	}}
}

// record returns the commands f sent.
func (c *commandCounter) record(f func()) []bson.Raw {
	c.mu.Lock()
	c.cmds = nil
	c.mu.Unlock()
	c.on.Store(true)
	f()
	c.on.Store(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.cmds)
}

// measure returns the names of the commands f sent.
func (c *commandCounter) measure(f func()) []string {
	var names []string
	for _, cmd := range c.record(f) {
		names = append(names, cmd.Index(0).Key())
	}
	return names
}

func TestCommandBudget(t *testing.T) {
	t.Parallel()
	cc := &commandCounter{}
	db := testmongo.OpenWith(t, options.Client().SetMonitor(cc.monitor()))
	a := newApp(t, appOptions{db: db, behavior: provider.Behavior{MinDelayMs: 400, MaxDelayMs: 400}})

	var first int
	cmds := cc.measure(func() { first = a.postOrder("k-budget", orderJSON).Code })
	// Claim, charge, insert the settled order, record its event, complete.
	if first != http.StatusCreated || len(cmds) > 5 {
		t.Fatalf("first POST: status %d, %d commands %v, want at most 5", first, len(cmds), cmds)
	}
	t.Logf("first POST /orders: %v", cmds)

	tests := []struct {
		name   string
		send   func() int
		status int
	}{
		{"replay", func() int { return a.postOrder("k-budget", orderJSON).Code }, http.StatusCreated},
		{"mismatch", func() int {
			return a.postOrder("k-budget", `{"userId":"u1","amount":1,"currency":"INR"}`).Code
		}, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		var status int
		cmds := cc.measure(func() { status = tt.send() })
		if status != tt.status || len(cmds) != 1 {
			t.Errorf("%s: status %d, commands %v, want %d and exactly 1", tt.name, status, cmds, tt.status)
		}
	}

	// In flight: hold a first request in the provider's delay, then measure
	// a concurrent retry.
	done := make(chan struct{})
	go func() { a.postOrder("k-budget-2", orderJSON); close(done) }()
	waitFor(t, func() bool {
		return a.count("idempotencykeys", bson.M{"key": "k-budget-2", "status": "IN_PROGRESS"}) == 1
	})
	var status int
	cmds = cc.measure(func() { status = a.postOrder("k-budget-2", orderJSON).Code })
	if status != http.StatusConflict || len(cmds) != 1 {
		t.Errorf("in flight: status %d, commands %v, want 409 and exactly 1", status, cmds)
	}
	<-done
}

// TestCommandsPerRoute counts the MongoDB commands of every write route, on
// the first request and on its replay, and holds each to its budget: the
// README's table of commands per route is this test's output.
func TestCommandsPerRoute(t *testing.T) {
	t.Parallel()
	cc := &commandCounter{}
	db := testmongo.OpenWith(t, options.Client().SetMonitor(cc.monitor()))
	a := newApp(t, appOptions{db: db})

	var captured intentBody // an automatic intent, succeeded, for refunds
	type step struct {
		name   string
		budget int
		send   func() int
		status int
	}
	var toConfirm, toCapture, toCancel intentBody
	steps := []step{
		{"POST /orders", 5, func() int { return a.postOrder("k-route-order", orderJSON).Code }, http.StatusCreated},
		{"POST /payment_intents", 4, func() int {
			rec := a.do(request{method: "POST", path: "/payment_intents", body: intentJSON, key: strp("k-route-pi")})
			toConfirm = decode[intentBody](t, rec)
			return rec.Code
		}, http.StatusCreated},
		{"PATCH /payment_intents/:id/confirm", 7, func() int {
			return a.action("confirm", toConfirm.ID, `{}`, strp("k-route-confirm")).Code
		}, http.StatusAccepted},
		{"worker: process a confirmed intent", 4, func() int {
			a.process(toConfirm.ID)
			captured = toConfirm
			return http.StatusOK
		}, http.StatusOK},
		{"POST /payment_intents/:id/capture", 5, func() int {
			return a.action("capture", toCapture.ID, `{}`, strp("k-route-capture")).Code
		}, http.StatusOK},
		{"POST /payment_intents/:id/cancel", 5, func() int {
			return a.action("cancel", toCancel.ID, `{}`, strp("k-route-cancel")).Code
		}, http.StatusOK},
		{"POST /refunds", 8, func() int {
			p := decode[struct {
				PaymentID string `json:"payment_id"`
			}](t, a.do(request{method: "GET", path: "/payments/" + captured.ID}))
			return a.do(request{method: "POST", path: "/refunds", key: strp("k-route-refund"),
				body: `{"payment_id":"` + p.PaymentID + `","amount":100,"reason":"requested_by_customer"}`}).Code
		}, http.StatusCreated},
		{"POST /admin/payment-behavior", 4, func() int {
			return a.do(request{method: "POST", path: "/admin/payment-behavior", auth: adminKey, key: strp("k-route-admin"),
				body: `{"failureRate":0}`}).Code
		}, http.StatusOK},
	}
	toCapture = a.intentIn("requires_capture")
	toCancel = a.createIntent(intentJSON)

	for _, s := range steps {
		var status int
		// The payment lookup of the refund step is a read the client makes
		// first; leave it out by measuring only the POST.
		cmds := cc.measure(func() { status = s.send() })
		if s.name == "POST /refunds" {
			cmds = cmds[1:]
		}
		t.Logf("| `%s` | %d | %v |", s.name, len(cmds), cmds)
		if status != s.status || len(cmds) > s.budget {
			t.Errorf("%s: status %d, %d commands %v, want %d and at most %d", s.name, status, len(cmds), cmds, s.status, s.budget)
		}
	}
}
