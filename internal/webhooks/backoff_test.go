package webhooks_test

import (
	"testing"
	"time"

	"github.com/reliabledemo/payments/internal/webhooks"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		maxAttempts int
		window      time.Duration
	}{
		{"defaults", webhooks.DefaultMaxAttempts, webhooks.DefaultRetryWindow},
		{"drill", 8, 30 * time.Second},
		{"two attempts", 2, time.Minute},
		{"many", webhooks.MaxAttemptsLimit, 72 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var longest, shortest time.Duration
			prev := time.Duration(0)
			for k := 1; k < tt.maxAttempts; k++ {
				hi := webhooks.Backoff(k, tt.maxAttempts, tt.window, 0.999999999)
				lo := webhooks.Backoff(k, tt.maxAttempts, tt.window, 0)
				if lo <= 0 || hi < lo || hi > 2*lo+time.Microsecond {
					t.Fatalf("wait %d: [%v, %v], want half fixed, half jitter", k, lo, hi)
				}
				if k > 1 && (hi < 2*prev-time.Microsecond || hi > 2*prev+time.Microsecond) {
					t.Fatalf("wait %d = %v, want double the previous %v", k, hi, prev)
				}
				prev = hi
				longest += hi
				shortest += lo
			}
			// The waits add up to the window, within rounding; jitter only
			// shortens them, never below half.
			if d := tt.window - longest; d < 0 || d > time.Millisecond {
				t.Fatalf("longest total %v, want the window %v", longest, tt.window)
			}
			if shortest < tt.window/2-time.Millisecond {
				t.Fatalf("shortest total %v, want at least half the window", shortest)
			}
		})
	}
	if got := webhooks.Backoff(1, 1, time.Hour, 0.5); got != 0 {
		t.Fatalf("one attempt allowed: wait %v, want 0", got)
	}
}
