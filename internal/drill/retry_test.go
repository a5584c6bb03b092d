package drill

import (
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		expect Expect
		status int
		code   string
		want   Verdict
	}{
		{"transport failure", expectOrder, 0, "", Retry},
		{"order created", expectOrder, 201, "", Final},
		{"order payment failed", expectOrder, 502, "payment_failed", Refused},
		{"502 without payment_failed", expectOrder, 502, "", Retry},
		{"key in use", expectOrder, 409, "idempotency_key_in_use", Retry},
		{"conflict of state", expectAccepted, 409, "payment_intent_unexpected_state", Unexpected},
		{"too early", expectOK, 425, "payment_processing", Retry},
		{"rate limited", expectOrder, 429, "rate_limited", Retry},
		{"store outage", expectOrder, 503, "service_unavailable", Retry},
		{"provider timeout", expectOrder, 503, "provider_timeout", Retry},
		{"internal error", expectOrder, 500, "internal_error", Retry},
		{"bad request", expectOrder, 400, "invalid_json", Unexpected},
		{"unauthorized", expectOrder, 401, "invalid_api_key", Unexpected},
		{"not found", expectOK, 404, "resource_missing", Unexpected},
		{"key reused", expectOrder, 422, "idempotency_key_reused", Unexpected},
		{"refund refused, too large", expectRefund, 400, "amount_too_large", Refused},
		{"refund refused, nothing left", expectRefund, 400, "charge_already_refunded", Refused},
		{"refund of an uncaptured payment", expectRefund, 400, "payment_not_captured", Unexpected},
		{"refund created", expectRefund, 201, "", Final},
		{"200 where 201 is due", expectCreated, 200, "", Unexpected},
		{"redirect", expectOK, 302, "", Unexpected},
		{"payment_failed on a route that never fails so", expectCreated, 502, "payment_failed", Retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.expect, tt.status, tt.code); got != tt.want {
				t.Errorf("Classify(%d %q) = %v, want %v", tt.status, tt.code, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		min, max   time.Duration
	}{
		{"first retry", 0, 0, 0, BackoffBase},
		{"third retry", 2, 0, 0, 4 * BackoffBase},
		{"capped", 10, 0, 0, BackoffCap},
		{"huge attempt does not overflow", 1 << 20, 0, 0, BackoffCap},
		{"negative attempt", -3, 0, 0, BackoffBase},
		{"retry-after is a floor", 0, time.Second, time.Second, time.Second},
		{"retry-after above the cap wins", 30, 5 * time.Second, 5 * time.Second, 5 * time.Second},
		{"retry-after within the jitter", 10, time.Second, time.Second, BackoffCap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rnd := rand.New(rand.NewPCG(1, 2))
			var lo, hi time.Duration = 1 << 62, 0
			for range 2000 {
				d := Backoff(tt.attempt, tt.retryAfter, rnd)
				if d < tt.min || d > tt.max {
					t.Fatalf("Backoff(%d, %v) = %v, want within [%v, %v]", tt.attempt, tt.retryAfter, d, tt.min, tt.max)
				}
				lo, hi = min(lo, d), max(hi, d)
			}
			// Full jitter spreads over the whole range, not one point.
			if tt.retryAfter == 0 && hi-lo < (tt.max-tt.min)/2 {
				t.Errorf("Backoff(%d) spans only [%v, %v]", tt.attempt, lo, hi)
			}
		})
	}
}

func TestPollDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		k        int
		min, max time.Duration
	}{
		{0, PollBase / 2, PollBase},
		{1, PollBase, 2 * PollBase},
		{3, 4 * PollBase, 8 * PollBase},
		{4, PollCap / 2, PollCap},
		{100, PollCap / 2, PollCap},
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, tt := range tests {
		for range 1000 {
			if d := PollDelay(tt.k, rnd); d < tt.min || d > tt.max {
				t.Fatalf("PollDelay(%d) = %v, want within [%v, %v]", tt.k, d, tt.min, tt.max)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"absent", "", 0, false},
		{"seconds", "2", 2 * time.Second, true},
		{"spaces", " 1 ", time.Second, true},
		{"zero", "0", 0, true},
		{"negative", "-1", 0, false},
		{"absurd is bounded", "99999999", time.Hour, true},
		{"http date", now.Add(3 * time.Second).Format(http.TimeFormat), 3 * time.Second, true},
		{"date in the past", now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"garbage", "soon", 0, false},
		{"fraction", "1.5", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
