package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind of logical payment.
type Kind string

// Kinds.
const (
	KindOrder  Kind = "order"  // POST /orders, charged synchronously
	KindIntent Kind = "intent" // a payment intent: create, confirm, poll, capture, refund
)

// Outcomes of a logical payment, as the client saw them. Intents end in
// their own status names (succeeded, failed, canceled).
const (
	OutcomePaid          = "paid"
	OutcomePaymentFailed = "payment_failed"
	OutcomeUnexpected    = "unexpected"  // an answer the drill should never get
	OutcomeUnfinished    = "unfinished"  // no final answer within -deadline
	OutcomeInterrupted   = "interrupted" // the drill was stopped first
	OutcomeAbandoned     = "abandoned"   // the client gave up after one attempt (-abandon)
	OutcomeNotStarted    = ""
)

// Refund outcomes.
const (
	RefundOK      = "ok"
	RefundRefused = "refused" // 400 amount_too_large or charge_already_refunded
)

// Result is one logical payment, what was asked and what the client saw.
type Result struct {
	ID      string // drill-<run>-<i>: the order's userId, the intent's customer_id
	Kind    Kind
	Amount  int64
	Outcome string
	Reason  string // why it is unexpected or unfinished

	OrderID string

	IntentID      string
	PaymentMethod string
	Manual        bool // capture_method manual
	Abandon       bool // the client sends each write once and gives up if it gets no final answer
	Confirmed     bool // the confirm got its 202
	Captured      bool // the capture got its 200
	PaymentID     string
	Refunds       []RefundResult

	tally
	rnd   *rand.Rand
	start int           // index of the first base URL to try
	done  time.Duration // when it ended, from the start of the run
}

// RefundResult is one refund request of an intent.
type RefundResult struct {
	Key     string
	Asked   int64
	Outcome string
	ID      string // re_…, when it succeeded
	Amount  int64  // what the service refunded
	tally
}

// Final reports whether the payment got its final answer (expected or not),
// or was abandoned by its client: then the service must finish it alone,
// and once the recovery window has passed it is held to every invariant.
func (r *Result) Final() bool {
	return r.Outcome != OutcomeNotStarted && r.Outcome != OutcomeUnfinished && r.Outcome != OutcomeInterrupted
}

// What each step accepts as its end.
var (
	expectOrder = Expect{OK: []int{http.StatusCreated},
		Refusals: map[int][]string{http.StatusBadGateway: {"payment_failed"}}}
	expectCreated  = Expect{OK: []int{http.StatusCreated}}
	expectAccepted = Expect{OK: []int{http.StatusAccepted}}
	expectOK       = Expect{OK: []int{http.StatusOK}}
	expectRefund   = Expect{OK: []int{http.StatusCreated},
		Refusals: map[int][]string{http.StatusBadRequest: {"amount_too_large", "charge_already_refunded"}}}
)

// driver runs payments.
type driver struct {
	c       *client
	refunds bool
	runCtx  context.Context // ends on interrupt
}

// stop records why a step got no final answer.
func (d *driver) stop(r *Result, err error) {
	r.Outcome, r.Reason = OutcomeUnfinished, err.Error()
	switch {
	case d.runCtx.Err() != nil:
		r.Outcome = OutcomeInterrupted
	case errors.Is(err, errAbandoned):
		r.Outcome = OutcomeAbandoned
	}
}

// unexpected records a successful answer whose content is wrong.
func unexpected(r *Result, status int, why string) {
	r.Outcome, r.Reason = OutcomeUnexpected, why
	r.unexpected = append(r.unexpected, badAnswer{why, status})
}

