package drill

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	payclient "github.com/reliabledemo/payments/client"
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
	req := request{method: "POST", path: "/orders", key: r.ID + "-order", once: r.Abandon}
	var o *payclient.Order
	a, v, err := d.c.call(ctx, &r.tally, r.start, expectOrder, req, func(ctx context.Context, opts ...payclient.CallOption) error {
		var err error
		o, err = d.c.api.CreateOrder(ctx, payclient.OrderParams{UserID: r.ID, Amount: r.Amount, Currency: "USD"}, opts...)
		return err
	})
	if err != nil {
		d.stop(r, err)
		return
	}
	if v == Unexpected {
		r.Outcome, r.Reason = OutcomeUnexpected, fmt.Sprintf("%s: %d %s", req, a.status, a.code)
		return
	}
	outcome, want := OutcomePaid, payclient.OrderPaid
	if v == Refused {
		outcome, want = OutcomePaymentFailed, payclient.OrderPaymentFailed
	}
	if o == nil || o.ID == "" || o.Status != want {
		id, status := "", ""
		if o != nil {
			id, status = o.ID, o.Status
		}
		unexpected(r, a.status, fmt.Sprintf("%s: %d with order id %q, status %q", req, a.status, id, status))
		return
	}
	r.OrderID, r.Outcome = o.ID, outcome
}

// intentJSON is the part of an intent the drill reads.
type intentJSON struct {
	ID     string
	Status string
}

// step runs one step whose answer is an intent, and reports the intent or
// false once the payment is over (unfinished or unexpected).
func (d *driver) step(ctx context.Context, r *Result, e Expect, req request,
	call func(ctx context.Context, opts ...payclient.CallOption) (intentJSON, error)) (intentJSON, bool) {
	var it intentJSON
	a, v, err := d.c.call(ctx, &r.tally, r.start, e, req, func(ctx context.Context, opts ...payclient.CallOption) error {
		var err error
		it, err = call(ctx, opts...)
		return err
	})
	if err != nil {
		d.stop(r, err)
		return intentJSON{}, false
	}
	if v == Unexpected {
		r.Outcome, r.Reason = OutcomeUnexpected, fmt.Sprintf("%s: %d %s", req, a.status, a.code)
		return intentJSON{}, false
	}
	if !strings.HasPrefix(it.ID, "pi_") {
		unexpected(r, a.status, fmt.Sprintf("%s: %d without an intent id", req, a.status))
		return it, false
	}
	return it, true
}

// intentStep adapts a client call that returns an intent to step.
func intentStep(pi *payclient.PaymentIntent, err error) (intentJSON, error) {
	if pi == nil {
		return intentJSON{}, err
	}
	return intentJSON{ID: pi.ID, Status: pi.Status}, err
}

