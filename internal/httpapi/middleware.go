package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
)

// Context keys set by middleware and handlers for the request log.
const (
	ctxRequestID      = "request_id"
	ctxPrincipal      = "principal"
	ctxIdempotencyKey = "idempotency_key"
	ctxReplayed       = "replayed"
)

// requestID echoes a sane X-Request-Id or makes one, so a client's log line
// and ours can be matched.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !printableASCII(id, 128) {
			id = domain.NewID("req_")
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

func printableASCII(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// logRequests writes one structured line per request. Bodies are never
// logged: they hold payment data. The line is built from typed attributes
// (LogAttrs), not key-value pairs, so that no value is boxed on the way: it
// runs on every request.
func (a *api) logRequests() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		level := slog.LevelInfo
		if len(c.Errors) > 0 {
			level = slog.LevelError
		}
		ctx := c.Request.Context()
		if !a.log.Enabled(ctx, level) {
			return
		}
		var buf [8]slog.Attr
		attrs := append(buf[:0],
			slog.String("request_id", c.GetString(ctxRequestID)),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.Writer.Status()),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
		)
		if k := c.GetString(ctxIdempotencyKey); k != "" {
			attrs = append(attrs, slog.String("idempotency_key", k), slog.Bool("replayed", c.GetBool(ctxReplayed)))
		}
		if level == slog.LevelError {
			attrs = append(attrs, slog.String("err", c.Errors.Last().Err.Error()))
		}
		a.log.LogAttrs(ctx, level, "request", attrs...)
	}
}

// recoverPanics turns a panic into a 500 in the error format. The panic is
// logged with its stack for operators; the client learns nothing of it.
func (a *api) recoverPanics() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p) // a deliberate connection abort, not a bug
			}
			a.log.Error("panic", "request_id", c.GetString(ctxRequestID), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				writeError(c, errors.New("panic"))
			}
		}()
		c.Next()
	}
}

// limitBody refuses bodies over limit with 413, before reading them when the
// client declared the length, and while reading them when it did not.
func limitBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			writeError(c, errTooLarge(limit))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

func errTooLarge(limit int64) error {
	return domain.Errorf(domain.KindTooLarge, "body_too_large", "The request body must be at most %d bytes.", limit)
}

// requireKey checks "Authorization: Bearer <key>" in constant time. Hashing
// both sides first makes the comparison independent of the key's length too.
func requireKey(key, principal string) gin.HandlerFunc {
	want := sha256.Sum256([]byte(key))
	// The principal names the caller in idempotency scopes without ever
	// storing the key itself.
	id := principal + "_" + hex.EncodeToString(want[:4])
	return func(c *gin.Context) {
		if p, ok := recoveryPrincipal(c); ok {
			// The completer, finishing a request this principal made.
			c.Set(ctxPrincipal, p)
			c.Next()
			return
		}
		h := c.GetHeader("Authorization")
		const prefix = "bearer "
		if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
			c.Header("WWW-Authenticate", `Bearer realm="api"`)
			writeError(c, domain.Errorf(domain.KindUnauthorized, "missing_api_key", "Send your API key as 'Authorization: Bearer <key>'."))
			return
		}
		token := strings.TrimSpace(h[len(prefix):])
		got := sha256.Sum256([]byte(token))
		// An empty token never matches, even should the key be empty.
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || token == "" || key == "" {
			c.Header("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			writeError(c, domain.Errorf(domain.KindUnauthorized, "invalid_api_key", "Invalid API key."))
			return
		}
		c.Set(ctxPrincipal, id)
		c.Next()
	}
}

// adminGate authenticates the admin routes with key, or, when no admin key
// is configured, closes them to everyone: falling back to the API key would
// let every API client change the provider's behaviour or crash the process.
func adminGate(key string) gin.HandlerFunc {
	if key != "" {
		return requireKey(key, "admin")
	}
	return func(c *gin.Context) {
		writeError(c, domain.Errorf(domain.KindForbidden, "admin_disabled", "The admin routes are disabled: the server has no ADMIN_API_KEY."))
	}
}
