package drill

import (
	"math/rand/v2"
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
		{"payment_failed on a route that never fails so", expectCreated, 502, "payment_failed", Unexpected},
		{"proxy 504", expectOK, 504, "", Retry},
		{"not implemented", expectOK, 501, "", Unexpected},
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
