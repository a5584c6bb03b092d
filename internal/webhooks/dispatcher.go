package webhooks

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/periodic"
)

// Dispatcher fans events out to endpoints and delivers them. Enqueue is
// called by the events publisher after every recorded event; Work runs the
// delivery worker; Run keeps the caches fresh.
type Dispatcher struct {
	store  Store
	events Events
	cfg    Config
	client *http.Client

	mu        sync.RWMutex // guards endpoints, faults and rnd
	endpoints []domain.WebhookEndpoint
	faults    domain.WebhookFaults
	rnd       interface{ Float64() float64 }
}

// New returns a dispatcher. Call Refresh (or Run) before Enqueue, or it
// knows no endpoint yet.
func New(store Store, events Events, cfg Config) *Dispatcher {
	cfg = cfg.withDefaults()
	return &Dispatcher{store: store, events: events, cfg: cfg, rnd: cfg.Rand,
		client: newHTTPClient(cfg.Timeout, cfg.AllowAllHosts)}
}

// Refresh reloads the endpoints and the delivery faults from the store.
func (d *Dispatcher) Refresh(ctx context.Context) error {
	eps, err := d.store.ListWebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	f, err := d.store.LoadWebhookFaults(ctx)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.endpoints, d.faults = eps, f
	d.mu.Unlock()
	return nil
}

// Run refreshes the caches every Config.Refresh until ctx ends, so that an
// endpoint created, or faults set, through another instance take effect
// here within one interval.
func (d *Dispatcher) Run(ctx context.Context) {
	periodic.Run(ctx, d.cfg.Refresh, d.cfg.Logger, "webhooks: refresh failed", d.Refresh)
}

// matching returns the cached endpoints subscribed to t.
func (d *Dispatcher) matching(t domain.EventType) []domain.WebhookEndpoint {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []domain.WebhookEndpoint
	for _, e := range d.endpoints {
		if e.Matches(t) {
			out = append(out, e)
		}
	}
	return out
}

// Enqueue queues ev for every endpoint subscribed to its type. It is
// idempotent: each delivery's id derives from (event, endpoint), so calling
// it again (the publisher re-drives an event after a crash) finds the
// deliveries queued before. When no endpoint matches it sends no command at
// all: it reads the in-memory cache only.
func (d *Dispatcher) Enqueue(ctx context.Context, ev domain.Event) error {
	eps := d.matching(ev.Type)
	if len(eps) == 0 {
		return nil
	}
	return d.queue(ctx, ev, ev.ID, false, eps)
}

