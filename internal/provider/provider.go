package provider

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/periodic"
)

// Name is how the mock provider names itself in payment records.
const Name = "mockpay"

// ChargeRequest asks the provider to move money once per Key.
type ChargeRequest struct {
	Key       string // the charge key: the same key is never charged twice
	PaymentID string // the payment's id; "" lets the provider choose one
	Amount    int64
	Currency  string
	// Intent charges come from the worker, which has already waited the
	// asynchronous delay: they fail with IntentFailureRate, without delay.
	Intent        bool
	PaymentMethod string // a test payment method may force a decline
	ForceFailure  bool   // confirm?force=failure
}

// Charge is the provider's answer, as kept in its ledger.
type Charge struct {
	Key            string
	PaymentID      string
	Amount         int64
	Currency       string
	Succeeded      bool
	FailureCode    string
	FailureMessage string
	CreatedAt      time.Time
}

// Ledger keeps one charge per key.
type Ledger interface {
	// RecordCharge stores c unless a charge with c.Key exists, and returns
	// the stored charge: the first decision for a key is final. existed
	// reports that the charge was there before.
	RecordCharge(ctx context.Context, c Charge) (stored Charge, existed bool, err error)
}

// BehaviorStore persists the behavior shared by every instance.
type BehaviorStore interface {
	// LoadBehavior returns the stored behavior, or ok=false if none is
	// stored; fields it lacks keep their values in def.
	LoadBehavior(ctx context.Context, def Behavior) (b Behavior, ok bool, err error)
	// UpdateBehavior applies fn to the stored behavior (def if none) with one
	// conditional write, retrying on a concurrent change.
	UpdateBehavior(ctx context.Context, def Behavior, fn func(Behavior) (Behavior, error)) (Behavior, error)
}

// Provider is the mock payment provider. Its behavior is cached in memory and
// refreshed from the store, so a charge costs one ledger write and nothing more.
type Provider struct {
	ledger   Ledger
	store    BehaviorStore
	defaults Behavior
	now      func() time.Time
	log      *slog.Logger
	observe  func(string, time.Duration)

	mu       sync.Mutex // guards behavior and rnd
	behavior Behavior
	rnd      *rand.Rand
}

// Options are the provider's injected clock and randomness, and an
// optional observer.
type Options struct {
	Now    func() time.Time
	Rand   *rand.Rand
	Logger *slog.Logger
	// Observe, if set, is told each charge's outcome (one of the Outcome
	// constants) and how long it took, for metrics.
	Observe func(outcome string, elapsed time.Duration)
}

// Outcomes of a charge, as Options.Observe reports them.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeDeclined  = "declined"
	OutcomeTimeout   = "timeout" // the drill's timeoutRate hit, whatever the ledger recorded
	OutcomeError     = "error"   // the ledger failed or the caller gave up
)

// New returns a provider that acts as defaults until the store says otherwise.
func New(ledger Ledger, store BehaviorStore, defaults Behavior, opts Options) *Provider {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	// Drill settings nobody configured get working values.
	if defaults.TimeoutOutcome == "" {
		defaults.TimeoutOutcome = TimeoutFail
	}
	if defaults.ErrorCode == "" {
		defaults.ErrorCode = "card_declined"
	}
	if defaults.TimeoutMs == 0 {
		defaults.TimeoutMs = 2000
	}
	return &Provider{ledger: ledger, store: store, defaults: defaults, behavior: defaults,
		now: opts.Now, rnd: opts.Rand, log: opts.Logger, observe: opts.Observe}
}

// Behavior returns the behavior in force on this instance.
func (p *Provider) Behavior() Behavior {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.behavior
}

func (p *Provider) setBehavior(b Behavior) {
	p.mu.Lock()
	p.behavior = b
	p.mu.Unlock()
}

// Refresh reloads the behavior from the store.
func (p *Provider) Refresh(ctx context.Context) error {
	b, ok, err := p.store.LoadBehavior(ctx, p.defaults)
	if err != nil {
		return err
	}
	if !ok {
		b = p.defaults
	}
	p.setBehavior(b)
	return nil
}

// Run refreshes the behavior every interval until ctx ends, so a change made
// through another instance reaches this one within one interval.
func (p *Provider) Run(ctx context.Context, every time.Duration) {
	periodic.Run(ctx, every, p.log, "payment behavior refresh failed", p.Refresh)
}

// UpdateBehavior applies a partial update atomically and returns the result.
func (p *Provider) UpdateBehavior(ctx context.Context, patch BehaviorPatch) (Behavior, error) {
	b, err := p.store.UpdateBehavior(ctx, p.defaults, func(cur Behavior) (Behavior, error) {
		return cur.Apply(patch)
	})
	if err != nil {
		return Behavior{}, err
	}
	p.setBehavior(b)
	return b, nil
}

