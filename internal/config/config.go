// Package config reads the service's configuration from the environment,
// with a .env file filling in what the environment does not set.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// Config is every setting of the service, with defaults applied.
type Config struct {
	Port              int
	MongoURI          string // empty: start the embedded server
	MongoDB           string
	APIKey            string
	AdminAPIKey       string
	IdempotencyTTL    time.Duration
	IdempotencyLease  time.Duration
	EmbeddedDataDir   string
	EmbeddedMongoAddr string // "off": no listener for others
	LogLevel          slog.Level
	ShutdownTimeout   time.Duration
	MongoTimeout      time.Duration // server selection and per-operation deadline

	PaymentFailureRate float64
	PaymentMinDelayMs  int
	PaymentMaxDelayMs  int
	BehaviorRefresh    time.Duration // how often instances reload the payment behavior
	SweepInterval      time.Duration // expired-record sweep, where TTL indexes are missing

	AsyncDelay        time.Duration // payment intents are charged this long after confirmation…
	AsyncJitter       time.Duration // …plus up to this much
	IntentFailureRate float64
	WorkerConcurrency int
	WorkerLease       time.Duration
	WorkerPoll        time.Duration

	// RecoveryAfter is how long after its lease ran out an in-progress
	// request is left to its client's retry before the completer finishes
	// it; CompleterInterval is how often the completer looks.
	RecoveryAfter     time.Duration
	CompleterInterval time.Duration

	RateLimitRPS   float64 // per client IP; 0 disables
	RateLimitBurst int
	CORSOrigins    []string

	// HTTP connection timeouts. Read bounds receiving a whole request, so a
	// client trickling its body cannot hold a connection; Write bounds the
	// time from a request's headers to the end of its response, so it must
	// outlast the slowest legitimate request; Idle closes unused keep-alive
	// connections.
	HTTPReadTimeout  time.Duration
	HTTPWriteTimeout time.Duration
	HTTPIdleTimeout  time.Duration

	// Webhook delivery: at most WebhookMaxAttempts attempts of a delivery,
	// the last nominally WebhookRetryWindow after the first (see
	// webhooks.Backoff); each request bounded by WebhookTimeout. Link-local
	// and metadata addresses are refused unless WebhookAllowAllHosts.
	WebhookMaxAttempts   int
	WebhookRetryWindow   time.Duration
	WebhookTimeout       time.Duration
	WebhookAllowAllHosts bool
	WebhookConcurrency   int
	WebhookPoll          time.Duration
	WebhookRefresh       time.Duration // how often endpoints and delivery faults are reloaded

	// FaultsEnabled turns on /admin/faults: crash points and lost
	// responses, for failure drills. Never in production.
	FaultsEnabled bool

	// MetricsAddr is where /metrics and /debug/pprof listen, never on the
	// API's port; "off" disables them.
	MetricsAddr string

	// UnsafeFerretDB lets the service start on an external FerretDB server
	// whose conditional updates are not atomic (see mongostore.Topology).
	UnsafeFerretDB bool

	// GC tunes the garbage collector (GOGC, GOMEMLIMIT); see GC.
	GC GC
}

// MinWriteTimeout is the floor of HTTP_WRITE_TIMEOUT: the mock provider may
// take up to 60 s on a charge (maxDelayMs and timeoutMs are at most 60000),
// and a response cut after the charge would make slow orders look lost.
const MinWriteTimeout = 60 * time.Second

// Embedded reports whether the service should run its own store.
func (c Config) Embedded() bool { return c.MongoURI == "" }

// Load reads the configuration: real environment variables win over those
// in envFile, which may be missing. An invalid value is an error naming the
// variable.
func Load(envFile string) (Config, error) {
	file, err := godotenv.Read(envFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("read %s: %w", envFile, err)
	}
	return Parse(func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok {
			return v, true
		}
		v, ok := file[k]
		return v, ok
	})
}

