package drill

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Verdict is what the drill makes of one HTTP answer.
type Verdict int

// Verdicts.
const (
	// Final is the answer the step wanted.
	Final Verdict = iota
	// Refused is an expected business refusal, final and stored by the
	// service: 502 payment_failed, 400 amount_too_large.
	Refused
	// Retry is transient: ask again with the same key.
	Retry
	// Unexpected is final but wrong: the drill sends only valid requests.
	Unexpected
)

func (v Verdict) String() string {
	switch v {
	case Final:
		return "final"
	case Refused:
		return "refused"
	case Retry:
		return "retry"
	default:
		return "unexpected"
	}
}

// Expect says which answers end a step.
type Expect struct {
	OK       []int            // success statuses
	Refusals map[int][]string // expected error answers, by status, by error code
}

// codeUnexpectedState is the refusal of an intent transition. Every step is
// retried with one key and a retry replays the stored answer, so the drill
// can meet it only when the service lost track of its own effect.
const codeUnexpectedState = "payment_intent_unexpected_state"

// Classify sorts an answer; status 0 stands for a transport failure (a
// dropped connection, a reset, a timeout), which is always worth a retry.
func Classify(e Expect, status int, code string) Verdict {
	switch {
	case status == 0:
		return Retry
	case slices.Contains(e.OK, status):
		return Final
	case slices.Contains(e.Refusals[status], code):
		return Refused
	case status == http.StatusConflict:
		// idempotency_key_in_use is the other request with this key still
		// running; a conflict of state is a wrong answer.
		if code == codeUnexpectedState {
			return Unexpected
		}
		return Retry
	case status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return Retry
	case status >= 500:
		return Retry
	default:
		return Unexpected
	}
}

// Backoff parameters: exponential with full jitter, as in "Exponential
// Backoff And Jitter" (AWS Architecture Blog), so that retries of many
// payments that failed together do not return together.
const (
	BackoffBase = 50 * time.Millisecond
	BackoffCap  = 2 * time.Second
)

// Backoff is how long to wait before retry number attempt (0 for the first
// retry): a uniform draw in [0, min(cap, base·2^attempt)], but never less
// than the server's Retry-After, which may exceed the cap.
func Backoff(attempt int, retryAfter time.Duration, rnd *rand.Rand) time.Duration {
	ceiling := BackoffCap
	if attempt < 16 { // beyond that base·2^attempt is past the cap anyway
		ceiling = min(BackoffCap, BackoffBase<<max(attempt, 0))
	}
	d := time.Duration(rnd.Int64N(int64(ceiling) + 1))
	return max(d, retryAfter)
}

// Polling parameters for an intent that is still processing.
const (
	PollBase = 100 * time.Millisecond
	PollCap  = time.Second
)

// PollDelay is how long to wait before poll number k of a processing intent:
// "equal jitter", half of min(cap, base·2^k) plus a draw of up to the other
// half, so that polls never come back to back.
func PollDelay(k int, rnd *rand.Rand) time.Duration {
	ceiling := PollCap
	if k < 16 {
		ceiling = min(PollCap, PollBase<<max(k, 0))
	}
	half := ceiling / 2
	return half + time.Duration(rnd.Int64N(int64(half)+1))
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110, section 10.2.3). ok is false when it is absent or unreadable.
func ParseRetryAfter(h string, now time.Time) (d time.Duration, ok bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		// An absurd value must not park a payment past any deadline.
		return time.Duration(min(n, 3600)) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
