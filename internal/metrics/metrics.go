// Package metrics exposes the service's Prometheus metrics and pprof on a
// listener of their own. It is the only package that imports the Prometheus
// client: the packages it observes declare small func hooks
// (idempotency.Config.Observe, provider.Options.Observe, …) that main wires
// to the methods here, so no domain code knows Prometheus exists.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Label values used where a free-form value would make series unbounded.
const (
	// UnmatchedRoute labels requests that matched no route: the raw path
	// would give every probe of a random URL its own series.
	UnmatchedRoute = "unmatched"
	otherMethod    = "OTHER"
)

// Metrics holds the service's collectors in a registry of its own, so
// tests can build several and nothing registers globally.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	idempotency    *prometheus.CounterVec
	charges        *prometheus.CounterVec
	chargeDuration *prometheus.HistogramVec
	jobs           *prometheus.CounterVec
	events         *prometheus.CounterVec
	webhooks       *prometheus.CounterVec
	mongoDuration  *prometheus.HistogramVec
}

// Outcomes and events known in advance, so their series exist (at 0) from
// the first scrape and rate() sees the first increment.
var (
	idempotencyOutcomes = []string{"first", "replay", "mismatch", "in_use", "takeover", "expired", "recovered"}
	chargeOutcomes      = []string{"succeeded", "declined", "timeout", "error"}
	jobEvents           = []string{"queued", "claimed", "finished", "retried", "dropped"}
	webhookOutcomes     = []string{"succeeded", "retried", "failed"}
)

// Request latencies span a 1 ms replay to a charge the drills delay by up
// to 60 s; MongoDB commands, well under a millisecond to seconds.
var (
	slowBuckets  = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	mongoBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
)

// New returns the service's metrics, with the Go runtime and process
// collectors registered.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payments_http_requests_total",
			Help: "HTTP requests by route template, method and status code.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "payments_http_request_duration_seconds",
			Help:    "HTTP request latency by route template and method.",
			Buckets: slowBuckets,
		}, []string{"route", "method"}),
		idempotency: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payments_idempotency_outcomes_total",
			Help: "Idempotency-Key claims by outcome: first, replay, mismatch, in_use, takeover, expired; recovered counts requests the completer finished.",
		}, []string{"outcome"}),
		charges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payments_provider_charges_total",
			Help: "Mock provider charges by outcome: succeeded, declined, timeout, error.",
		}, []string{"outcome"}),
		chargeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "payments_provider_charge_duration_seconds",
			Help:    "Mock provider charge latency, delay and ledger write included, by outcome.",
			Buckets: slowBuckets,
		}, []string{"outcome"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payments_jobs_total",
			Help: "Payment intent jobs by event: queued, claimed, finished, retried, dropped.",
		}, []string{"event"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payments_events_recorded_total",
			Help: "Events recorded by type; an event recorded again after a crash counts once.",
		}, []string{"type"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payments_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome: succeeded, retried (failed, another attempt scheduled), failed (the last attempt failed).",
		}, []string{"outcome"}),
		mongoDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "payments_mongodb_command_duration_seconds",
			Help:    "MongoDB command latency as the driver measures it, by command name and whether it succeeded.",
			Buckets: mongoBuckets,
		}, []string{"command", "status"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.idempotency, m.charges, m.chargeDuration, m.jobs, m.events, m.webhooks, m.mongoDuration,
	)
	for _, o := range idempotencyOutcomes {
		m.idempotency.WithLabelValues(o)
	}
	for _, o := range chargeOutcomes {
		m.charges.WithLabelValues(o)
	}
	for _, e := range jobEvents {
		m.jobs.WithLabelValues(e)
	}
	for _, o := range webhookOutcomes {
		m.webhooks.WithLabelValues(o)
	}
	return m
}

// Registry is where the metrics live; tests gather from it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Request records one HTTP request. route is the router's template
// ("/orders/:id"), or "" for a request that matched none.
func (m *Metrics) Request(route, method string, status int, elapsed time.Duration) {
	if route == "" {
		route = UnmatchedRoute
	}
	method = knownMethod(method)
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}

// knownMethod keeps the method label bounded: a client may send any token.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return otherMethod
}

// Idempotency records the outcome of one Idempotency-Key claim.
func (m *Metrics) Idempotency(outcome string) { m.idempotency.WithLabelValues(outcome).Inc() }

// Recovered records a request the completer finished for a client that
// gave up.
func (m *Metrics) Recovered() { m.Idempotency("recovered") }

// Charge records one provider charge.
func (m *Metrics) Charge(outcome string, elapsed time.Duration) {
	m.charges.WithLabelValues(outcome).Inc()
	m.chargeDuration.WithLabelValues(outcome).Observe(elapsed.Seconds())
}

// Job records one event in the life of a payment intent job.
func (m *Metrics) Job(event string) { m.jobs.WithLabelValues(event).Inc() }

// Event records one event recorded for the first time, by its type (a
// bounded set, domain.EventTypes).
func (m *Metrics) Event(eventType string) { m.events.WithLabelValues(eventType).Inc() }

// WebhookAttempt records one webhook delivery attempt's outcome.
func (m *Metrics) WebhookAttempt(outcome string) { m.webhooks.WithLabelValues(outcome).Inc() }

// JobQueued records a job newly queued (the store calls it).
func (m *Metrics) JobQueued() { m.Job("queued") }