// Parse builds a Config from lookup, applying defaults.
func Parse(lookup func(string) (string, bool)) (Config, error) {
	p := parser{lookup: lookup}
	c := Config{
		Port:              p.int("PORT", 3000, 0, 65535),
		MongoURI:          p.str("MONGODB_URI", ""),
		MongoDB:           p.str("MONGODB_DB", "reliability_demo"),
		APIKey:            p.str("API_KEY", ""),
		IdempotencyTTL:    p.duration("IDEMPOTENCY_TTL", 24*time.Hour),
		IdempotencyLease:  p.duration("IDEMPOTENCY_LEASE", 30*time.Second),
		EmbeddedDataDir:   p.str("EMBEDDED_DATA_DIR", "./data"),
		EmbeddedMongoAddr: p.str("EMBEDDED_MONGO_ADDR", "127.0.0.1:27017"),
		LogLevel:          p.level("LOG_LEVEL", slog.LevelInfo),
		ShutdownTimeout:   p.duration("SHUTDOWN_TIMEOUT", 15*time.Second),
		MongoTimeout:      p.duration("MONGODB_TIMEOUT", 5*time.Second),

		PaymentFailureRate: p.float("PAYMENT_FAILURE_RATE", 0, 0, 1),
		PaymentMinDelayMs:  p.int("PAYMENT_MIN_DELAY_MS", 100, 0, 60000),
		PaymentMaxDelayMs:  p.int("PAYMENT_MAX_DELAY_MS", 300, 0, 60000),
		BehaviorRefresh:    p.duration("BEHAVIOR_REFRESH", time.Second),
		// Expiry is enforced on every claim; the sweep only reclaims space,
		// and on the embedded store it reads the whole collection.
		SweepInterval: p.duration("IDEMPOTENCY_SWEEP_INTERVAL", 10*time.Minute),

		AsyncDelay:        p.delay("ASYNC_DELAY", 2000*time.Millisecond),
		AsyncJitter:       p.delay("ASYNC_JITTER", 3000*time.Millisecond),
		IntentFailureRate: p.float("INTENT_FAILURE_RATE", 0.1, 0, 1),
		WorkerConcurrency: p.int("WORKER_CONCURRENCY", 4, 1, 64),
		WorkerLease:       p.duration("WORKER_LEASE", 30*time.Second),
		WorkerPoll:        p.duration("WORKER_POLL_INTERVAL", 200*time.Millisecond),

		CompleterInterval: p.duration("COMPLETER_INTERVAL", 15*time.Second),

		RateLimitRPS:   p.float("RATE_LIMIT_RPS", 50, 0, 1e6),
		RateLimitBurst: p.int("RATE_LIMIT_BURST", 100, 1, 1_000_000),
		CORSOrigins:    p.list("CORS_ORIGINS", []string{"*"}),

		// 15 s is ample for 1 MiB on a slow link, yet cuts a client that
		// trickles its body well within 30 s. 75 s is the provider's 60 s
		// maximum delay plus room for the store's writes around the charge.
		HTTPReadTimeout:  p.duration("HTTP_READ_TIMEOUT", 15*time.Second),
		HTTPWriteTimeout: p.duration("HTTP_WRITE_TIMEOUT", 75*time.Second),
		HTTPIdleTimeout:  p.duration("HTTP_IDLE_TIMEOUT", 60*time.Second),

		// 8 attempts over an hour: retries at about 0.5, 1, 2, 4, 8, 15
		// and 30 minutes, so an endpoint down for a deploy or a short outage
		// still gets its events, and a dead one is given up within the hour.
		WebhookMaxAttempts:   p.int("WEBHOOK_MAX_ATTEMPTS", 8, 1, 20),
		WebhookRetryWindow:   p.duration("WEBHOOK_RETRY_WINDOW", time.Hour),
		WebhookTimeout:       p.duration("WEBHOOK_TIMEOUT", 10*time.Second),
		WebhookAllowAllHosts: p.bool("WEBHOOK_ALLOW_ALL_HOSTS", false),
		WebhookConcurrency:   p.int("WEBHOOK_CONCURRENCY", 8, 1, 256),
		WebhookPoll:          p.duration("WEBHOOK_POLL_INTERVAL", 200*time.Millisecond),
		WebhookRefresh:       p.duration("WEBHOOK_REFRESH", time.Second),

		// Loopback by default: pprof shows the command line and profiles
		// the process, which is for operators, not the network.
		MetricsAddr: p.str("METRICS_ADDR", "127.0.0.1:9090"),

		FaultsEnabled:  p.bool("FAULTS_ENABLED", false),
		UnsafeFerretDB: p.bool("MONGODB_UNSAFE_FERRETDB", false),

		GC: p.gc(),
	}
	// A few leases: long enough that a client retrying with backoff gets
	// there first, short enough that nothing stays half done for long.
	c.RecoveryAfter = p.duration("RECOVERY_AFTER", 3*c.IdempotencyLease)
	// No fallback to API_KEY: unset, the admin routes are off rather than
	// open to every API client.
	c.AdminAPIKey = p.str("ADMIN_API_KEY", "")
	if c.MongoURI == "embedded" {
		c.MongoURI = ""
	}
	if c.APIKey == "" {
		p.fail("API_KEY", "must be set (clients send it as 'Authorization: Bearer <API_KEY>')")
	}
	if c.AdminAPIKey != "" && c.AdminAPIKey == c.APIKey {
		p.fail("ADMIN_API_KEY", "must differ from API_KEY (unset it to turn the admin routes off)")
	}
	if c.HTTPWriteTimeout <= MinWriteTimeout {
		p.fail("HTTP_WRITE_TIMEOUT", fmt.Sprintf("must be longer than %s, the provider's longest delay, got %s", MinWriteTimeout, c.HTTPWriteTimeout))
	}
	if c.HTTPReadTimeout >= c.HTTPWriteTimeout {
		p.fail("HTTP_READ_TIMEOUT", "must be shorter than HTTP_WRITE_TIMEOUT, which also covers reading the body")
	}
	if c.MongoDB == "" || strings.ContainsAny(c.MongoDB, "/\\. \"$") {
		p.fail("MONGODB_DB", "must be a valid database name")
	}
	if a := c.EmbeddedMongoAddr; a != "off" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			p.fail("EMBEDDED_MONGO_ADDR", "must be host:port or 'off'")
		}
	}
	if a := c.MetricsAddr; a != "off" && !validListenAddr(a) {
		p.fail("METRICS_ADDR", fmt.Sprintf("must be host:port (port 0 to 65535; an empty host listens on every interface) or 'off', got %q", a))
	}
	if c.PaymentMinDelayMs > c.PaymentMaxDelayMs {
		p.fail("PAYMENT_MIN_DELAY_MS", "must not exceed PAYMENT_MAX_DELAY_MS")
	}
	return c, errors.Join(p.errs...)
}

