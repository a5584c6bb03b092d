package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/provider"
	"github.com/reliabledemo/payments/internal/testmongo"
)

// commandCounter counts the commands the service sends, leaving out the
// driver's own connection housekeeping.
type commandCounter struct {
	mu    sync.Mutex
	on    atomic.Bool
	names []string
}

func (c *commandCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		switch e.CommandName {
		case "hello", "isMaster", "ismaster", "ping", "endSessions", "buildInfo", "saslStart", "saslContinue":
			return
		}
		if c.on.Load() {
			c.mu.Lock()
			c.names = append(c.names, e.CommandName)
			c.mu.Unlock()
		}
	}}
}

// measure returns the commands f sent.
func (c *commandCounter) measure(f func()) []string {
	c.mu.Lock()
	c.names = nil
	c.mu.Unlock()
	c.on.Store(true)
	f()
	c.on.Store(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names...)
}

func TestCommandBudget(t *testing.T) {
	t.Parallel()
	cc := &commandCounter{}
	db := testmongo.OpenWith(t, options.Client().SetMonitor(cc.monitor()))
	a := newApp(t, appOptions{db: db, behavior: provider.Behavior{MinDelayMs: 400, MaxDelayMs: 400}})

	var first int
	cmds := cc.measure(func() { first = a.postOrder("k-budget", orderJSON).Code })
	// Claim, charge, insert the settled order, complete.
	if first != http.StatusCreated || len(cmds) > 4 {
		t.Fatalf("first POST: status %d, %d commands %v, want at most 4", first, len(cmds), cmds)
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
