package drill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"regexp"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	payclient "github.com/reliabledemo/payments/client"
)

// Report is what a run did and found.
type Report struct {
	RunID       string
	Seed        uint64
	Results     []Result // one per payment, in order; never started: OutcomeNotStarted
	Violations  []Violation
	Checked     bool // the MongoDB checks ran
	Interrupted bool
	Elapsed     time.Duration
}

// ErrUnreachable is returned when the service or MongoDB cannot be reached
// at all, before any payment was sent.
var ErrUnreachable = errors.New("unreachable")

// Run runs the drill: it sends cfg.N payments, prints a summary to stdout
// and the progress to stderr, checks the invariants in MongoDB and prints
// every violation. An error means the drill could not run or check at all;
// violations are in the report.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) (Report, error) {
	rep := Report{RunID: newRunID(), Seed: cfg.Seed}
	if err := cfg.Validate(); err != nil {
		return rep, err
	}
	c, err := newClient(cfg)
	if err != nil {
		return rep, err
	}
	defer c.http.CloseIdleConnections()
	if err := preflight(ctx, c, stderr); err != nil {
		return rep, err
	}
	var hooks *consumer
	if cfg.Webhooks {
		var err error
		if hooks, err = startConsumer(); err != nil {
			return rep, err
		}
		defer hooks.close()
		if err := hooks.register(ctx, c.api, rep.RunID, cfg.WebhookFaults); err != nil {
			return rep, err
		}
		defer hooks.unregister(context.WithoutCancel(ctx), c.api)
		// Every instance reloads its endpoints once a second: wait for the
		// consumer to be known everywhere before the first payment.
		sleep(ctx, endpointSettle)
	}
	var db *mongo.Database
	if cfg.MongoURI == "" {
		fmt.Fprintln(stderr, "drill: -mongodb-uri is empty: the MongoDB invariant checks are skipped")
	} else {
		mc, err := connect(ctx, cfg.MongoURI)
		if err != nil {
			return rep, err
		}
		defer func() { _ = mc.Disconnect(context.WithoutCancel(ctx)) }()
		db = mc.Database(cfg.DB)
	}

	t0 := time.Now()
	c.t0 = t0
	rep.Results = plan(cfg, rep.RunID)
	d := &driver{c: c, refunds: cfg.Refunds, runCtx: ctx}
	// Payments never started because -for ran out are not part of the run.
	rep.Results = rep.Results[:d.drive(ctx, cfg, rep.Results, stderr)]
	rep.Elapsed = time.Since(t0)
	rep.Interrupted = ctx.Err() != nil
	writeSummary(stdout, rep)

	rep.Violations = clientViolations(rep.Results)
	if db != nil {
		// The checks run even after an interrupt, on the payments that
		// finished, so they get a context of their own.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if abandoned(rep.Results) > 0 && cfg.RecoveryWait > 0 && ctx.Err() == nil {
			awaitRecovery(ctx, db, runPrefix(rep.RunID), cfg.RecoveryWait, stderr)
		}
		if hooks != nil && ctx.Err() == nil {
			awaitDeliveries(ctx, db, runPrefix(rep.RunID), rep.Results, hooks, cfg.WebhookWait, stderr)
		}
		snap, err := load(cctx, db, runPrefix(rep.RunID), rep.Results)
		if err != nil {
			return rep, fmt.Errorf("read MongoDB for the checks: %w", err)
		}
		rep.Violations = append(rep.Violations, evaluate(snap, rep.Results, time.Now())...)
		if hooks != nil {
			v := hooks.view()
			forged, err := forgedSent(cctx, db, hooks.endpointID)
			if err != nil {
				return rep, fmt.Errorf("read the webhook deliveries: %w", err)
			}
			fmt.Fprintf(stdout, "webhooks          %d deliveries received: %d events, %d duplicates, %d stale, %d rejected (the service recorded %d forged)\n",
				v.deliveries, len(v.seen), v.duplicates, v.stale, v.rejected, forged)
			f := found{}
			checkWebhooks(f, snap, &v, forged)
			rep.Violations = append(rep.Violations, f.list()...)
		}
		rep.Checked = true
	}
	writeVerdict(stdout, rep)
	return rep, nil
}

// newRunID returns drill-<8 hex>, random even when the seed is fixed, so
// that a repeated run never reuses another run's keys.
func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "drill-" + hex.EncodeToString(b[:])
}

// runPrefix starts every id and key of the run: drill-<run>-<i>-….
func runPrefix(runID string) string { return runID + "-" }