// validListenAddr reports whether a is host:port with a numeric port.
func validListenAddr(a string) bool {
	_, port, err := net.SplitHostPort(a)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// parser collects every invalid variable, so one start-up names them all.
type parser struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (p *parser) fail(name, why string) {
	p.errs = append(p.errs, fmt.Errorf("config: %s %s", name, why))
}

func (p *parser) raw(name string) (string, bool) {
	v, ok := p.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (p *parser) str(name, def string) string {
	if v, ok := p.raw(name); ok {
		return v
	}
	return def
}

func (p *parser) int(name string, def, lo, hi int) int {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, fmt.Sprintf("must be an integer between %d and %d, got %q", lo, hi, v))
		return def
	}
	return n
}

func (p *parser) float(name string, def, lo, hi float64) float64 {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= lo && f <= hi) {
		p.fail(name, fmt.Sprintf("must be a number between %g and %g, got %q", lo, hi, v))
		return def
	}
	return f
}

// duration accepts Go durations ("30s", "24h") and, like the seed's
// ASYNC_DELAY, a bare integer meaning milliseconds.
func (p *parser) duration(name string, def time.Duration) time.Duration {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		ms, err2 := strconv.ParseInt(v, 10, 64)
		if err2 != nil {
			p.fail(name, fmt.Sprintf("must be a duration such as 30s or 24h, got %q", v))
			return def
		}
		d = time.Duration(ms) * time.Millisecond
	}
	if d <= 0 {
		p.fail(name, fmt.Sprintf("must be positive, got %q", v))
		return def
	}
	return d
}

func (p *parser) bool(name string, def bool) bool {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, fmt.Sprintf("must be true or false, got %q", v))
		return def
	}
	return b
}

// delay is a duration of 0 to 60 s, the mock provider's range.
func (p *parser) delay(name string, def time.Duration) time.Duration {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	if v == "0" {
		return 0
	}
	d := p.duration(name, def)
	if d > time.Minute {
		p.fail(name, fmt.Sprintf("must be at most 60s, got %q", v))
		return def
	}
	return d
}

// list splits a comma-separated value; "none" means an empty list.
func (p *parser) list(name string, def []string) []string {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	if v == "none" {
		return nil
	}
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func (p *parser) level(name string, def slog.Level) slog.Level {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.fail(name, fmt.Sprintf("must be debug, info, warn or error, got %q", v))
		return def
	}
	return l
}
