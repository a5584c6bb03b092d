package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/view"
)

// Work delivers due deliveries until ctx ends, then finishes those in hand.
//
// Like the intent worker (internal/worker), one loop claims and each
// delivery runs in its own goroutine while a slot is free, so an idle
// instance sends one claim per Poll. It is not that worker because a
// delivery is rescheduled to a time of its own (its backoff), and its lease
// depends on the faults in force.
func (d *Dispatcher) Work(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, d.cfg.Concurrency)
	for {
		select {
		case <-ctx.Done():
			return
		case slots <- struct{}{}:
		}
		owner := domain.NewID("whw_")
		now := d.cfg.Now().UTC()
		lease := d.lease()
		id, err := d.store.ClaimDelivery(ctx, owner, now, now.Add(lease))
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Warn("webhooks: claim failed", "err", err)
		}
		if id == "" {
			<-slots
			select {
			case <-ctx.Done():
				return
			case <-time.After(d.cfg.Poll):
			}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			// The delivery is ours until the lease ends: finish it even if
			// shutdown begins, but not past the lease.
			jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lease)
			defer cancel()
			if err := d.deliver(jctx, owner, id); err != nil {
				d.cfg.Logger.Warn("webhooks: delivery step failed; it is retried after its lease", "delivery", id, "err", err)
			}
		})
	}
}

// lease is how long a claimed delivery is trusted to its worker: the
// faults' delay, and three requests (forged copy, original, duplicate),
// plus room for the store's writes.
func (d *Dispatcher) lease() time.Duration {
	f := d.Faults()
	return time.Duration(f.DelayMs+f.JitterMs)*time.Millisecond + 3*d.cfg.Timeout + 5*time.Second
}

// deliver makes one attempt at a claimed delivery and settles it. Every
// step is safe to repeat: the process may die between any two, and the
// lease then hands the delivery to another worker, which starts here again.
func (d *Dispatcher) deliver(ctx context.Context, owner, id string) error {
	rec, err := d.store.GetDelivery(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && rec.Status.Final()) {
		// Settled by a worker that died before dequeuing it, or queued
		// again by an enqueue that raced with settling.
		_, err = d.store.DeleteQueuedDelivery(ctx, id, owner)
		return err
	}
	if err != nil {
		return err
	}
	now := d.cfg.Now().UTC()
	if len(rec.Attempts) > 0 && rec.NextAttemptAt.After(now) {
		// The attempt was recorded but the worker died before handing the
		// delivery back: it is not due yet.
		_, err = d.store.RescheduleQueuedDelivery(ctx, id, owner, rec.NextAttemptAt)
		return err
	}
	a, err := d.attempt(ctx, rec)
	if err != nil {
		return err
	}
	status, next := domain.DeliveryPending, time.Time{}
	n := len(rec.Attempts) + 1
	switch {
	case a.Succeeded():
		status = domain.DeliverySucceeded
	case n >= d.cfg.MaxAttempts || a.Error == domain.AttemptEndpointDeleted || a.Error == domain.AttemptEventMissing:
		status = domain.DeliveryFailed
	default:
		next = d.cfg.Now().UTC().Add(Backoff(n, d.cfg.MaxAttempts, d.cfg.RetryWindow, d.float()))
	}
	ok, err := d.store.RecordAttempt(ctx, id, len(rec.Attempts), a, status, next, d.cfg.Now().UTC())
	if err != nil || !ok {
		return err // !ok: another worker recorded this attempt; it settles the queue
	}
	d.observe(status)
	if status.Final() {
		_, err = d.store.DeleteQueuedDelivery(ctx, id, owner)
	} else {
		_, err = d.store.RescheduleQueuedDelivery(ctx, id, owner, next)
	}
	return err
}