func (d *driver) intent(ctx context.Context, r *Result) {
	create := payclient.PaymentIntentParams{Amount: r.Amount, Currency: "USD", CustomerID: r.ID, PaymentMethodID: r.PaymentMethod}
	if r.Manual {
		create.CaptureMethod = "manual"
	}
	api := d.c.api
	it, ok := d.step(ctx, r, expectCreated, request{method: "POST", path: "/payment_intents", key: r.ID + "-create", once: r.Abandon},
		func(ctx context.Context, opts ...payclient.CallOption) (intentJSON, error) {
			return intentStep(api.CreatePaymentIntent(ctx, create, opts...))
		})
	if !ok {
		return
	}
	r.IntentID = it.ID
	path := "/payment_intents/" + it.ID
	if it, ok = d.step(ctx, r, expectAccepted, request{method: "PATCH", path: path + "/confirm", key: r.ID + "-confirm", once: r.Abandon},
		func(ctx context.Context, opts ...payclient.CallOption) (intentJSON, error) {
			cf, err := api.ConfirmPaymentIntent(ctx, r.IntentID, payclient.ConfirmParams{}, opts...)
			if cf == nil {
				return intentJSON{}, err
			}
			return intentJSON{ID: cf.ID, Status: cf.Status}, err
		}); !ok {
		return
	}
	r.Confirmed = true
	get := func(ctx context.Context, opts ...payclient.CallOption) (intentJSON, error) {
		return intentStep(api.GetPaymentIntent(ctx, r.IntentID, opts...))
	}
	for k := 0; ; k++ {
		r.Polls++
		if it, ok = d.step(ctx, r, expectOK, request{method: "GET", path: path}, get); !ok {
			return
		}
		if it.Status != payclient.IntentProcessing {
			break
		}
		if !sleep(ctx, PollDelay(k, r.rnd)) {
			d.stop(r, fmt.Errorf("%w: %s still processing", errNoAnswer, it.ID))
			return
		}
	}
	switch it.Status {
	case payclient.IntentSucceeded, payclient.IntentFailed, payclient.IntentCanceled:
	case payclient.IntentRequiresCapture:
		if it, ok = d.step(ctx, r, expectOK, request{method: "POST", path: path + "/capture", key: r.ID + "-capture", once: r.Abandon},
			func(ctx context.Context, opts ...payclient.CallOption) (intentJSON, error) {
				return intentStep(api.CapturePaymentIntent(ctx, r.IntentID, payclient.CaptureParams{}, opts...))
			}); !ok {
			return
		}
		if it.Status != payclient.IntentSucceeded {
			unexpected(r, http.StatusOK, fmt.Sprintf("POST %s/capture: 200 with status %q", path, it.Status))
			return
		}
		r.Captured = true
	default:
		unexpected(r, http.StatusOK, fmt.Sprintf("GET %s: 200 with status %q after the confirm", path, it.Status))
		return
	}
	r.Outcome = it.Status
	if it.Status == payclient.IntentSucceeded && d.refunds {
		d.refund(ctx, r)
	}
}

// refund issues one to three partial refunds at once, with distinct keys.
func (d *driver) refund(ctx context.Context, r *Result) {
	var p *payclient.Payment
	req := request{method: "GET", path: "/payments/" + r.IntentID}
	a, v, err := d.c.call(ctx, &r.tally, r.start, expectOK, req, func(ctx context.Context, opts ...payclient.CallOption) error {
		var err error
		p, err = d.c.api.GetPayment(ctx, r.IntentID, opts...)
		return err
	})
	if err != nil {
		d.stop(r, err)
		return
	}
	if v == Unexpected {
		r.Outcome, r.Reason = OutcomeUnexpected, fmt.Sprintf("%s: %d %s", req, a.status, a.code)
		return
	}
	if p == nil || p.PaymentID == "" || p.CapturedAmount < 1 {
		var id string
		var captured int64
		if p != nil {
			id, captured = p.PaymentID, p.CapturedAmount
		}
		unexpected(r, http.StatusOK, fmt.Sprintf("%s: 200 with payment_id %q, captured_amount %d", req, id, captured))
		return
	}
	r.PaymentID = p.PaymentID
	asks := RefundPlan(p.CapturedAmount, 1+r.rnd.IntN(3), r.rnd)
	r.Refunds = make([]RefundResult, len(asks))
	var wg sync.WaitGroup
	for j, amount := range asks {
		rf := &r.Refunds[j]
		rf.Key, rf.Asked = r.ID+"-refund-"+strconv.Itoa(j+1), amount
		wg.Go(func() {
			req := request{method: "POST", path: "/refunds", key: rf.Key, once: r.Abandon}
			var got *payclient.Refund
			_, v, err := d.c.call(ctx, &rf.tally, r.start+j, expectRefund, req, func(ctx context.Context, opts ...payclient.CallOption) error {
				var err error
				got, err = d.c.api.CreateRefund(ctx, payclient.RefundParams{PaymentID: p.PaymentID, Amount: amount, Reason: "requested_by_customer"}, opts...)
				return err
			})
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
				rf.Outcome, rf.ID, rf.Amount = RefundOK, got.ID, got.Amount
				if !strings.HasPrefix(got.ID, "re_") || got.Amount != amount || got.Status != "succeeded" {
					rf.Outcome = OutcomeUnexpected
					rf.unexpected = append(rf.unexpected, badAnswer{fmt.Sprintf("%s: 201 with id %q, amount %d, status %q", req, got.ID, got.Amount, got.Status), http.StatusCreated})
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
