// Package intents implements payment intents, their payments and refunds.
// Every change is one conditional update on the intent's current state, and
// every step can be repeated after a crash: ids derive from the request's
// idempotency resource id, the charge is keyed by the intent id, and a
// transition records which request made it.
package intents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/provider"
	"github.com/reliabledemo/payments/internal/worker"
)

// Store is what the service needs from persistence.
type Store interface {
	InsertIntent(ctx context.Context, in domain.Intent) (bool, error)
	GetIntent(ctx context.Context, id string) (domain.Intent, error)
	TransitionIntent(ctx context.Context, from domain.IntentStatus, next domain.Intent) (domain.Intent, bool, error)
	ApplyRefund(ctx context.Context, intentID, refundID string, amount int64, now time.Time) (bool, error)
	InsertRefund(ctx context.Context, r domain.Refund) (bool, error)
	GetRefund(ctx context.Context, id string) (domain.Refund, error)
	FinishRefund(ctx context.Context, id, status string, now time.Time) (bool, error)
	EnqueueJob(ctx context.Context, intentID string, at, now time.Time) error
}

// Provider charges intents and says how long after confirmation.
type Provider interface {
	Charge(ctx context.Context, req provider.ChargeRequest) (provider.Charge, error)
	AsyncDelay() time.Duration
}

// Recorder records events; repeating a recording is harmless.
type Recorder interface {
	Record(ctx context.Context, evs ...domain.Event) error
}

// Hooks lets fault drills stop the process between steps.
type Hooks struct {
	AfterCharge func()
	// AfterTransition runs between a change of an intent or a refund and
	// the recording of its event.
	AfterTransition func()
	// AfterEnqueue runs between queueing a confirmed intent's job and its
	// transition to processing; tests stall a confirm there.
	AfterEnqueue func()
}

var (
	_ domain.IntentService = (*Service)(nil)
	_ worker.Processor     = (*Service)(nil)
)

// Service implements domain.IntentService and processes queued intents.
type Service struct {
	store  Store
	prov   Provider
	events Recorder
	now    func() time.Time
	hooks  Hooks
}

// New returns the service; it records its events in events.
func New(store Store, prov Provider, events Recorder, now func() time.Time, hooks Hooks) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, prov: prov, events: events, now: now, hooks: hooks}
}

// recordLast records the event of the change that just made it, after the
// crash point between the two.
func (s *Service) recordLast(ctx context.Context, it domain.Intent) error {
	call(s.hooks.AfterTransition)
	if e, ok := it.LastEvent(); ok {
		return s.events.Record(ctx, e)
	}
	return nil
}

// recordAll records every event of it's changes again. Paths that find an
// intent changed by an earlier attempt of their own (a retry, a re-run job)
// call it: that attempt may have died between a change and its event, and
// a later change may have overwritten the intent since, so the events
// stored with the intent are the only complete copy.
func (s *Service) recordAll(ctx context.Context, it domain.Intent) error {
	return s.events.Record(ctx, it.Events...)
}

