package paymentstest

import (
	"log/slog"
	"maps"
	"strconv"
	"time"

	"github.com/reliabledemo/payments/client"
)

// Option configures a Service.
type Option func(*settings)

type settings struct {
	env          map[string]string // config variables, as the server reads them
	behavior     *client.BehaviorPatch
	dropRate     *float64
	log          *slog.Logger
	clientOpts   []client.Option
	restartDelay time.Duration
}

// Defaults of the harness: what differs from the server's own defaults,
// and why. Everything else is as in production.
func defaults() settings {
	return settings{
		env: map[string]string{
			"API_KEY":       APIKey,
			"ADMIN_API_KEY": AdminKey,
			"MONGODB_DB":    Database,
			// Tests arm faults through the Admin client; the harness exists for that.
			"FAULTS_ENABLED": "true",
			// Fast and deterministic: charges take 0–20 ms, intents are charged
			// within 50 ms of their confirm, and nothing fails unless asked.
			"PAYMENT_MIN_DELAY_MS": "0",
			"PAYMENT_MAX_DELAY_MS": "20",
			"ASYNC_DELAY":          "0",
			"ASYNC_JITTER":         "50",
			"INTENT_FAILURE_RATE":  "0",
			"WORKER_POLL_INTERVAL": "50ms",
			// A crashed request holds its key for one lease: 2 s, not 30, so
			// that a test of a crash finishes in seconds. The completer looks
			// every second and finishes what clients abandon after 3 leases.
			"IDEMPOTENCY_LEASE":  "2s",
			"WORKER_LEASE":       "5s",
			"COMPLETER_INTERVAL": "1s",
			"BEHAVIOR_REFRESH":   "200ms",
			// One test client on loopback would soon meet the per-IP limit;
			// WithRateLimit turns it back on.
			"RATE_LIMIT_RPS":   "0",
			"SHUTDOWN_TIMEOUT": "2s",
			"METRICS_ADDR":     "off",
			"LOG_LEVEL":        "warn",
		},
		restartDelay: 50 * time.Millisecond,
	}
}

// DefaultEnv returns the configuration variables the harness sets, so that
// another way of running the service (the container module, a binary) can
// run it the same way.
func DefaultEnv() map[string]string { return maps.Clone(defaults().env) }

// WithBehavior sets the mock provider's behavior once the service is up,
// as Admin.SetPaymentBehavior would. It is stored in MongoDB, so it
// survives crashes.
//
//	paymentstest.New(t, paymentstest.WithBehavior(client.BehaviorPatch{
//		FailureRate: client.Float(0.3), MinDelayMs: client.Int(200), MaxDelayMs: client.Int(400),
//	}))
func WithBehavior(p client.BehaviorPatch) Option { return func(s *settings) { s.behavior = &p } }

// WithDropResponseRate makes the service lose that share of its committed
// responses: the work is done and stored, the connection closed unanswered.
// Unlike a crash point it is set again on every start, restarts after a
// crash included, like a setting of the process. Change it at run time with
// Admin.SetFaults.
func WithDropResponseRate(rate float64) Option { return func(s *settings) { s.dropRate = &rate } }

// WithIdempotencyLease sets IDEMPOTENCY_LEASE (2 s here by default): how
// long a crashed request keeps its key from retries. A running request
// extends its own lease, however slow it is.
func WithIdempotencyLease(d time.Duration) Option { return WithEnv("IDEMPOTENCY_LEASE", d.String()) }

// WithRecoveryAfter sets RECOVERY_AFTER (three leases by default): how long
// after its lease a request abandoned by its client is left to that
// client's retry before the service finishes it alone.
func WithRecoveryAfter(d time.Duration) Option { return WithEnv("RECOVERY_AFTER", d.String()) }

// WithWorkerLease sets WORKER_LEASE (5 s here): how long a payment
// intent's job stays with a worker that crashed holding it.
func WithWorkerLease(d time.Duration) Option { return WithEnv("WORKER_LEASE", d.String()) }

// WithRateLimit turns the per-IP rate limit on (off here by default: every
// test client is 127.0.0.1): beyond it the service answers 429 with
// Retry-After.
func WithRateLimit(rps float64, burst int) Option {
	return func(s *settings) {
		s.env["RATE_LIMIT_RPS"] = strconv.FormatFloat(rps, 'g', -1, 64)
		s.env["RATE_LIMIT_BURST"] = strconv.Itoa(burst)
	}
}

// WithEnv sets any of the server's configuration variables (README,
// "Configuration"), as its environment would. The harness's own settings
// win over it: MONGODB_URI (its store), PORT (its listener).
func WithEnv(name, value string) Option { return func(s *settings) { s.env[name] = value } }

// WithLogger sends the service's log there. By default the harness keeps
// the last lines of warnings and errors, and prints them only if the test
// fails.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.log = l } }

// WithClientOptions configures Service.Client and Service.Admin (a retry
// policy, an observer, an http.Client…). The keys and base URL are set
// already.
func WithClientOptions(opts ...client.Option) Option {
	return func(s *settings) { s.clientOpts = append(s.clientOpts, opts...) }
}

// WithRestartDelay sets how long the service stays down after a crash
// (50 ms by default): calls meanwhile find the port closed.
func WithRestartDelay(d time.Duration) Option { return func(s *settings) { s.restartDelay = d } }