// plan draws every payment up front from the seed, so a seed reproduces the
// same mix whatever the scheduling.
func plan(cfg Config, runID string) []Result {
	out := make([]Result, cfg.N)
	for i := range out {
		r := &out[i]
		r.rnd = mrand.New(mrand.NewPCG(cfg.Seed, uint64(i)))
		r.ID, r.start = runPrefix(runID)+strconv.Itoa(i), i%len(cfg.URLs)
		r.Kind, r.Amount = KindOrder, 100+r.rnd.Int64N(50000-100+1)
		r.Abandon = cfg.Abandon > 0 && r.rnd.Float64() < cfg.Abandon
		if r.rnd.Float64() < cfg.Mix {
			r.Kind, r.PaymentMethod = KindIntent, "pm_fake_visa"
			if r.rnd.IntN(10) == 0 {
				r.PaymentMethod = "pm_fake_declined"
			}
			r.Manual = r.rnd.IntN(5) == 0
		}
	}
	return out
}

// drive runs the payments, cfg.Concurrency at a time, each within its own
// deadline, until all are final or ctx ends. With cfg.For it stops starting
// new ones once that time is up, and finishes those in flight. It returns
// how many payments it started, or all of them if ctx ended: those are
// reported as interrupted or not started.
func (d *driver) drive(ctx context.Context, cfg Config, results []Result, stderr io.Writer) int {
	var bar *progress
	if cfg.Progress {
		bar = newProgress(stderr, len(results))
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(cfg.Concurrency, len(results)) {
		wg.Go(func() {
			for i := range jobs {
				r := &results[i]
				pctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
				if r.Kind == KindOrder {
					d.order(pctx, r)
				} else {
					d.intent(pctx, r)
				}
				cancel()
				r.done = time.Since(d.c.t0)
				bar.done()
			}
		})
	}
	var timeUp <-chan time.Time
	if cfg.For > 0 {
		t := time.NewTimer(cfg.For)
		defer t.Stop()
		timeUp = t.C
	}
	started := len(results)
feed:
	for i := range results {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		case <-timeUp:
			started = i
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	bar.stop(started, ctx.Err() != nil)
	return started
}

// preflight makes sure at least one base URL answers GET /health at all,
// whatever the status, trying for a few seconds in case the service is
// still starting.
func preflight(ctx context.Context, c *client, stderr io.Writer) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var errs []error
		for _, u := range c.urls {
			hc, err := payclient.New(u, payclient.WithHTTPClient(c.http))
			if err != nil {
				return err
			}
			actx, cancel := context.WithTimeout(ctx, c.policy.AttemptTimeout)
			h, err := hc.Health(actx)
			cancel()
			var apiErr *payclient.Error
			switch {
			case err == nil && h.Status != "ok":
				fmt.Fprintf(stderr, "drill: %s/health answers %d (%s)\n", u, h.Response.StatusCode, h.Status)
				return nil
			case err == nil:
				return nil
			case errors.As(err, &apiErr):
				fmt.Fprintf(stderr, "drill: %s/health answers %d\n", u, apiErr.StatusCode)
				return nil
			}
			errs = append(errs, err)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("%w: no base URL answers GET /health: %w", ErrUnreachable, errors.Join(errs...))
		}
		sleep(ctx, 500*time.Millisecond)
	}
}

// connect opens a client on uri and makes sure the server answers.
func connect(ctx context.Context, uri string) (*mongo.Client, error) {
	mc, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return nil, fmt.Errorf("%w: MongoDB (-mongodb-uri): %w", ErrUnreachable, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := mc.Ping(pctx, nil); err != nil {
		_ = mc.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%w: MongoDB (-mongodb-uri): %w", ErrUnreachable, err)
	}
	return mc, nil
}

// abandoned counts the payments whose client gave up.
func abandoned(results []Result) int {
	n := 0
	for i := range results {
		if results[i].Outcome == OutcomeAbandoned {
			n++
		}
	}
	return n
}

// awaitRecovery waits, at most wait, until no idempotency key of the run is
// in progress any more: the service's completer has finished what the
// abandoning clients left. The checks that follow say whether it did.
func awaitRecovery(ctx context.Context, db *mongo.Database, prefix string, wait time.Duration, stderr io.Writer) {
	deadline := time.Now().Add(wait)
	filter := bson.M{"key": bson.M{"$regex": "^" + regexp.QuoteMeta(prefix)}, "status": keyInProgress}
	for {
		n, err := db.Collection("idempotencykeys").CountDocuments(ctx, filter)
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) || !sleep(ctx, 500*time.Millisecond) {
			fmt.Fprintf(stderr, "drill: %d keys still in progress after the recovery wait (%s)\n", n, wait)
			return
		}
	}
}
