// Package events records state changes as events and lists them.
//
// A change and its event are two writes to two collections, and the store
// has no multi-document transactions, so exactly one event per change is
// built from three properties instead:
//
//   - an event's id derives from (object id, sequence), so recording it
//     again meets a duplicate key and keeps the first record;
//   - an event is recorded after its change, by the code that made the
//     change, before it reports success (the response is stored, the job
//     is deleted);
//   - a crash in between leaves work that something finishes anyway: an
//     idempotency record in progress (the client's retry, or the completer)
//     or a job (the worker), and that path records the event again. A
//     payment intent keeps the events of its changes in its own document,
//     written with each change, so the snapshot is there even after a later
//     change overwrote the intent.
//
// Recording an event also hands it to the webhook fan-out, which is
// idempotent in the same way.
package events

import (
	"context"
	"errors"

	"github.com/reliabledemo/payments/internal/domain"
)

// Store is what the recorder needs from persistence.
type Store interface {
	InsertEvents(ctx context.Context, evs []domain.Event) (created []bool, err error)
	GetEvent(ctx context.Context, id string) (domain.Event, error)
	ListEvents(ctx context.Context, f domain.EventFilter) ([]domain.Event, bool, error)
}

// Fanout queues an event's webhook deliveries. It must be idempotent: it
// runs again whenever a recording is repeated.
type Fanout interface {
	Enqueue(ctx context.Context, e domain.Event) error
}

// Log records and reads events.
type Log struct {
	store  Store
	fanout Fanout
	// recorded, if set, is told of each event recorded for the first time.
	recorded func(domain.Event)
}

// New returns an event log; fanout may be nil (no webhooks).
func New(store Store, fanout Fanout, recorded func(domain.Event)) *Log {
	return &Log{store: store, fanout: fanout, recorded: recorded}
}

// Record records each event, unless recorded already, and queues its
// webhook deliveries. It is safe to repeat with the same events: each one
// is stored once, and queued once per endpoint.
func (l *Log) Record(ctx context.Context, evs ...domain.Event) error {
	created, err := l.store.InsertEvents(ctx, evs)
	if err != nil {
		return err
	}
	for i, e := range evs {
		if created[i] && l.recorded != nil {
			l.recorded(e)
		}
		// Also when the event was there: the attempt that recorded it may
		// have died before queueing its deliveries.
		if l.fanout != nil {
			if err := l.fanout.Enqueue(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// Get returns one event.
func (l *Log) Get(ctx context.Context, id string) (domain.Event, error) {
	e, err := l.store.GetEvent(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return e, &domain.Error{Kind: domain.KindNotFound, Code: "resource_missing", Param: "id", Message: "No such event: '" + id + "'."}
	}
	return e, err
}

// List returns events newest first, validating the filter.
func (l *Log) List(ctx context.Context, f domain.EventFilter) ([]domain.Event, bool, error) {
	if f.Limit == 0 {
		f.Limit = domain.DefaultListLimit
	}
	if f.Limit < 1 || f.Limit > domain.MaxListLimit {
		return nil, false, domain.Invalid("limit", "invalid_limit", "limit must be an integer between 1 and %d.", domain.MaxListLimit)
	}
	if f.Type != "" && !f.Type.Valid() {
		return nil, false, domain.Invalid("type", "invalid_type", "type must be an event type, such as payment_intent.succeeded.")
	}
	evs, more, err := l.store.ListEvents(ctx, f)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, false, domain.Invalid("starting_after", "invalid_cursor", "starting_after must be an event id.")
	}
	return evs, more, err
}
