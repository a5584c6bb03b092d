package httpapi

import (
	"math"
	"strings"
	"sync"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/reliabledemo/payments/internal/domain"
)

// rateLimiter keeps one token bucket per client IP. Buckets idle for
// idleTTL are evicted, so memory is bounded by the clients of the last few
// minutes, not by every address ever seen.
type rateLimiter struct {
	rps   rate.Limit
	burst int
	now   func() time.Time

	mu        sync.Mutex
	clients   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const idleTTL = 3 * time.Minute

func newRateLimiter(rps float64, burst int, now func() time.Time) *rateLimiter {
	if burst < 1 {
		burst = int(math.Max(1, math.Ceil(rps)))
	}
	return &rateLimiter{rps: rate.Limit(rps), burst: burst, now: now, clients: map[string]*bucket{}}
}

// allow takes a token for ip, or says how long until one is available.
func (l *rateLimiter) allow(ip string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > idleTTL {
		for k, b := range l.clients {
			if now.Sub(b.seen) > idleTTL {
				delete(l.clients, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.clients[ip]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.rps, l.burst)}
		l.clients[ip] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// limitRate answers 429 with Retry-After when a client IP exceeds its rate.
// GET /health is exempt so that health checks never fail for load, and so
// is the completer, which is not a client.
func (l *rateLimiter) limitRate() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.URL.Path == "/health" || isRecovery(c) {
			c.Next()
			return
		}
		ok, wait := l.allow(c.ClientIP())
		if !ok {
			err := domain.Errorf(domain.KindRateLimited, "rate_limited", "Too many requests from this address; retry after the time in Retry-After.")
			err.RetryAfter = time.Duration(math.Ceil(wait.Seconds())) * time.Second
			writeError(c, err)
			return
		}
		c.Next()
	}
}

// corsFor allows browsers on origins to call the API, and to read the
// headers a retrying client needs.
func corsFor(origins []string) gin.HandlerFunc {
	cfg := cors.Config{
		AllowMethods:  []string{"GET", "POST", "PATCH", "OPTIONS"},
		AllowHeaders:  []string{"Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"},
		ExposeHeaders: []string{"Idempotent-Replayed", "Retry-After", "X-Request-Id"},
		MaxAge:        12 * time.Hour,
	}
	if len(origins) == 1 && strings.TrimSpace(origins[0]) == "*" {
		cfg.AllowAllOrigins = true
	} else {
		cfg.AllowOrigins = origins
	}
	return cors.New(cfg)
}
