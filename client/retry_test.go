package client

import (
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

func TestRetryableStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		code   string
		want   bool
	}{
		{"key in use", 409, CodeIdempotencyKeyInUse, true},
		{"conflict of state", 409, CodeUnexpectedState, false},
		{"too early", 425, CodePaymentProcessing, true},
		{"rate limited", 429, CodeRateLimited, true},
		{"store outage", 503, CodeServiceUnavailable, true},
		{"provider timeout", 503, CodeProviderTimeout, true},
		{"internal error", 500, CodeInternalError, true},
		{"proxy 502", 502, "", true},
		{"proxy 504", 504, "", true},
		{"declined order", 502, CodePaymentFailed, false},
		{"not implemented", 501, "", false},
		{"bad request", 400, "invalid_json", false},
		{"refund too large", 400, CodeAmountTooLarge, false},
		{"unauthorized", 401, "invalid_api_key", false},
		{"forbidden", 403, "admin_disabled", false},
		{"not found", 404, CodeResourceMissing, false},
		{"key reused", 422, CodeIdempotencyKeyReused, false},
		{"validation", 422, "invalid_currency", false},
		{"too large", 413, "body_too_large", false},
		{"media type", 415, "unsupported_media_type", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := retryableStatus(tt.status, tt.code); got != tt.want {
				t.Errorf("retryableStatus(%d, %q) = %v, want %v", tt.status, tt.code, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy
	tests := []struct {
		name       string
		k          int
		retryAfter time.Duration
		min, max   time.Duration
	}{
		{"first retry", 0, 0, 0, p.BaseDelay},
		{"third retry", 2, 0, 0, 4 * p.BaseDelay},
		{"capped", 10, 0, 0, p.MaxDelay},
		{"huge attempt does not overflow", 1 << 20, 0, 0, p.MaxDelay},
		{"negative attempt", -3, 0, 0, p.BaseDelay},
		{"retry-after beyond the cap wins", 0, 5 * time.Second, 5 * time.Second, 5 * time.Second},
		{"retry-after within the jitter", 10, time.Second, time.Second, p.MaxDelay},
		{"retry-after is capped too", 0, 2 * time.Hour, p.MaxRetryAfter, p.MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rnd := rand.New(rand.NewPCG(1, 2))
			lo, hi := time.Duration(1<<62), time.Duration(0)
			for range 2000 {
				d := p.backoff(tt.k, tt.retryAfter, rnd)
				if d < tt.min || d > tt.max {
					t.Fatalf("backoff(%d, %v) = %v, want within [%v, %v]", tt.k, tt.retryAfter, d, tt.min, tt.max)
				}
				lo, hi = min(lo, d), max(hi, d)
			}
			// Full jitter: the draws span the range, not one point of it.
			if tt.min < tt.max && hi-lo < (tt.max-tt.min)/2 {
				t.Errorf("backoff(%d) spans only [%v, %v]", tt.k, lo, hi)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"1", time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"99999999999", 86400 * time.Second, true},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestPolicyDefaults(t *testing.T) {
	t.Parallel()
	if got := (RetryPolicy{}).withDefaults(); got != DefaultRetryPolicy {
		t.Errorf("zero policy = %+v, want the defaults", got)
	}
	p := RetryPolicy{MaxAttempts: -1, AttemptTimeout: -1}.withDefaults()
	if !p.more(1000) || p.AttemptTimeout != -1 {
		t.Errorf("unbounded policy = %+v", p)
	}
	if (RetryPolicy{MaxAttempts: 1}).withDefaults().more(1) {
		t.Error("MaxAttempts 1 retries")
	}
}