func call(f func()) {
	if f != nil {
		f()
	}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func notFound(what, id, param string) error {
	return &domain.Error{Kind: domain.KindNotFound, Code: "resource_missing", Param: param, Message: "No such " + what + ": '" + id + "'."}
}

// Create makes a payment intent whose id derives from the request, so that
// a retried create finds the intent it made before.
func (s *Service) Create(ctx context.Context, requestID string, in domain.NewIntent) (domain.Intent, error) {
	if err := in.Validate(); err != nil {
		return domain.Intent{}, err
	}
	id := "pi_" + requestID
	it := domain.NewIntentAt(domain.Intent{
		ID: id, ClientSecret: id + "_secret_" + domain.NewID("")[:16], Amount: in.Amount, Currency: in.Currency,
		CustomerID: in.CustomerID, PaymentMethodID: in.PaymentMethodID, CaptureMethod: in.CaptureMethod,
		Metadata: in.Metadata, LastRequestID: requestID,
	}, s.clock(), domain.RequestFrom(ctx))
	created, err := s.store.InsertIntent(ctx, it)
	if err != nil {
		return it, err
	}
	if created {
		return it, s.recordLast(ctx, it)
	}
	if it, err = s.store.GetIntent(ctx, id); err != nil {
		return it, err
	}
	return it, s.recordAll(ctx, it)
}

// Get returns one intent.
func (s *Service) Get(ctx context.Context, id string) (domain.Intent, error) {
	it, err := s.store.GetIntent(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return it, notFound("payment_intent", id, "id")
	}
	return it, err
}

// transition applies action to the intent as last read, refusing it if the
// status does not allow it, unless this very request already made it (a
// retry after a crash).
func (s *Service) transition(ctx context.Context, requestID string, it domain.Intent, a domain.Action, ch domain.IntentChange) (domain.Intent, error) {
	if !a.Allowed(it.Status) {
		if requestID != "" && it.LastRequestID == requestID {
			return it, s.recordAll(ctx, it)
		}
		return it, domain.ErrUnexpectedState(a, it.Status)
	}
	ch.RequestID = requestID
	fresh, ok, err := s.store.TransitionIntent(ctx, it.Status, it.Next(a, ch, s.clock(), domain.RequestFrom(ctx)))
	if err != nil {
		return fresh, err
	}
	if ok {
		return fresh, s.recordLast(ctx, fresh)
	}
	// Lost: read what won, which may be this very request's earlier attempt.
	if fresh, err = s.store.GetIntent(ctx, it.ID); err != nil {
		return it, err
	}
	if requestID == "" || fresh.LastRequestID != requestID {
		// Another request moved the intent between our read and our write.
		return fresh, domain.ErrUnexpectedState(a, fresh.Status)
	}
	return fresh, s.recordAll(ctx, fresh)
}

// Confirm queues the intent for asynchronous processing. The job is queued
// before the status changes: a crash between the two leaves a job that the
// worker drops after a grace period, never a processing intent that nothing
// will process.
func (s *Service) Confirm(ctx context.Context, requestID, id string, c domain.Confirmation) (domain.Intent, error) {
	if c.PaymentMethodID != "" {
		if err := domain.ValidatePaymentMethod("payment_method_id", c.PaymentMethodID); err != nil {
			return domain.Intent{}, err
		}
	}
	it, err := s.Get(ctx, id)
	if err != nil {
		return it, err
	}
	if domain.ActionConfirm.Allowed(it.Status) || it.LastRequestID == requestID {
		if err := s.enqueue(ctx, id); err != nil {
			return it, err
		}
	}
	if s.hooks.AfterEnqueue != nil {
		s.hooks.AfterEnqueue()
	}
	ch := domain.IntentChange{ForceFailure: &c.ForceFailure}
	if c.PaymentMethodID != "" {
		ch.PaymentMethodID = &c.PaymentMethodID
	}
	it, err = s.transition(ctx, requestID, it, domain.ActionConfirm, ch)
	if err != nil || it.Status != domain.IntentProcessing {
		return it, err
	}
	// Queue it again: a confirm that stalled longer than the worker's grace
	// period finds its first job dropped (the intent was not confirmed yet),
	// and a processing intent without a job would never be charged. When
	// the first job is still there, this changes nothing.
	return it, s.enqueue(ctx, id)
}

// enqueue queues the intent's job, due after the provider's async delay.
func (s *Service) enqueue(ctx context.Context, id string) error {
	now := s.clock()
	return s.store.EnqueueJob(ctx, id, now.Add(s.prov.AsyncDelay()), now)
}

// Capture captures an authorized (manual capture) intent's payment.
func (s *Service) Capture(ctx context.Context, requestID, id string, amount *int64) (domain.Intent, error) {
	it, err := s.Get(ctx, id)
	if err != nil {
		return it, err
	}
	x := it.Amount
	if amount != nil {
		if *amount < 1 || *amount > it.Amount {
			return it, domain.Invalid("amount_to_capture", "invalid_amount", "amount_to_capture must be between 1 and the intent's amount (%d).", it.Amount)
		}
		x = *amount
	}
	ch := domain.IntentChange{AmountReceived: &x}
	if p := it.Payment; p != nil {
		captured := *p
		captured.Status, captured.CapturedAmount, captured.Refundable, captured.AmountRefunded = domain.PaymentSucceeded, x, x, 0
		ch.Payment = &captured
	}
	return s.transition(ctx, requestID, it, domain.ActionCapture, ch)
}

// Cancel cancels an intent that has not been charged, or whose charge
// awaits capture (the authorization is released).
func (s *Service) Cancel(ctx context.Context, requestID, id, reason string) (domain.Intent, error) {
	if reason != "" && !domain.CancellationReasons[reason] {
		return domain.Intent{}, domain.Invalid("cancellation_reason", "invalid_cancellation_reason", "cancellation_reason must be duplicate, fraudulent, requested_by_customer or abandoned.")
	}
	it, err := s.Get(ctx, id)
	if err != nil {
		return it, err
	}
	ch := domain.IntentChange{CancellationReason: &reason}
	if p := it.Payment; p != nil {
		canceled := *p
		canceled.Status = domain.PaymentCanceled
		ch.Payment = &canceled
	}
	return s.transition(ctx, requestID, it, domain.ActionCancel, ch)
}

// GetPayment returns the intent behind a payment: 425 while it is being
// processed, 404 when it has none.
func (s *Service) GetPayment(ctx context.Context, intentID string) (domain.Intent, error) {
	it, err := s.Get(ctx, intentID)
	if err != nil {
		return it, err
	}
	if it.Status == domain.IntentProcessing {
		return it, &domain.Error{Kind: domain.KindTooEarly, Code: "payment_processing", RetryAfter: time.Second,
			Message: "The payment is still processing; try again shortly."}
	}
	if it.Payment == nil {
		return it, notFound("payment for payment_intent", intentID, "intentId")
	}
	return it, nil
}

// Process charges a confirmed intent and records the outcome. It is the
// worker's job, safe to run again after a crash anywhere: the charge is
// keyed by the intent id and the outcome is a conditional transition.
func (s *Service) Process(ctx context.Context, intentID string) (worker.Outcome, error) {
	it, err := s.store.GetIntent(ctx, intentID)
	if errors.Is(err, domain.ErrNotFound) {
		return worker.Done, nil
	}
	if err != nil {
		return worker.NotReady, err
	}
	switch it.Status {
	case domain.IntentProcessing:
	case domain.IntentRequiresConfirmation:
		return worker.NotReady, nil // queued by a confirm still on its way
	default:
		// Processed already, perhaps by a worker that died before
		// recording the event.
		return s.done(ctx, it)
	}
	ch, err := s.prov.Charge(ctx, provider.ChargeRequest{
		Key: intentID, PaymentID: domain.PaymentIDFor(intentID), Amount: it.Amount, Currency: it.Currency,
		Intent: true, PaymentMethod: it.PaymentMethodID, ForceFailure: it.ForceFailure,
	})
	if err != nil {
		return worker.NotReady, err
	}
	if s.hooks.AfterCharge != nil {
		s.hooks.AfterCharge()
	}
	p := domain.IntentPayment{ID: ch.PaymentID, AuthCode: authCode(ch.PaymentID),
		ReceiptURL: "https://example.com/receipt/" + ch.PaymentID}
	var action domain.Action
	change := domain.IntentChange{Payment: &p}
	switch {
	case !ch.Succeeded:
		action, p.Status = domain.ActionFail, domain.PaymentFailed
		change.LastPaymentError = &domain.PaymentError{Type: "card_error", Code: ch.FailureCode, Message: ch.FailureMessage}
	case it.CaptureMethod == domain.CaptureManual:
		action, p.Status = domain.ActionAuthorize, domain.PaymentRequiresCapture
	default:
		action, p.Status = domain.ActionSucceed, domain.PaymentSucceeded
		p.CapturedAmount, p.Refundable = it.Amount, it.Amount
		change.AmountReceived = &it.Amount
	}
	fresh, ok, err := s.store.TransitionIntent(ctx, domain.IntentProcessing, it.Next(action, change, s.clock(), nil))
	if err != nil {
		return worker.NotReady, err
	}
	if ok {
		if err := s.recordLast(ctx, fresh); err != nil {
			return worker.NotReady, err
		}
		return worker.Done, nil
	}
	// Lost: another worker recorded the same ledger outcome first, and may
	// have died before its event.
	if it, err = s.store.GetIntent(ctx, intentID); err != nil {
		return worker.NotReady, err
	}
	return s.done(ctx, it)
}

// done records the events of an intent another attempt processed, and ends
// the job once they are.
func (s *Service) done(ctx context.Context, it domain.Intent) (worker.Outcome, error) {
	if err := s.recordAll(ctx, it); err != nil {
		return worker.NotReady, err
	}
	return worker.Done, nil
}

// authCode derives a stable six-character authorization code.
func authCode(paymentID string) string {
	h := sha256.Sum256([]byte(paymentID))
	return strings.ToUpper(hex.EncodeToString(h[:3]))
}

// Refund gives back part or all of a captured payment. The refund is
// recorded as pending first, with the amount decided once; the balance is
// then taken in one guarded update keyed by the refund id, so neither a
// retry nor a concurrent refund can take more than was captured. The refund
// then succeeds, or fails if the balance no longer covers it; each of its
// changes has its event, recorded again by a retry that finds the refund.
func (s *Service) Refund(ctx context.Context, requestID string, in domain.NewRefund) (domain.Refund, error) {
	if err := in.Validate(); err != nil {
		return domain.Refund{}, err
	}
	intentID, ok := domain.IntentIDFor(in.PaymentID)
	if !ok {
		return domain.Refund{}, notFound("payment", in.PaymentID, "payment_id")
	}
	refundID := "re_" + requestID
	r, err := s.store.GetRefund(ctx, refundID)
	switch {
	case err == nil: // an earlier attempt recorded it
		if err := s.recordRefund(ctx, r); err != nil || r.Status != domain.RefundPending {
			return r, errors.Join(err, s.refundFailed(ctx, r))
		}
	case errors.Is(err, domain.ErrNotFound):
		it, err := s.store.GetIntent(ctx, intentID)
		if errors.Is(err, domain.ErrNotFound) || (err == nil && it.Payment == nil) {
			return r, notFound("payment", in.PaymentID, "payment_id")
		}
		if err != nil {
			return r, err
		}
		amount, err := refundAmount(it, in.Amount)
		if err != nil {
			return r, err
		}
		now := s.clock()
		r = domain.Refund{ID: refundID, PaymentID: in.PaymentID, IntentID: intentID, Amount: amount,
			Reason: in.Reason, Status: domain.RefundPending, CreatedAt: now, UpdatedAt: now}
		created, err := s.store.InsertRefund(ctx, r)
		if err != nil {
			return r, err
		}
		if !created {
			// A concurrent attempt inserted it first, maybe with another
			// amount (the balance moved in between): its amount is final.
			if r, err = s.store.GetRefund(ctx, refundID); err != nil {
				return r, err
			}
			if r.Status != domain.RefundPending {
				return r, errors.Join(s.recordRefund(ctx, r), s.refundFailed(ctx, r))
			}
		}
		// Its refund.created event is recorded with the outcome's, in one
		// command; a retry that finds the refund pending records it then.
		call(s.hooks.AfterTransition)
	default:
		return r, err
	}

	applyErr := s.applyRefund(ctx, r)
	status := domain.RefundSucceeded
	var refused *domain.Error
	switch {
	case errors.As(applyErr, &refused):
		status = domain.RefundFailed
	case applyErr != nil:
		return r, applyErr
	}
	now := s.clock()
	finished, err := s.store.FinishRefund(ctx, refundID, status, now)
	if err != nil {
		return r, err
	}
	if finished {
		r.Status, r.UpdatedAt = status, now
		call(s.hooks.AfterTransition)
	} else if r, err = s.store.GetRefund(ctx, refundID); err != nil {
		return r, err
	}
	if err := s.recordRefund(ctx, r); err != nil {
		return r, err
	}
	if r.Status == domain.RefundFailed && applyErr != nil {
		return r, applyErr
	}
	return r, s.refundFailed(ctx, r)
}

// recordRefund records the events of r's changes so far.
func (s *Service) recordRefund(ctx context.Context, r domain.Refund) error {
	return s.events.Record(ctx, domain.RefundEvents(r, domain.RequestFrom(ctx))...)
}

// refundFailed is the error of a failed refund, nil for any other: why
// the payment's balance does not cover it. An attempt that finds the refund
// failed by an earlier one answers as that one did.
func (s *Service) refundFailed(ctx context.Context, r domain.Refund) error {
	if r.Status != domain.RefundFailed {
		return nil
	}
	it, err := s.store.GetIntent(ctx, r.IntentID)
	if err != nil {
		return err
	}
	if _, err := refundAmount(it, &r.Amount); err != nil {
		return err
	}
	return &domain.Error{Kind: domain.KindInvalidRequest, Code: domain.CodeAmountTooLarge, Param: "amount",
		Message: "Refund amount is greater than what remains to refund on this payment."}
}

// applyRefund takes r's amount off the balance once. When the guard
// refuses because a concurrent refund changed the balance, it looks again:
// this refund may have been applied by an earlier attempt, or may still
// fit; when it no longer fits, it returns why (a *domain.Error).
func (s *Service) applyRefund(ctx context.Context, r domain.Refund) error {
	for {
		applied, err := s.store.ApplyRefund(ctx, r.IntentID, r.ID, r.Amount, s.clock())
		if err != nil || applied {
			return err
		}
		it, err := s.store.GetIntent(ctx, r.IntentID)
		if err != nil {
			return err
		}
		if slices.Contains(it.RefundIDs, r.ID) {
			return nil
		}
		if _, err := refundAmount(it, &r.Amount); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// refundAmount decides how much to refund, refusing more than remains.
func refundAmount(it domain.Intent, want *int64) (int64, error) {
	p := it.Payment
	if p == nil || p.Status != domain.PaymentSucceeded {
		return 0, &domain.Error{Kind: domain.KindInvalidRequest, Code: "payment_not_captured", Param: "payment_id",
			Message: "Only a captured payment can be refunded."}
	}
	if p.Refundable <= 0 {
		return 0, &domain.Error{Kind: domain.KindInvalidRequest, Code: domain.CodeChargeAlreadyRefunded,
			Message: "The payment " + p.ID + " has already been refunded in full."}
	}
	if want == nil {
		return p.Refundable, nil
	}
	if *want > p.Refundable {
		return 0, &domain.Error{Kind: domain.KindInvalidRequest, Code: domain.CodeAmountTooLarge, Param: "amount",
			Message: "Refund amount is greater than what remains to refund on this payment."}
	}
	return *want, nil
}

// GetRefund returns one refund.
func (s *Service) GetRefund(ctx context.Context, id string) (domain.Refund, error) {
	r, err := s.store.GetRefund(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return r, notFound("refund", id, "id")
	}
	return r, err
}