// between draws a random whole number in [lo, hi].
func (p *Provider) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + p.rnd.IntN(hi-lo+1)
}

// draw is the fate of one charge, decided up front.
type draw struct {
	delay   time.Duration
	fail    bool
	timeout bool
	b       Behavior
}

// roll draws the delay and the outcome of one charge.
func (p *Provider) roll(req ChargeRequest) draw {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := draw{b: p.behavior}
	if req.Intent {
		d.fail = p.rnd.Float64() < d.b.IntentFailureRate
	} else {
		d.delay = time.Duration(p.between(d.b.MinDelayMs, d.b.MaxDelayMs)) * time.Millisecond
		d.fail = p.rnd.Float64() < d.b.FailureRate
	}
	d.timeout = d.b.TimeoutRate > 0 && p.rnd.Float64() < d.b.TimeoutRate
	return d
}

// ErrTimeout is what a caller sees when a charge hangs past its deadline.
var ErrTimeout = &domain.Error{Kind: domain.KindUnavailable, Code: "provider_timeout",
	Message: "The payment provider did not answer in time; retry with the same Idempotency-Key to learn the outcome."}

// AsyncDelay draws how long after confirmation an intent is charged.
func (p *Provider) AsyncDelay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.behavior
	return time.Duration(p.between(b.AsyncDelayMs, b.AsyncDelayMs+b.AsyncJitterMs)) * time.Millisecond
}

// Charge charges req once per key. Retrying with the same key returns the
// first outcome, whether that was a success or a decline.
func (p *Provider) Charge(ctx context.Context, req ChargeRequest) (Charge, error) {
	d := p.roll(req)
	if p.observe == nil {
		return p.charge(ctx, req, d)
	}
	// Wall time, not the injected clock: this is a latency.
	start := time.Now()
	c, err := p.charge(ctx, req, d)
	p.observe(chargeOutcome(d, c, err), time.Since(start))
	return c, err
}

// charge carries out a charge whose fate d was drawn.
func (p *Provider) charge(ctx context.Context, req ChargeRequest, d draw) (Charge, error) {
	if d.timeout {
		d.delay = time.Duration(d.b.TimeoutMs) * time.Millisecond
	}
	if err := sleep(ctx, d.delay); err != nil {
		return Charge{}, err
	}
	c := Charge{
		Key:       req.Key,
		PaymentID: req.PaymentID,
		Amount:    req.Amount,
		Currency:  req.Currency,
		Succeeded: true,
		CreatedAt: p.now().UTC().Truncate(time.Millisecond), // as the ledger stores it
	}
	if c.PaymentID == "" {
		c.PaymentID = domain.NewID("pay_")
	}
	decline := domain.TestPaymentMethods[req.PaymentMethod]
	switch {
	case req.ForceFailure:
		c.Succeeded, c.FailureCode = false, "card_declined"
	case decline != "":
		c.Succeeded, c.FailureCode = false, decline
	case d.timeout && d.b.TimeoutOutcome != TimeoutSucceedLate:
		c.Succeeded, c.FailureCode = false, "processing_error"
	case d.fail && !d.timeout:
		c.Succeeded, c.FailureCode = false, d.b.ErrorCode
	}
	if !c.Succeeded {
		if c.FailureCode == "" {
			c.FailureCode = "card_declined"
		}
		c.FailureMessage = declineMessages[c.FailureCode]
	}
	stored, existed, err := p.ledger.RecordCharge(ctx, c)
	// A retry of a charge already made learns its outcome: only a new
	// charge can have its answer lost.
	if err == nil && !existed && d.timeout && d.b.TimeoutOutcome == TimeoutSucceedLate {
		// The money moved, but the answer is lost: the caller must retry.
		return Charge{}, ErrTimeout
	}
	return stored, err
}

func chargeOutcome(d draw, c Charge, err error) string {
	switch {
	case d.timeout:
		return OutcomeTimeout
	case err != nil:
		return OutcomeError
	case !c.Succeeded:
		return OutcomeDeclined
	}
	return OutcomeSucceeded
}

var declineMessages = map[string]string{
	"card_declined":      "Your card was declined.",
	"insufficient_funds": "Your card has insufficient funds.",
	"expired_card":       "Your card has expired.",
	"incorrect_cvc":      "Your card's security code is incorrect.",
	"processing_error":   "An error occurred while processing your card.",
	"do_not_honor":       "Your card was declined.",
	"lost_card":          "Your card was declined.",
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
