package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/events"
	"github.com/reliabledemo/payments/internal/httpapi"
	"github.com/reliabledemo/payments/internal/idempotency"
	"github.com/reliabledemo/payments/internal/intents"
	"github.com/reliabledemo/payments/internal/metrics"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/orders"
	"github.com/reliabledemo/payments/internal/provider"
	"github.com/reliabledemo/payments/internal/testclock"
	"github.com/reliabledemo/payments/internal/testmongo"
	"github.com/reliabledemo/payments/internal/worker"
)

const (
	apiKey   = "test_api_key"
	adminKey = "test_admin_key"
)

// app is the service wired as main wires it, metrics included, on its own
// database of the real test server.
type app struct {
	t       *testing.T
	mets    *metrics.Metrics
	store   *mongostore.Store
	intents *intents.Service
	clock   *testclock.Clock
	api     http.Handler // the public API
	scrape  http.Handler // the metrics listener's handler
}

func newApp(t *testing.T) *app {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mets := metrics.New()
	db := testmongo.OpenWith(t, options.Client().SetMonitor(mets.CommandMonitor()))
	clk := testclock.New()
	store := mongostore.New(db, log)
	if _, err := store.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	store.ObserveQueued(mets.JobQueued)
	mets.WatchJobs(store.OldestJob, clk.Now, 5*time.Second)
	prov := provider.New(store, store, provider.Behavior{}, provider.Options{
		Now: clk.Now, Rand: rand.New(rand.NewPCG(1, 2)), Logger: log, Observe: mets.Charge,
	})
	if err := prov.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	idem := idempotency.New(store.Idempotency(), idempotency.Config{
		TTL: time.Hour, Lease: 30 * time.Second, Now: clk.Now, Logger: log, Observe: mets.Idempotency,
	})
	evlog := events.New(store, nil, nil)
	isvc := intents.New(store, prov, evlog, clk.Now, intents.Hooks{})
	h := httpapi.New(httpapi.Config{
		APIKey: apiKey, AdminAPIKey: adminKey,
		Orders: orders.New(store, prov, evlog, clk.Now, orders.Hooks{}), Intents: isvc, Idempotency: idem,
		Behavior: prov, Store: store, Logger: log, Now: clk.Now, Observe: mets.Request,
	})
	return &app{t: t, mets: mets, store: store, intents: isvc, clock: clk, api: h, scrape: mets.Handler(log)}
}

