package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/testmongo"
	"github.com/reliabledemo/payments/internal/webhooks"
)

// orderEvent is the order.paid event of a fresh order.
func orderEvent(t *testing.T) domain.Event {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	ev, ok := domain.OrderEvent(domain.Order{ID: domain.NewSortableID(now), UserID: "u1", Amount: 500, Currency: "INR",
		Status: domain.OrderPaid, CreatedAt: now, UpdatedAt: now}, nil)
	if !ok {
		t.Fatal("no event for a paid order")
	}
	return ev
}

// env is a dispatcher on its own database, with a command counter.
type env struct {
	t        *testing.T
	db       *mongo.Database
	store    *mongostore.Store
	d        *webhooks.Dispatcher
	cmds     atomic.Int64
	counting atomic.Bool
}

func newEnv(t *testing.T, cfg webhooks.Config) *env {
	t.Helper()
	e := &env{t: t}
	mon := &event.CommandMonitor{Started: func(_ context.Context, ev *event.CommandStartedEvent) {
		switch ev.CommandName {
		case "hello", "isMaster", "ismaster", "ping", "endSessions", "buildInfo", "saslStart", "saslContinue":
			return
		}
		if e.counting.Load() {
			e.cmds.Add(1)
		}
	}}
	e.db = testmongo.OpenWith(t, options.Client().SetMonitor(mon))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.store = mongostore.New(e.db, log)
	if _, err := e.store.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Poll == 0 {
		cfg.Poll = 10 * time.Millisecond
	}
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	cfg.Logger = log
	e.d = webhooks.New(e.store, e.store, cfg)
	if err := e.d.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return e
}

// addEvent records ev in the store, as the events log does.
func (e *env) addEvent(ev domain.Event) {
	e.t.Helper()
	if _, err := e.store.InsertEvents(context.Background(), []domain.Event{ev}); err != nil {
		e.t.Fatalf("InsertEvents: %v", err)
	}
}

// emit records a new order event and fans it out, as the events log does,
// and returns it.
func (e *env) emit() domain.Event {
	e.t.Helper()
	ev := orderEvent(e.t)
	e.addEvent(ev)
	if err := e.d.Enqueue(context.Background(), ev); err != nil {
		e.t.Fatalf("Enqueue: %v", err)
	}
	return ev
}

// subscribe registers c as an endpoint at url and hands it the secret, so
// that it verifies what it receives.
func (e *env) subscribe(c *consumer, url string, events ...string) domain.WebhookEndpoint {
	e.t.Helper()
	ep := e.endpoint(url, events...)
	c.secret.Store(ep.Secret)
	return ep
}

// commands counts the commands f sends.
func (e *env) commands(f func()) int64 {
	e.cmds.Store(0)
	e.counting.Store(true)
	f()
	e.counting.Store(false)
	return e.cmds.Load()
}

// work runs the delivery worker until the test ends.
func (e *env) work() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.d.Work(ctx); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

func (e *env) endpoint(url string, events ...string) domain.WebhookEndpoint {
	e.t.Helper()
	if len(events) == 0 {
		events = []string{"*"}
	}
	ep, err := e.d.CreateEndpoint(context.Background(), domain.NewSortableID(time.Now()), domain.NewWebhookEndpoint{URL: url, EnabledEvents: events})
	if err != nil {
		e.t.Fatalf("CreateEndpoint: %v", err)
	}
	return ep
}

// waitFinal waits, at most 20 s, until the delivery is final.
func (e *env) waitFinal(id string) domain.WebhookDelivery {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := e.store.GetDelivery(context.Background(), id)
		if err == nil && d.Status.Final() {
			return d
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("delivery %s not final after 20 s: %+v, %v", id, d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitQueueEmpty waits, at most 20 s, until no delivery is queued: a
// settled delivery leaves the queue just after its record is final.
func (e *env) waitQueueEmpty() {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for e.count(mongostore.WebhookQueueCollection, bson.M{}) != 0 {
		if time.Now().After(deadline) {
			e.t.Fatal("deliveries still queued after 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) count(coll string, filter bson.M) int64 {
	e.t.Helper()
	n, err := e.db.Collection(coll).CountDocuments(context.Background(), filter)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// consumer is a webhook endpoint that verifies with the Standard Webhooks
// library, as a correct consumer does, and answers what status says.
type consumer struct {
	srv    *httptest.Server
	secret atomic.Value // string, set once the endpoint exists
	status func(n int) int

	mu       sync.Mutex
	verified []string // webhook-ids of requests that verified
	rejected int
	bodies   [][]byte
}

func newConsumer(t *testing.T, status func(n int) int) *consumer {
	c := &consumer{status: status}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		wh, err := standardwebhooks.NewWebhook(c.secret.Load().(string))
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		c.mu.Lock()
		if err != nil {
			c.rejected++
			c.mu.Unlock()
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		c.verified = append(c.verified, r.Header.Get("webhook-id"))
		c.bodies = append(c.bodies, body)
		n := len(c.verified)
		c.mu.Unlock()
		w.WriteHeader(c.status(n))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *consumer) seen() (verified []string, rejected int, bodies [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.verified), c.rejected, slices.Clone(c.bodies)
}

func ok(int) int { return http.StatusOK }

func decodeBody(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return m
}
