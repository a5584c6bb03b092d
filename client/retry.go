package client

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says how often and how patiently a call retries. The zero
// value of each field means its default; DefaultRetryPolicy spells them out.
//
// Whatever the policy, a call never waits past its context's deadline: if
// the next wait would end after it, the call returns the last answer at once.
type RetryPolicy struct {
	// MaxAttempts bounds the HTTP attempts of one call, the first included:
	// 1 never retries; a negative value retries until the context ends.
	MaxAttempts int
	// BaseDelay and MaxDelay shape the backoff: before retry k (0 for the
	// first) the call waits a uniform draw in [0, min(MaxDelay, BaseDelay·2^k)]
	// ("full jitter"), so clients that failed together do not come back
	// together; but never less than the answer's Retry-After.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// AttemptTimeout bounds one attempt, so that a hung connection costs
	// one attempt rather than the whole call; a timed-out attempt is
	// retried with the same key. The service finishes the work of an
	// attempt it received even after the client gave up on it, so a bound
	// shorter than the provider's delay costs retries (409 while the work
	// runs, then its answer replayed), never a second charge. Negative: no
	// bound but the context's.
	AttemptTimeout time.Duration
	// MaxRetryAfter caps how long a Retry-After can make the call wait.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy is what a client uses unless WithRetryPolicy says
// otherwise.
var DefaultRetryPolicy = RetryPolicy{
	MaxAttempts:    8,
	BaseDelay:      50 * time.Millisecond,
	MaxDelay:       2 * time.Second,
	AttemptTimeout: 30 * time.Second,
	MaxRetryAfter:  time.Minute,
}

// withDefaults fills the zero fields from DefaultRetryPolicy.
func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy
	if p.MaxAttempts == 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.AttemptTimeout == 0 {
		p.AttemptTimeout = d.AttemptTimeout
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	return p
}

// more reports whether attempt n (1-based) may be followed by another.
func (p RetryPolicy) more(n int) bool { return p.MaxAttempts < 0 || n < p.MaxAttempts }

// backoff is the wait before retry k (0 for the first): full jitter over
// min(MaxDelay, BaseDelay·2^k), raised to retryAfter. A Retry-After may
// exceed MaxDelay: the server knows best when it will be ready.
func (p RetryPolicy) backoff(k int, retryAfter time.Duration, rnd *rand.Rand) time.Duration {
	ceiling := p.MaxDelay
	if k < 30 { // beyond that BaseDelay·2^k is past any cap, and would overflow
		ceiling = min(p.MaxDelay, p.BaseDelay<<max(k, 0))
	}
	d := time.Duration(rnd.Int64N(int64(ceiling) + 1))
	return max(d, min(retryAfter, p.MaxRetryAfter))
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110, section 10.2.3). ok is false when it is absent or unreadable.
func parseRetryAfter(h string, now time.Time) (d time.Duration, ok bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		// An absurd value must not overflow; MaxRetryAfter caps the wait.
		return time.Duration(min(n, 86400)) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
