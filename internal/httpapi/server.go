// Package httpapi is the service's HTTP interface: routes, middleware, the
// request and response shapes, and the one mapping from errors to the
// {"error": {...}} format. It is the only package that imports Gin.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/faults"
	"github.com/reliabledemo/payments/internal/idempotency"
	"github.com/reliabledemo/payments/internal/provider"
)

// DefaultBodyLimit is the largest request body accepted: 1 MiB.
const DefaultBodyLimit = 1 << 20

// Idempotency runs an operation once per key.
type Idempotency interface {
	Do(ctx context.Context, req idempotency.Request, op idempotency.Operation) (idempotency.Result, error)
}

// PaymentBehavior reads and changes the mock provider's behavior.
type PaymentBehavior interface {
	Behavior() provider.Behavior
	UpdateBehavior(ctx context.Context, p provider.BehaviorPatch) (provider.Behavior, error)
}

// Faults arms drills' faults; nil when FAULTS_ENABLED is off.
type Faults interface {
	Apply(s faults.Settings) (faults.State, error)
	State() faults.State
	DropResponse() bool
}

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config is everything the HTTP layer needs, wired by main.
type Config struct {
	APIKey      string
	AdminAPIKey string // "": the admin routes answer 403 admin_disabled
	BodyLimit   int64  // 0: DefaultBodyLimit
	// RateLimitRPS and RateLimitBurst bound requests per client IP; a rate
	// of 0 turns the limit off.
	RateLimitRPS   float64
	RateLimitBurst int
	CORSOrigins    []string // nil: no CORS headers

	Orders   domain.OrderService
	Intents  domain.IntentService
	Events   Events
	Webhooks Webhooks
	// WebhookAllowAllHosts lets endpoints point at link-local and
	// metadata addresses (WEBHOOK_ALLOW_ALL_HOSTS).
	WebhookAllowAllHosts bool
	Idempotency          Idempotency
	Behavior             PaymentBehavior
	Store                Pinger
	Faults               Faults          // nil: no fault routes, no fault code on any path
	Observe              RequestObserver // nil: no request metrics

	Logger *slog.Logger
	Now    func() time.Time
}

type api struct {
	cfg Config
	log *slog.Logger
}

// New returns the service's HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &api{cfg: cfg, log: cfg.Logger}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// The client IP is the peer's address: X-Forwarded-For is not trusted,
	// or any client could pick a fresh rate-limit bucket per request.
	_ = r.SetTrustedProxies(nil)
	r.Use(requestID(), observeRequests(cfg.Observe), a.logRequests(), a.recoverPanics())
	if len(cfg.CORSOrigins) > 0 {
		r.Use(corsFor(cfg.CORSOrigins))
	}
	if cfg.RateLimitRPS > 0 {
		r.Use(newRateLimiter(cfg.RateLimitRPS, cfg.RateLimitBurst, cfg.Now).limitRate())
	}
	r.Use(limitBody(cfg.BodyLimit))
	r.NoRoute(func(c *gin.Context) {
		writeError(c, domain.Errorf(domain.KindNotFound, "route_not_found", "Unrecognized request URL (%s %s).", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		writeError(c, domain.Errorf(domain.KindMethodNotAllowed, "method_not_allowed", "%s is not allowed on %s.", c.Request.Method, c.Request.URL.Path))
	})

	r.GET("/health", a.health)
	r.GET("/openapi.yaml", serveSpec)

	api := r.Group("/", requireKey(cfg.APIKey, "api"))
	api.POST("/orders", a.createOrder)
	api.GET("/orders", a.listOrders)
	api.GET("/orders/:id", a.getOrder)
	api.POST("/payment_intents", a.createIntent)
	api.GET("/payment_intents/:id", a.getIntent)
	api.PATCH("/payment_intents/:id/confirm", a.confirmIntent)
	api.POST("/payment_intents/:id/capture", a.captureIntent)
	api.POST("/payment_intents/:id/cancel", a.cancelIntent)
	api.GET("/payments/:intentId", a.getPayment)
	api.POST("/refunds", a.createRefund)
	api.GET("/refunds/:id", a.getRefund)
	api.GET("/events", a.listEvents)
	api.GET("/events/:id", a.getEvent)
	api.POST("/events/:id/redeliver", a.redeliverEvent)
	api.POST("/webhook_endpoints", a.createEndpoint)
	api.GET("/webhook_endpoints", a.listEndpoints)
	api.GET("/webhook_endpoints/:id", a.getEndpoint)
	api.DELETE("/webhook_endpoints/:id", a.deleteEndpoint)
	api.GET("/webhook_endpoints/:id/deliveries", a.listDeliveries)

	admin := r.Group("/admin", adminGate(cfg.AdminAPIKey))
	admin.GET("/payment-behavior", a.getBehavior)
	admin.POST("/payment-behavior", a.setBehavior)
	admin.GET("/webhook-faults", a.getWebhookFaults)
	admin.POST("/webhook-faults", a.setWebhookFaults)
	if cfg.Faults != nil {
		admin.GET("/faults", a.getFaults)
		admin.POST("/faults", a.setFaults)
	}
	return r
}

// health answers 200 while MongoDB answers, 503 otherwise, so a load
// balancer or compose healthcheck can route around a cut-off instance.
func (a *api) health(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	status, mongo, code := "ok", "up", http.StatusOK
	if err := a.cfg.Store.Ping(ctx); err != nil {
		status, mongo, code = "degraded", "down", http.StatusServiceUnavailable
	}
	c.JSON(code, gin.H{"status": status, "time": a.cfg.Now().UTC().Format(time.RFC3339Nano), "mongo": mongo})
}
