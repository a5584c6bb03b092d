package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/reliabledemo/payments/internal/events"
	"github.com/reliabledemo/payments/internal/httpapi"
	"github.com/reliabledemo/payments/internal/idempotency"
	"github.com/reliabledemo/payments/internal/intents"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/orders"
	"github.com/reliabledemo/payments/internal/provider"
	"github.com/reliabledemo/payments/internal/testclock"
	"github.com/reliabledemo/payments/internal/testmongo"
	"github.com/reliabledemo/payments/internal/webhooks"
	"github.com/reliabledemo/payments/internal/worker"
)

const (
	apiKey   = "test_api_key"
	adminKey = "test_admin_key"
)

// app is the real service wired as main wires it, on its own database.
type app struct {
	t        *testing.T
	db       *mongo.Database
	store    *mongostore.Store
	provider *provider.Provider
	idem     *idempotency.Layer
	orders   *orders.Service
	intents  *intents.Service
	clock    *testclock.Clock
	hooks    *webhooks.Dispatcher
	handler  http.Handler
}

type appOptions struct {
	db       *mongo.Database // default: testmongo.Open
	behavior provider.Behavior
	lease    time.Duration
	ttl      time.Duration
	hooks    orders.Hooks
	// intentHooks and rate limits, for the tests that need them.
	intentHooks    intents.Hooks
	rateLimitRPS   float64
	rateLimitBurst int
	corsOrigins    []string
	adminDisabled  bool           // no ADMIN_API_KEY
	webhookHosts   bool           // WEBHOOK_ALLOW_ALL_HOSTS
	faults         httpapi.Faults // nil: no /admin/faults
	// realTime runs the idempotency layer on the wall clock, for the tests
	// of what happens while a request really runs (the lease heartbeat).
	realTime bool
	// charger, if set, wraps the provider as the order service sees it.
	charger func(orders.Charger) orders.Charger
}