// attempt sends the delivery once, with the faults in force, and returns
// what happened. An error means the attempt could not be made (the store
// failed) and is not recorded.
func (d *Dispatcher) attempt(ctx context.Context, rec domain.WebhookDelivery) (domain.DeliveryAttempt, error) {
	ep, err := d.endpoint(ctx, rec.EndpointID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.DeliveryAttempt{At: d.cfg.Now().UTC(), Error: domain.AttemptEndpointDeleted}, nil
	}
	if err != nil {
		return domain.DeliveryAttempt{}, err
	}
	ev, err := d.events.GetEvent(ctx, rec.EventID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.DeliveryAttempt{At: d.cfg.Now().UTC(), Error: domain.AttemptEventMissing}, nil
	}
	if err != nil {
		return domain.DeliveryAttempt{}, err
	}
	body, err := json.Marshal(view.FromEvent(ev))
	if err != nil {
		return domain.DeliveryAttempt{}, err
	}
	r := d.roll()
	if r.delay > 0 {
		select {
		case <-ctx.Done():
			return domain.DeliveryAttempt{}, ctx.Err()
		case <-time.After(r.delay):
		}
	}
	a := domain.DeliveryAttempt{At: d.cfg.Now().UTC(), Simulated: r.fail, Duplicated: r.duplicate && !r.fail, Forged: r.forged && !r.fail}
	if r.fail {
		// As if the endpoint had not answered in time: nothing is sent,
		// and the retry path runs.
		a.Error = domain.AttemptSimulatedTimeout
		return a, nil
	}
	// The webhook-id is the event id, the same on every attempt and
	// redelivery of it, as the Standard Webhooks spec asks, so consumers
	// deduplicate by it.
	h, err := SignedHeaders(ep.Secret, ev.ID, a.At, body)
	if err != nil {
		return domain.DeliveryAttempt{}, err
	}
	if a.Forged {
		// Sent first, so that a consumer that deduplicates before it
		// verifies would be fooled into dropping the genuine one.
		post(ctx, d.client, ep.URL, forgedHeaders(h, ev.ID, a.At, body), body)
	}
	start := time.Now()
	a.StatusCode, a.Error = post(ctx, d.client, ep.URL, h, body)
	a.Latency = time.Since(start)
	if a.Duplicated {
		post(ctx, d.client, ep.URL, h, body)
	}
	return a, nil
}

// endpoint returns an endpoint from the cache, or from the store if the
// cache does not know it yet (created through another instance a moment
// ago). The cache may still hold an endpoint deleted elsewhere since the
// last refresh: one more attempt goes to it, as it would have a second
// earlier.
func (d *Dispatcher) endpoint(ctx context.Context, id string) (domain.WebhookEndpoint, error) {
	d.mu.RLock()
	for _, e := range d.endpoints {
		if e.ID == id {
			d.mu.RUnlock()
			return e, nil
		}
	}
	d.mu.RUnlock()
	return d.store.GetWebhookEndpoint(ctx, id)
}

// roll is the faults drawn for one attempt.
type roll struct {
	delay                   time.Duration
	fail, duplicate, forged bool
}

func (d *Dispatcher) roll() roll {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.faults
	r := roll{delay: time.Duration(f.DelayMs) * time.Millisecond}
	if f.JitterMs > 0 {
		r.delay += time.Duration(d.rnd.Float64() * float64(time.Duration(f.JitterMs)*time.Millisecond))
	}
	r.fail = f.FailRate > 0 && d.rnd.Float64() < f.FailRate
	r.duplicate = f.DuplicateRate > 0 && d.rnd.Float64() < f.DuplicateRate
	r.forged = f.ForgedRate > 0 && d.rnd.Float64() < f.ForgedRate
	return r
}

func (d *Dispatcher) float() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rnd.Float64()
}

func (d *Dispatcher) observe(s domain.DeliveryStatus) {
	if d.cfg.Observe == nil {
		return
	}
	switch s {
	case domain.DeliverySucceeded:
		d.cfg.Observe(OutcomeSucceeded)
	case domain.DeliveryFailed:
		d.cfg.Observe(OutcomeFailed)
	default:
		d.cfg.Observe(OutcomeRetried)
	}
}
