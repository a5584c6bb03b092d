// Package webhooks sends events to the endpoints that subscribed to them:
// it keeps the endpoints in memory (Enqueue costs nothing when none
// matches), queues one durable delivery per (event, endpoint), and delivers
// them from any instance with leases, signed with the Standard Webhooks
// scheme, retrying failures with exponential backoff. It also applies the
// drills' delivery faults.
package webhooks

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
)

// Store persists endpoints, deliveries and the delivery queue
// (mongostore.Store).
type Store interface {
	InsertWebhookEndpoint(ctx context.Context, e domain.WebhookEndpoint) (domain.WebhookEndpoint, error)
	// GetWebhookEndpoint returns domain.ErrNotFound for an unknown id.
	GetWebhookEndpoint(ctx context.Context, id string) (domain.WebhookEndpoint, error)
	ListWebhookEndpoints(ctx context.Context) ([]domain.WebhookEndpoint, error)
	DeleteWebhookEndpoint(ctx context.Context, id string) (bool, error)

	// QueueDelivery records and queues d unless it exists; repeating it is
	// harmless.
	QueueDelivery(ctx context.Context, d domain.WebhookDelivery, availableAt time.Time) error
	// ClaimDelivery leases the delivery due longest, or returns "".
	ClaimDelivery(ctx context.Context, owner string, now, leaseUntil time.Time) (string, error)
	// GetDelivery returns domain.ErrNotFound for an unknown id.
	GetDelivery(ctx context.Context, id string) (domain.WebhookDelivery, error)
	// RecordAttempt appends an attempt if the delivery is pending with
	// exactly before attempts; false if not (another worker did).
	RecordAttempt(ctx context.Context, id string, before int, a domain.DeliveryAttempt, status domain.DeliveryStatus, next, now time.Time) (bool, error)
	DeleteQueuedDelivery(ctx context.Context, id, owner string) (bool, error)
	RescheduleQueuedDelivery(ctx context.Context, id, owner string, at time.Time) (bool, error)
	ListDeliveries(ctx context.Context, f domain.DeliveryFilter) ([]domain.WebhookDelivery, bool, error)

	LoadWebhookFaults(ctx context.Context) (domain.WebhookFaults, error)
	UpdateWebhookFaults(ctx context.Context, fn func(domain.WebhookFaults) (domain.WebhookFaults, error)) (domain.WebhookFaults, error)
}

// Events reads recorded events (mongostore.Store).
type Events interface {
	// GetEvent returns domain.ErrNotFound for an unknown id.
	GetEvent(ctx context.Context, id string) (domain.Event, error)
}

// Config holds the settings of delivery.
type Config struct {
	// MaxAttempts bounds the attempts of one delivery (the first
	// included); RetryWindow is how long, nominally, from the first attempt
	// to the last. See Backoff.
	MaxAttempts int
	RetryWindow time.Duration
	// Timeout bounds one request to an endpoint, connection included.
	Timeout time.Duration
	// AllowAllHosts lets deliveries reach link-local and metadata addresses.
	AllowAllHosts bool
	// Concurrency is how many deliveries this instance sends at once; Poll
	// is how often an idle worker looks for due deliveries.
	Concurrency int
	Poll        time.Duration
	// Refresh is how often the endpoint and fault caches are reloaded: an
	// endpoint created through another instance receives the events
	// recorded here at most this long later.
	Refresh time.Duration

	Now    func() time.Time
	Rand   *rand.Rand // guarded by the dispatcher; nil: seeded at random
	Logger *slog.Logger
	// Observe, if set, is told each attempt's outcome (one of the Outcome
	// constants), for metrics.
	Observe func(outcome string)
}

// Outcomes of an attempt, as Config.Observe reports them.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeRetried   = "retried" // failed; another attempt is scheduled
	OutcomeFailed    = "failed"  // failed, and it was the last
)

// Defaults of Config, also those of the environment (internal/config).
const (
	DefaultMaxAttempts = 8
	DefaultRetryWindow = time.Hour
	DefaultTimeout     = 10 * time.Second
	DefaultConcurrency = 8
	DefaultPoll        = 200 * time.Millisecond
	DefaultRefresh     = time.Second
)

func (c Config) withDefaults() Config {
	if c.MaxAttempts < 1 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.RetryWindow <= 0 {
		c.RetryWindow = DefaultRetryWindow
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Concurrency < 1 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Refresh <= 0 {
		c.Refresh = DefaultRefresh
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
