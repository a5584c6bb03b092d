package drill

import (
	"math/rand/v2"
	"slices"
	"time"

	payclient "github.com/reliabledemo/payments/client"
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

// Classify sorts an answer; status 0 stands for a transport failure (a
// dropped connection, a reset, a timeout), which is always worth a retry.
// Which answers are transient is the public client's rule (it is the one
// that retries them), so that the drill counts what a user's client does.
func Classify(e Expect, status int, code string) Verdict {
	switch {
	case status == 0:
		return Retry
	case slices.Contains(e.OK, status):
		return Final
	case slices.Contains(e.Refusals[status], code):
		return Refused
	case (&payclient.Error{StatusCode: status, Code: code}).Retryable():
		return Retry
	default:
		return Unexpected
	}
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
