package drill

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample", ms(7), 99, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"median of five", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"p90 of 1..100", ms(hundred...), 90, 90 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"max", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"tiny p is the minimum", ms(1, 2, 3), 0.001, time.Millisecond},
		{"p 0 is the minimum", ms(1, 2, 3), 0, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(p%g) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestRefundPlan(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(5, 6))
	tooMuch := 0
	for i := range 3000 {
		captured := int64(100 + i*17)
		k := 1 + i%3
		plan := RefundPlan(captured, k, rnd)
		if len(plan) != k {
			t.Fatalf("RefundPlan(%d, %d) has %d refunds", captured, k, len(plan))
		}
		var sum int64
		for _, a := range plan {
			if a < 1 || a > captured {
				t.Fatalf("RefundPlan(%d, %d) = %v: each must be within [1, captured]", captured, k, plan)
			}
			sum += a
		}
		if sum > captured {
			tooMuch++
		}
	}
	// The drill must exercise refusals as well as refunds that fit.
	if tooMuch < 300 || tooMuch > 2700 {
		t.Errorf("%d of 3000 plans ask more than was captured; want a fair share of both kinds", tooMuch)
	}
}