func newApp(t *testing.T, o appOptions) *app {
	t.Helper()
	if o.db == nil {
		o.db = testmongo.Open(t)
	}
	if o.lease == 0 {
		o.lease = 30 * time.Second
	}
	if o.ttl == 0 {
		o.ttl = 24 * time.Hour
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := testclock.New()
	store := mongostore.New(o.db, log)
	if _, err := store.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	prov := provider.New(store, store, o.behavior, provider.Options{Now: clk.Now, Rand: rand.New(rand.NewPCG(1, 2)), Logger: log})
	if err := prov.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	now := clk.Now
	if o.realTime {
		now = time.Now
	}
	idem := idempotency.New(store.Idempotency(), idempotency.Config{TTL: o.ttl, Lease: o.lease, Now: now, Logger: log})
	var charger orders.Charger = prov
	if o.charger != nil {
		charger = o.charger(prov)
	}
	// Webhooks on the wall clock: consumers verify the signature's
	// timestamp against it.
	hooks := webhooks.New(store, store, webhooks.Config{Timeout: 2 * time.Second, Poll: 10 * time.Millisecond,
		MaxAttempts: 3, RetryWindow: 200 * time.Millisecond, Logger: log})
	if err := hooks.Refresh(context.Background()); err != nil {
		t.Fatalf("webhooks Refresh: %v", err)
	}
	evlog := events.New(store, hooks, nil)
	svc := orders.New(store, charger, evlog, clk.Now, o.hooks)
	isvc := intents.New(store, prov, evlog, clk.Now, o.intentHooks)
	admin := adminKey
	if o.adminDisabled {
		admin = ""
	}
	h := httpapi.New(httpapi.Config{
		APIKey: apiKey, AdminAPIKey: admin, Faults: o.faults,
		Orders: svc, Intents: isvc, Events: evlog, Webhooks: hooks, WebhookAllowAllHosts: o.webhookHosts, Idempotency: idem, Behavior: prov, Store: store,
		RateLimitRPS: o.rateLimitRPS, RateLimitBurst: o.rateLimitBurst, CORSOrigins: o.corsOrigins,
		Logger: log, Now: clk.Now,
	})
	return &app{t: t, db: o.db, store: store, hooks: hooks, provider: prov, idem: idem, orders: svc, intents: isvc, clock: clk, handler: h}
}

// startWorker runs a worker over the app's queue until the test ends. Its
// clock is the app's: jobs due after the async delay need clock.Advance.
func (a *app) startWorker(concurrency int, lease time.Duration) {
	a.t.Helper()
	w := worker.New(a.store, a.intents, worker.Config{
		Concurrency: concurrency, Lease: lease, Poll: 10 * time.Millisecond, Grace: lease,
		Now: a.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	a.t.Cleanup(func() { cancel(); <-done })
}

// startDelivery runs the webhook delivery worker until the test ends.
func (a *app) startDelivery() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.hooks.Work(ctx); close(done) }()
	a.t.Cleanup(func() { cancel(); <-done })
}

// request is one HTTP call to the app.
type request struct {
	method, path string
	body         string
	key          *string           // Idempotency-Key; nil: not sent
	auth         string            // bearer token; "" means apiKey, "-" means none
	header       map[string]string // set after the defaults; "" removes one
	addHeader    [][2]string       // added last, so that a header can repeat
	remoteAddr   string            // client address; "" keeps httptest's 192.0.2.1:1234
	stream       bool              // send the body without a Content-Length
	ctx          context.Context   // the request's context; nil: Background
}

func strp(s string) *string { return &s }

func (a *app) do(r request) *httptest.ResponseRecorder {
	a.t.Helper()
	var body io.Reader = bytes.NewBufferString(r.body)
	if r.stream {
		body = struct{ io.Reader }{body} // hides the length
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.stream {
		req.ContentLength = -1
	}
	if r.ctx != nil {
		req = req.WithContext(r.ctx)
	}
	switch r.auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+apiKey)
	case "-":
	default:
		req.Header.Set("Authorization", "Bearer "+r.auth)
	}
	if r.key != nil {
		req.Header.Set("Idempotency-Key", *r.key)
	}
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	for _, kv := range r.addHeader {
		req.Header.Add(kv[0], kv[1])
	}
	if r.remoteAddr != "" {
		req.RemoteAddr = r.remoteAddr
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	checkContract(a.t, req, r.body, rec)
	return rec
}

// race sends n requests at once, all released together, and returns their
// responses in order.
func race(n int, send func(i int) *httptest.ResponseRecorder) []*httptest.ResponseRecorder {
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			recs[i] = send(i)
		}()
	}
	close(gate)
	wg.Wait()
	return recs
}

// postOrder creates an order with key.
func (a *app) postOrder(key, body string) *httptest.ResponseRecorder {
	return a.do(request{method: "POST", path: "/orders", body: body, key: strp(key)})
}

// count counts documents in a collection.
func (a *app) count(coll string, filter any) int64 {
	a.t.Helper()
	if filter == nil {
		filter = bson.M{}
	}
	n, err := a.db.Collection(coll).CountDocuments(context.Background(), filter)
	if err != nil {
		a.t.Fatalf("count %s: %v", coll, err)
	}
	return n
}

// apiError is the error format, decoded.
type apiError struct {
	Error struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
	} `json:"error"`
}

// wantError checks a response is in the error format with status, type and code.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, typ, code string) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("body is not the error format: %v: %s", err, rec.Body.String())
	}
	if rec.Code != status || e.Error.Type != typ || e.Error.Code != code {
		t.Fatalf("got %d %s/%s (%s), want %d %s/%s", rec.Code, e.Error.Type, e.Error.Code, e.Error.Message, status, typ, code)
	}
	if e.Error.Message == "" {
		t.Fatalf("error without message: %s", rec.Body.String())
	}
	return e
}

type orderBody struct {
	ID       string `json:"id"`
	UserID   string `json:"userId"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Status   string `json:"status"`
	Payment  *struct {
		Provider  string `json:"provider"`
		PaymentID string `json:"paymentId"`
		Amount    int64  `json:"amount"`
		Currency  string `json:"currency"`
	} `json:"payment"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, rec.Body.String())
	}
	return v
}