// queue records and queues one delivery of ev per endpoint, with ids
// derived from source.
func (d *Dispatcher) queue(ctx context.Context, ev domain.Event, source string, redelivery bool, eps []domain.WebhookEndpoint) error {
	now := d.cfg.Now().UTC()
	var errs []error
	for _, ep := range eps {
		del := domain.WebhookDelivery{ID: domain.DeliveryID(source, ep.ID), EventID: ev.ID, EventType: ev.Type,
			EndpointID: ep.ID, Redelivery: redelivery, Status: domain.DeliveryPending, Created: now}
		if err := d.store.QueueDelivery(ctx, del, now.Add(d.reorderDelay())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reorderDelay is when a new delivery becomes due, after now: a random
// share of the reorder window. Deliveries queued in one order are thus
// released in another, and since the due time is stored, the shuffle
// survives a crash.
func (d *Dispatcher) reorderDelay() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.faults.ReorderWindowMs == 0 {
		return 0
	}
	return time.Duration(d.rnd.Float64() * float64(time.Duration(d.faults.ReorderWindowMs)*time.Millisecond))
}

// CreateEndpoint creates an endpoint with a new secret. Its id derives from
// resourceID (the idempotency layer's), so a request taken over after a
// crash returns the endpoint, and secret, that its first attempt stored.
func (d *Dispatcher) CreateEndpoint(ctx context.Context, resourceID string, in domain.NewWebhookEndpoint) (domain.WebhookEndpoint, error) {
	e, err := d.store.InsertWebhookEndpoint(ctx, domain.WebhookEndpoint{
		ID: domain.WebhookEndpointIDPrefix + resourceID, URL: in.URL, EnabledEvents: in.EnabledEvents,
		Secret: NewSecret(), Created: d.cfg.Now().UTC().Truncate(time.Millisecond),
	})
	if err != nil {
		return e, err
	}
	// This instance's own change counts at once; others see it within
	// one refresh.
	d.refreshNow(ctx)
	return e, nil
}

// Endpoint returns one endpoint.
func (d *Dispatcher) Endpoint(ctx context.Context, id string) (domain.WebhookEndpoint, error) {
	e, err := d.store.GetWebhookEndpoint(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return e, endpointMissing(id)
	}
	return e, err
}

// Endpoints returns every endpoint.
func (d *Dispatcher) Endpoints(ctx context.Context) ([]domain.WebhookEndpoint, error) {
	return d.store.ListWebhookEndpoints(ctx)
}

// DeleteEndpoint deletes an endpoint. Its deliveries still pending are
// given up (failed, endpoint_deleted) when next due.
func (d *Dispatcher) DeleteEndpoint(ctx context.Context, id string) error {
	ok, err := d.store.DeleteWebhookEndpoint(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return endpointMissing(id)
	}
	d.refreshNow(ctx)
	return nil
}

func (d *Dispatcher) refreshNow(ctx context.Context) {
	if err := d.Refresh(ctx); err != nil {
		d.cfg.Logger.Warn("webhooks: refresh after a change failed; the next one will catch up", "err", err)
	}
}

// Deliveries lists an endpoint's deliveries, newest first.
func (d *Dispatcher) Deliveries(ctx context.Context, f domain.DeliveryFilter) ([]domain.WebhookDelivery, bool, error) {
	if _, err := d.Endpoint(ctx, f.EndpointID); err != nil {
		return nil, false, err
	}
	if f.Limit == 0 {
		f.Limit = domain.DefaultListLimit
	}
	if f.Limit < 1 || f.Limit > domain.MaxListLimit {
		return nil, false, domain.Invalid("limit", "invalid_limit", "limit must be an integer between 1 and %d.", domain.MaxListLimit)
	}
	return d.store.ListDeliveries(ctx, f)
}

// Redeliver queues ev again, as a new delivery, for every endpoint now
// subscribed to its type, and returns those deliveries. Their ids derive
// from resourceID, so a retried redeliver request queues nothing twice. The
// endpoints are read from the store, not the cache: this is a deliberate
// act, and should see an endpoint created a moment ago elsewhere.
func (d *Dispatcher) Redeliver(ctx context.Context, resourceID, eventID string) ([]domain.WebhookDelivery, error) {
	ev, err := d.events.GetEvent(ctx, eventID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, &domain.Error{Kind: domain.KindNotFound, Code: "resource_missing", Param: "id", Message: "No such event: '" + eventID + "'."}
	}
	if err != nil {
		return nil, err
	}
	all, err := d.store.ListWebhookEndpoints(ctx)
	if err != nil {
		return nil, err
	}
	var eps []domain.WebhookEndpoint
	for _, e := range all {
		if e.Matches(ev.Type) {
			eps = append(eps, e)
		}
	}
	if err := d.queue(ctx, ev, resourceID, true, eps); err != nil {
		return nil, err
	}
	out := make([]domain.WebhookDelivery, 0, len(eps))
	for _, e := range eps {
		del, err := d.store.GetDelivery(ctx, domain.DeliveryID(resourceID, e.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, del)
	}
	return out, nil
}

// Faults returns the delivery faults in force on this instance.
func (d *Dispatcher) Faults() domain.WebhookFaults {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.faults
}

// UpdateFaults applies a partial update with a compare-and-swap in the
// store and returns the result, in force here at once.
func (d *Dispatcher) UpdateFaults(ctx context.Context, p domain.WebhookFaultsPatch) (domain.WebhookFaults, error) {
	f, err := d.store.UpdateWebhookFaults(ctx, func(cur domain.WebhookFaults) (domain.WebhookFaults, error) { return cur.Apply(p) })
	if err != nil {
		return f, err
	}
	d.mu.Lock()
	d.faults = f
	d.mu.Unlock()
	return f, nil
}

func endpointMissing(id string) error {
	return &domain.Error{Kind: domain.KindNotFound, Code: "resource_missing", Param: "id", Message: "No such webhook endpoint: '" + id + "'."}
}
