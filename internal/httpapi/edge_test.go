package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRateLimitPerClientIP(t *testing.T) {
	t.Parallel()
	// The app's clock stands still unless advanced, so the bucket refills
	// only when the test says so.
	a := newApp(t, appOptions{rateLimitRPS: 1, rateLimitBurst: 3})
	get := func(addr string, header map[string]string) *http.Response {
		return a.do(request{method: "GET", path: "/orders", remoteAddr: addr, header: header}).Result()
	}
	for i := range 3 {
		if res := get("198.51.100.7:5000", nil); res.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i, res.StatusCode)
		}
	}
	rec := a.do(request{method: "GET", path: "/orders", remoteAddr: "198.51.100.7:5001"})
	wantError(t, rec, http.StatusTooManyRequests, "rate_limit_error", "rate_limited")
	if s, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q, want whole seconds ≥ 1", rec.Header().Get("Retry-After"))
	}
	// Writes are limited too, before they reach the idempotency layer.
	rec = a.do(request{method: "POST", path: "/orders", body: orderJSON, key: strp("k-limited"), remoteAddr: "198.51.100.7:5002"})
	wantError(t, rec, http.StatusTooManyRequests, "rate_limit_error", "rate_limited")
	if n := a.count("idempotencykeys", nil) + a.count("orders", nil); n != 0 {
		t.Fatalf("a limited request stored %d documents", n)
	}

	// A spoofed X-Forwarded-For does not buy a fresh bucket: no proxy is trusted.
	if res := get("198.51.100.7:5003", map[string]string{"X-Forwarded-For": "203.0.113.9"}); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("X-Forwarded-For escaped the limit: %d", res.StatusCode)
	}
	// Another address has its own bucket.
	if res := get("198.51.100.8:5000", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("another client IP: %d", res.StatusCode)
	}
	// Health checks are exempt.
	for range 5 {
		if res := a.do(request{method: "GET", path: "/health", remoteAddr: "198.51.100.7:5004"}).Result(); res.StatusCode != http.StatusOK {
			t.Fatalf("/health limited: %d", res.StatusCode)
		}
	}
	// Time refills the bucket.
	a.clock.Advance(2 * time.Second)
	if res := get("198.51.100.7:5005", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("after the refill: %d", res.StatusCode)
	}
}

func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	for i := range 50 {
		if rec := a.do(request{method: "GET", path: "/orders"}); rec.Code != http.StatusOK {
			t.Fatalf("request %d with no limit configured: %d", i, rec.Code)
		}
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{corsOrigins: []string{"https://shop.example"}})
	tests := []struct {
		name, method, origin string
		header               map[string]string
		wantStatus           int
		wantAllow            string
	}{
		{"preflight from an allowed origin", "OPTIONS", "https://shop.example",
			map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Authorization, Idempotency-Key, Content-Type"},
			http.StatusNoContent, "https://shop.example"},
		{"preflight from another origin", "OPTIONS", "https://evil.example",
			map[string]string{"Access-Control-Request-Method": "POST"}, http.StatusForbidden, ""},
		{"simple request from an allowed origin", "GET", "https://shop.example", nil, http.StatusOK, "https://shop.example"},
		{"request without an origin", "GET", "", nil, http.StatusOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a.t = t
			h := map[string]string{}
			for k, v := range tc.header {
				h[k] = v
			}
			if tc.origin != "" {
				h["Origin"] = tc.origin
			}
			rec := a.do(request{method: tc.method, path: "/orders", header: h})
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.wantAllow {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tc.wantAllow)
			}
			if tc.method == "OPTIONS" && tc.wantStatus == http.StatusNoContent {
				for _, want := range []string{"Authorization", "Idempotency-Key"} {
					if !containsFold(rec.Header().Get("Access-Control-Allow-Headers"), want) {
						t.Fatalf("Access-Control-Allow-Headers %q lacks %s", rec.Header().Get("Access-Control-Allow-Headers"), want)
					}
				}
			}
			if tc.method == "GET" && tc.wantAllow != "" && !containsFold(rec.Header().Get("Access-Control-Expose-Headers"), "Idempotent-Replayed") {
				t.Fatalf("Access-Control-Expose-Headers %q lacks Idempotent-Replayed", rec.Header().Get("Access-Control-Expose-Headers"))
			}
		})
	}
}

// containsFold reports whether the comma-separated header list names want.
func containsFold(list, want string) bool {
	for _, f := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(f), want) {
			return true
		}
	}
	return false
}
