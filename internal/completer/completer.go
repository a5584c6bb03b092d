// Package completer finishes operations whose clients gave up. A request
// that died, or whose client stopped retrying, leaves its idempotency record
// in progress: an order charged but not stored, a refund pending. The
// completer finds such records once their lease has run out and their
// client has stayed away for a while, and sends each stored request again,
// exactly as the client's retry would. The idempotency layer then takes the
// record over with a compare-and-swap, so of several instances (or an
// instance and a returning client) exactly one finishes it, under the
// record's resource id, and the response is stored for the client's next
// retry to replay.
package completer

import (
	"context"
	"log/slog"
	"time"

	"github.com/reliabledemo/payments/internal/idempotency"
	"github.com/reliabledemo/payments/internal/periodic"
)

// Finder lists abandoned records.
type Finder interface {
	// Abandoned returns up to limit in-progress records whose lease ended
	// at or before before.
	Abandoned(ctx context.Context, before time.Time, limit int) ([]idempotency.Record, error)
}

// Resender sends a record's stored request again, as its client would, and
// returns the status the client would have seen.
type Resender func(ctx context.Context, rec idempotency.Record) (status int, err error)

// Config holds the completer's settings.
type Config struct {
	// After is how long after its lease ran out a record is left to its
	// client's own retry before the completer finishes it.
	After time.Duration
	Every time.Duration // how often to look
	Batch int           // records per look; 0 means 50
	// Timeout bounds one re-sent request; it must exceed the slowest
	// provider charge.
	Timeout time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
	// Recovered, if set, is called for each request the completer
	// finished, for metrics.
	Recovered func()
}

// Completer finishes abandoned operations.
type Completer struct {
	find   Finder
	resend Resender
	cfg    Config
}

// New returns a completer.
func New(find Finder, resend Resender, cfg Config) *Completer {
	if cfg.Batch <= 0 {
		cfg.Batch = 50
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Completer{find: find, resend: resend, cfg: cfg}
}

// Run looks for abandoned records every Every until ctx ends. A request
// being re-sent when ctx ends is finished first: it holds a lease that
// another instance would otherwise have to wait out.
func (c *Completer) Run(ctx context.Context) {
	periodic.Run(ctx, c.cfg.Every, c.cfg.Logger, "completer: could not list abandoned requests", func(ctx context.Context) error {
		_, err := c.Once(ctx)
		return err
	})
}

// Once finishes the records abandoned now and returns how many it
// finished. A record another instance or the client took first is skipped.
func (c *Completer) Once(ctx context.Context) (int, error) {
	recs, err := c.find.Abandoned(ctx, c.cfg.Now().UTC().Add(-c.cfg.After), c.cfg.Batch)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, rec := range recs {
		if ctx.Err() != nil {
			break
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
		status, err := c.resend(rctx, rec)
		cancel()
		switch {
		case err != nil:
			c.cfg.Logger.Warn("completer: request not re-sent", "record", rec.ID, "err", err)
		case status == 409:
			// Someone else holds it now: the client came back, or another
			// instance's completer was first.
		case status >= 500 && status != 502:
			// Not finished (the store or the provider failed); the record
			// is released and comes round again. A 502 is a declined
			// payment, an outcome like any other.
			c.cfg.Logger.Warn("completer: abandoned request not finished yet", "record", rec.ID, "status", status)
		default:
			done++
			if c.cfg.Recovered != nil {
				c.cfg.Recovered()
			}
			c.cfg.Logger.Info("completer: finished an abandoned request", "record", rec.ID,
				"method", rec.Scope.Method, "path", rec.Scope.Path, "resource", rec.ResourceID, "status", status)
		}
	}
	return done, nil
}
