package drill

import (
	"math/rand/v2"
	"testing"
)

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