// do sends one API request; key "" sends no Idempotency-Key.
func (a *app) do(method, path, key, body string) *httptest.ResponseRecorder {
	a.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if strings.HasPrefix(path, "/admin/") {
		req.Header.Set("Authorization", "Bearer "+adminKey)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	a.api.ServeHTTP(rec, req)
	return rec
}

// series scrapes /metrics as Prometheus would and returns every sample by
// `name{label="value",…}` (labels sorted); a histogram gives its _count
// and _sum.
func (a *app) series() map[string]float64 {
	a.t.Helper()
	rec := httptest.NewRecorder()
	a.scrape.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		a.t.Fatalf("GET /metrics = %d: %s", rec.Code, rec.Body)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		a.t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			labels := labelString(m.GetLabel())
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[name+labels] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[name+labels] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[name+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
				out[name+"_sum"+labels] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

func labelString(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

const order = `{"userId":"u1","amount":500,"currency":"INR"}`

func TestCountersMove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// run sends its requests and checks their statuses.
		run  func(t *testing.T, a *app)
		want map[string]float64 // how much each series grows
	}{
		{
			name: "replay",
			run: func(t *testing.T, a *app) {
				for _, want := range []int{201, 201} {
					if rec := a.do("POST", "/orders", "k-replay", order); rec.Code != want {
						t.Fatalf("POST /orders = %d, want %d: %s", rec.Code, want, rec.Body)
					}
				}
			},
			want: map[string]float64{
				`payments_idempotency_outcomes_total{outcome="first"}`:                                        1,
				`payments_idempotency_outcomes_total{outcome="replay"}`:                                       1,
				`payments_http_requests_total{method="POST",route="/orders",status="201"}`:                    2,
				`payments_http_request_duration_seconds_count{method="POST",route="/orders"}`:                 2,
				`payments_provider_charges_total{outcome="succeeded"}`:                                        1,
				`payments_provider_charge_duration_seconds_count{outcome="succeeded"}`:                        1,
				`payments_mongodb_command_duration_seconds_count{command="findAndModify",status="succeeded"}`: 3, // claim, charge; the replay's claim
			},
		},
		{
			name: "mismatch",
			run: func(t *testing.T, a *app) {
				a.do("POST", "/orders", "k-mismatch", order)
				rec := a.do("POST", "/orders", "k-mismatch", `{"userId":"u1","amount":999,"currency":"INR"}`)
				if rec.Code != 422 || !strings.Contains(rec.Body.String(), "idempotency_key_reused") {
					t.Fatalf("reused key = %d %s, want 422 idempotency_key_reused", rec.Code, rec.Body)
				}
			},
			want: map[string]float64{
				`payments_idempotency_outcomes_total{outcome="first"}`:                     1,
				`payments_idempotency_outcomes_total{outcome="mismatch"}`:                  1,
				`payments_idempotency_outcomes_total{outcome="replay"}`:                    0,
				`payments_http_requests_total{method="POST",route="/orders",status="422"}`: 1,
			},
		},
		{
			name: "decline",
			run: func(t *testing.T, a *app) {
				if rec := a.do("POST", "/admin/payment-behavior", "", `{"failureRate":1}`); rec.Code != 200 {
					t.Fatalf("set failureRate = %d: %s", rec.Code, rec.Body)
				}
				if rec := a.do("POST", "/orders", "k-decline", order); rec.Code != 502 {
					t.Fatalf("POST /orders = %d, want 502: %s", rec.Code, rec.Body)
				}
			},
			want: map[string]float64{
				`payments_provider_charges_total{outcome="declined"}`:                                      1,
				`payments_provider_charges_total{outcome="succeeded"}`:                                     0,
				`payments_http_requests_total{method="POST",route="/orders",status="502"}`:                 1,
				`payments_http_requests_total{method="POST",route="/admin/payment-behavior",status="200"}`: 1,
			},
		},
		{
			name: "route template, not the raw path",
			run: func(t *testing.T, a *app) {
				a.do("GET", "/orders/0123456789abcdef01234567", "", "")
			},
			want: map[string]float64{
				`payments_http_requests_total{method="GET",route="/orders/:id",status="404"}`: 1,
			},
		},
		{
			name: "unmatched routes share one series",
			run: func(t *testing.T, a *app) {
				a.do("GET", "/nope/1", "", "")
				a.do("GET", "/nope/2", "", "")
				a.do("BREW", "/orders", "", "")
			},
			want: map[string]float64{
				`payments_http_requests_total{method="GET",route="unmatched",status="404"}`:   2,
				`payments_http_requests_total{method="OTHER",route="unmatched",status="405"}`: 1,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t)
			before := a.series()
			tt.run(t, a)
			after := a.series()
			for _, s := range slices.Sorted(maps.Keys(tt.want)) {
				if got := after[s] - before[s]; got != tt.want[s] {
					t.Errorf("%s grew by %v, want %v", s, got, tt.want[s])
				}
			}
			for s := range after {
				if strings.HasPrefix(s, "payments_http_requests_total") && strings.Contains(s, "/nope") {
					t.Errorf("raw path in a label: %s", s)
				}
			}
		})
	}
}

// TestJobs follows one intent through the queue: queued once although the
// confirm enqueues twice, its age visible while it waits, then claimed and
// finished by a worker.
func TestJobs(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	const age = `payments_jobs_oldest_pending_age_seconds`
	if got := a.series()[age]; got != 0 {
		t.Fatalf("%s = %v with no job, want 0", age, got)
	}
	rec := a.do("POST", "/payment_intents", "pi-1",
		`{"amount":2599,"currency":"USD","customer_id":"cus_1","payment_method_id":"pm_fake_visa","capture_method":"automatic"}`)
	if rec.Code != 201 {
		t.Fatalf("create intent = %d: %s", rec.Code, rec.Body)
	}
	var it struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &it); err != nil {
		t.Fatal(err)
	}
	if rec := a.do("PATCH", "/payment_intents/"+it.ID+"/confirm", "c-1", `{}`); rec.Code != 202 {
		t.Fatalf("confirm = %d: %s", rec.Code, rec.Body)
	}
	a.clock.Advance(10 * time.Second) // past the async delay, too
	s := a.series()
	if got := s[`payments_jobs_total{event="queued"}`]; got != 1 {
		t.Errorf("queued = %v, want 1", got)
	}
	if got := s[age]; got < 10 || got > 11 {
		t.Errorf("%s = %v, want about 10", age, got)
	}

	w := worker.New(a.store, a.intents, worker.Config{
		Concurrency: 1, Lease: time.Minute, Poll: 10 * time.Millisecond, Grace: time.Minute,
		Now: a.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Observe: a.mets.Job,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for a.series()[`payments_jobs_total{event="finished"}`] < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the job was not finished: %v", a.series())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s = a.series()
	for series, want := range map[string]float64{
		`payments_jobs_total{event="claimed"}`:  1,
		`payments_jobs_total{event="finished"}`: 1,
		`payments_jobs_total{event="retried"}`:  0,
		age:                                     0,
	} {
		if s[series] != want {
			t.Errorf("%s = %v, want %v", series, s[series], want)
		}
	}
}

// TestProfilingOnlyOnTheMetricsListener serves the metrics handler on a real
// loopback listener, as main does, and checks that the API has no pprof.
func TestProfilingOnlyOnTheMetricsListener(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	srv, err := metrics.Serve("127.0.0.1:0", a.scrape, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	base := "http://" + srv.Addr()

	tests := []struct {
		path     string
		want     int
		contains string
	}{
		{"/debug/pprof/", 200, "goroutine"},
		{"/debug/pprof/cmdline", 200, ""},
		{"/debug/pprof/goroutine?debug=1", 200, "goroutine profile"},
		{"/metrics", 200, "go_goroutines"},
		{"/metrics", 200, "process_resident_memory_bytes"},
		{"/metrics", 200, "payments_idempotency_outcomes_total"},
		{"/orders", 404, ""},
	}
	for _, tt := range tests {
		resp, err := http.Get(base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want || !bytes.Contains(body, []byte(tt.contains)) {
			t.Errorf("metrics listener GET %s = %d, want %d with %q", tt.path, resp.StatusCode, tt.want, tt.contains)
		}
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/metrics"} {
		if rec := a.do("GET", path, "", ""); rec.Code != 404 {
			t.Errorf("API GET %s = %d, want 404", path, rec.Code)
		}
	}
}

// TestServeReportsAPortInUse: main logs the error and serves the API
// without metrics, so Serve must return it rather than fail later.
func TestServeReportsAPortInUse(t *testing.T) {
	t.Parallel()
	first, err := metrics.Serve("127.0.0.1:0", http.NotFoundHandler(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if s, err := metrics.Serve(first.Addr(), http.NotFoundHandler(), nil); err == nil {
		s.Close()
		t.Fatalf("a second Serve on %s succeeded", first.Addr())
	}
	var none *metrics.Server
	if err := none.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown of no server: %v", err)
	}
}