func (d *driver) order(ctx context.Context, r *Result) {
	req := request{method: "POST", path: "/orders", key: r.ID + "-order", once: r.Abandon,
		body: encode(map[string]any{"userId": r.ID, "amount": r.Amount, "currency": "USD"})}
	a, v, err := d.c.call(ctx, &r.tally, r.rnd, r.start, expectOrder, req)
	if err != nil {
		d.stop(r, err)
		return
	}
	if v == Unexpected {
		r.Outcome, r.Reason = OutcomeUnexpected, fmt.Sprintf("%s: %d %s", req, a.status, a.code)
		return
	}
	var body struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Order  struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"order"`
	}
	_ = json.Unmarshal(a.body, &body)
	id, status, outcome, want := body.ID, body.Status, OutcomePaid, "PAID"
	if v == Refused {
		id, status, outcome, want = body.Order.ID, body.Order.Status, OutcomePaymentFailed, "PAYMENT_FAILED"
	}
	if id == "" || status != want {
		unexpected(r, a.status, fmt.Sprintf("%s: %d with order id %q, status %q", req, a.status, id, status))
		return
	}
	r.OrderID, r.Outcome = id, outcome
}

// intentJSON is the part of an intent the drill reads.
type intentJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// step runs one step whose answer is an intent, and reports the intent or
// false once the payment is over (unfinished or unexpected).
func (d *driver) step(ctx context.Context, r *Result, e Expect, req request) (intentJSON, bool) {
	a, v, err := d.c.call(ctx, &r.tally, r.rnd, r.start, e, req)
	if err != nil {
		d.stop(r, err)
		return intentJSON{}, false
	}
	if v == Unexpected {
		r.Outcome, r.Reason = OutcomeUnexpected, fmt.Sprintf("%s: %d %s", req, a.status, a.code)
		return intentJSON{}, false
	}
	var it intentJSON
	if json.Unmarshal(a.body, &it) != nil || !strings.HasPrefix(it.ID, "pi_") {
		unexpected(r, a.status, fmt.Sprintf("%s: %d without an intent id", req, a.status))
		return it, false
	}
	return it, true
}

func (d *driver) intent(ctx context.Context, r *Result) {
	create := map[string]any{"amount": r.Amount, "currency": "USD", "customer_id": r.ID, "payment_method_id": r.PaymentMethod}
	if r.Manual {
		create["capture_method"] = "manual"
	}
	it, ok := d.step(ctx, r, expectCreated, request{method: "POST", path: "/payment_intents", key: r.ID + "-create", body: encode(create), once: r.Abandon})
	if !ok {
		return
	}
	r.IntentID = it.ID
	path := "/payment_intents/" + it.ID
	if it, ok = d.step(ctx, r, expectAccepted, request{method: "PATCH", path: path + "/confirm", key: r.ID + "-confirm", body: []byte("{}"), once: r.Abandon}); !ok {
		return
	}
	r.Confirmed = true
	for k := 0; ; k++ {
		r.Polls++
		if it, ok = d.step(ctx, r, expectOK, request{method: "GET", path: path}); !ok {
			return
		}
		if it.Status != "processing" {
			break
		}
		if !sleep(ctx, PollDelay(k, r.rnd)) {
			d.stop(r, fmt.Errorf("%w: %s still processing", errNoAnswer, it.ID))
			return
		}
	}
	switch it.Status {
	case "succeeded", "failed", "canceled":
	case "requires_capture":
		if it, ok = d.step(ctx, r, expectOK, request{method: "POST", path: path + "/capture", key: r.ID + "-capture", body: []byte("{}"), once: r.Abandon}); !ok {
			return
		}
		if it.Status != "succeeded" {
			unexpected(r, http.StatusOK, fmt.Sprintf("POST %s/capture: 200 with status %q", path, it.Status))
			return
		}
		r.Captured = true
	default:
		unexpected(r, http.StatusOK, fmt.Sprintf("GET %s: 200 with status %q after the confirm", path, it.Status))
		return
	}
	r.Outcome = it.Status
	if it.Status == "succeeded" && d.refunds {
		d.refund(ctx, r)
	}
}

// refund issues one to three partial refunds at once, with distinct keys.
func (d *driver) refund(ctx context.Context, r *Result) {
	a, v, err := d.c.call(ctx, &r.tally, r.rnd, r.start, expectOK, request{method: "GET", path: "/payments/" + r.IntentID})
	if err != nil {
		d.stop(r, err)
		return
	}
	var p struct {
		PaymentID      string `json:"payment_id"`
		CapturedAmount int64  `json:"captured_amount"`
	}
	if v == Unexpected {
		r.Outcome, r.Reason = OutcomeUnexpected, fmt.Sprintf("GET /payments/%s: %d %s", r.IntentID, a.status, a.code)
		return
	}
	if json.Unmarshal(a.body, &p) != nil || p.PaymentID == "" || p.CapturedAmount < 1 {
		unexpected(r, http.StatusOK, fmt.Sprintf("GET /payments/%s: 200 with payment_id %q, captured_amount %d", r.IntentID, p.PaymentID, p.CapturedAmount))
		return
	}
	r.PaymentID = p.PaymentID
	asks := RefundPlan(p.CapturedAmount, 1+r.rnd.IntN(3), r.rnd)
	r.Refunds = make([]RefundResult, len(asks))
	seeds := make([]uint64, len(asks))
	for j := range seeds {
		seeds[j] = r.rnd.Uint64()
	}
	var wg sync.WaitGroup
	for j, amount := range asks {
		rf := &r.Refunds[j]
		rf.Key, rf.Asked = r.ID+"-refund-"+strconv.Itoa(j+1), amount
		wg.Go(func() {
			req := request{method: "POST", path: "/refunds", key: rf.Key, once: r.Abandon,
				body: encode(map[string]any{"payment_id": p.PaymentID, "amount": amount, "reason": "requested_by_customer"})}
			a, v, err := d.c.call(ctx, &rf.tally, rand.New(rand.NewPCG(seeds[j], 0)), r.start+j, expectRefund, req)
			switch {
			case err != nil && d.runCtx.Err() != nil:
				rf.Outcome = OutcomeInterrupted
			case errors.Is(err, errAbandoned):
				rf.Outcome = OutcomeAbandoned
			case err != nil:
				rf.Outcome = OutcomeUnfinished
			case v == Refused:
				rf.Outcome = RefundRefused
			case v == Final:
				var body struct {
					ID     string `json:"id"`
					Amount int64  `json:"amount"`
					Status string `json:"status"`
				}
				_ = json.Unmarshal(a.body, &body)
				rf.Outcome, rf.ID, rf.Amount = RefundOK, body.ID, body.Amount
				if !strings.HasPrefix(body.ID, "re_") || body.Amount != amount || body.Status != "succeeded" {
					rf.Outcome = OutcomeUnexpected
					rf.unexpected = append(rf.unexpected, badAnswer{fmt.Sprintf("%s: 201 with id %q, amount %d, status %q", req, body.ID, body.Amount, body.Status), http.StatusCreated})
				}
			default:
				rf.Outcome = OutcomeUnexpected
			}
		})
	}
	wg.Wait()
	for j := range r.Refunds {
		rf := &r.Refunds[j]
		r.merge(rf.tally)
		switch rf.Outcome {
		case OutcomeAbandoned:
			if r.Final() {
				r.Outcome, r.Reason = OutcomeAbandoned, "refund "+rf.Key
			}
		case OutcomeUnfinished, OutcomeInterrupted:
			d.stop(r, fmt.Errorf("%w to refund %s", errNoAnswer, rf.Key))
		case OutcomeUnexpected:
			if r.Final() {
				r.Outcome, r.Reason = OutcomeUnexpected, "refund "+rf.Key
			}
		}
	}
}

// RefundPlan draws k refund amounts for a payment of captured. Most are
// small; with even odds one asks for nearly everything, which fits or not
// depending on which of the concurrent refunds the service applies first.
func RefundPlan(captured int64, k int, rnd *rand.Rand) []int64 {
	out := make([]int64, k)
	small := max(1, captured/int64(2*k))
	for j := range out {
		out[j] = 1 + rnd.Int64N(small)
	}
	if rnd.IntN(2) == 0 {
		out[rnd.IntN(k)] = captured - rnd.Int64N(max(1, captured/4))
	}
	return out
}

// sleep waits d unless ctx ends first, and reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
