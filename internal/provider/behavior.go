// Package provider is the mock payment provider: it decides whether a charge
// succeeds, with a tunable failure rate and delay, and keeps a ledger of
// charges keyed by charge key so that a retried charge is never charged twice.
package provider

import (
	"math"
	"slices"
	"strings"

	"github.com/reliabledemo/payments/internal/domain"
)

// MaxDelayMs bounds every simulated delay: one minute.
const MaxDelayMs = 60_000

// Behavior is how the mock provider acts. It is stored in MongoDB so that it
// survives restarts and applies to every instance.
type Behavior struct {
	FailureRate float64 // chance in [0,1] that an order charge fails
	MinDelayMs  int     // each order charge takes a random time in [MinDelayMs, MaxDelayMs]
	MaxDelayMs  int

	// Payment intents are charged asynchronously, AsyncDelayMs plus up to
	// AsyncJitterMs after confirmation, and fail with IntentFailureRate.
	AsyncDelayMs      int
	AsyncJitterMs     int
	IntentFailureRate float64

	// Fault drills: a charge times out with TimeoutRate. It hangs for
	// TimeoutMs and then, as TimeoutOutcome says, is declined ("fail") or
	// goes through while the caller is told it timed out ("succeed_late"),
	// so only a retry with the same key learns that it succeeded.
	TimeoutRate    float64
	TimeoutMs      int
	TimeoutOutcome string
	// ErrorCode is the decline code random failures carry.
	ErrorCode string
}

// Timeout outcomes.
const (
	TimeoutFail        = "fail"
	TimeoutSucceedLate = "succeed_late"
)

// ErrorCodes are the decline codes the mock provider can be told to use.
var ErrorCodes = []string{"card_declined", "insufficient_funds", "expired_card", "incorrect_cvc", "processing_error", "do_not_honor", "lost_card"}

// BehaviorPatch is a partial update: nil fields are left as they are.
type BehaviorPatch struct {
	FailureRate       *float64
	MinDelayMs        *int
	MaxDelayMs        *int
	AsyncDelayMs      *int
	AsyncJitterMs     *int
	IntentFailureRate *float64
	TimeoutRate       *float64
	TimeoutMs         *int
	TimeoutOutcome    *string
	ErrorCode         *string
}

// Apply returns b with p applied, or a validation error naming the first bad
// field, in which case nothing is changed.
func (b Behavior) Apply(p BehaviorPatch) (Behavior, error) {
	set(&b.FailureRate, p.FailureRate)
	set(&b.MinDelayMs, p.MinDelayMs)
	set(&b.MaxDelayMs, p.MaxDelayMs)
	set(&b.AsyncDelayMs, p.AsyncDelayMs)
	set(&b.AsyncJitterMs, p.AsyncJitterMs)
	set(&b.IntentFailureRate, p.IntentFailureRate)
	set(&b.TimeoutRate, p.TimeoutRate)
	set(&b.TimeoutMs, p.TimeoutMs)
	set(&b.TimeoutOutcome, p.TimeoutOutcome)
	set(&b.ErrorCode, p.ErrorCode)
	return b, b.Validate()
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Validate checks each field the patch sets, on its own.
func (p BehaviorPatch) Validate() error {
	for _, f := range []struct {
		name string
		v    *float64
	}{{"failureRate", p.FailureRate}, {"intentFailureRate", p.IntentFailureRate}, {"timeoutRate", p.TimeoutRate}} {
		if f.v != nil {
			if err := validateRate(f.name, *f.v); err != nil {
				return err
			}
		}
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"minDelayMs", p.MinDelayMs}, {"maxDelayMs", p.MaxDelayMs}, {"asyncDelayMs", p.AsyncDelayMs}, {"asyncJitterMs", p.AsyncJitterMs}, {"timeoutMs", p.TimeoutMs}} {
		if f.v != nil {
			if err := validateDelay(f.name, *f.v); err != nil {
				return err
			}
		}
	}
	if o := p.TimeoutOutcome; o != nil && *o != TimeoutFail && *o != TimeoutSucceedLate {
		return domain.Invalid("timeoutOutcome", "invalid_timeout_outcome", "timeoutOutcome must be fail or succeed_late.")
	}
	if c := p.ErrorCode; c != nil && !slices.Contains(ErrorCodes, *c) {
		return domain.Invalid("errorCode", "invalid_error_code", "errorCode must be one of %s.", strings.Join(ErrorCodes, ", "))
	}
	return nil
}

// Validate checks every field, naming the offending one as the param.
func (b Behavior) Validate() error {
	all := BehaviorPatch{FailureRate: &b.FailureRate, MinDelayMs: &b.MinDelayMs, MaxDelayMs: &b.MaxDelayMs,
		AsyncDelayMs: &b.AsyncDelayMs, AsyncJitterMs: &b.AsyncJitterMs, IntentFailureRate: &b.IntentFailureRate,
		TimeoutRate: &b.TimeoutRate, TimeoutMs: &b.TimeoutMs, TimeoutOutcome: &b.TimeoutOutcome, ErrorCode: &b.ErrorCode}
	if err := all.Validate(); err != nil {
		return err
	}
	if b.MinDelayMs > b.MaxDelayMs {
		return domain.Invalid("minDelayMs", "invalid_delay", "minDelayMs must not exceed maxDelayMs.")
	}
	return nil
}

func validateRate(param string, r float64) error {
	if math.IsNaN(r) || r < 0 || r > 1 {
		return domain.Invalid(param, "invalid_rate", "%s must be a number between 0 and 1.", param)
	}
	return nil
}

func validateDelay(param string, ms int) error {
	if ms < 0 || ms > MaxDelayMs {
		return domain.Invalid(param, "invalid_delay", "%s must be an integer between 0 and %d.", param, MaxDelayMs)
	}
	return nil
}
