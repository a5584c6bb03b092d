// Package orders creates orders and charges them through the payment
// provider, in steps that a retry can repeat safely after a crash at any
// point: the order id is fixed by the caller, the charge is keyed by it, and
// the order is stored once, in its final state, from the charge's outcome.
package orders

import (
	"context"
	"errors"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/provider"
)

// Store is what the service needs from persistence.
type Store interface {
	InsertOrder(ctx context.Context, o domain.Order) (created bool, err error)
	GetOrder(ctx context.Context, id string) (domain.Order, error)
	SettleOrder(ctx context.Context, id string, status domain.OrderStatus, p *domain.Payment, now time.Time) (bool, error)
	ListOrders(ctx context.Context, f domain.OrderFilter) ([]domain.Order, bool, error)
}

// Charger charges money once per charge key.
type Charger interface {
	Charge(ctx context.Context, req provider.ChargeRequest) (provider.Charge, error)
}

// Recorder records events; repeating a recording is harmless.
type Recorder interface {
	Record(ctx context.Context, evs ...domain.Event) error
}

// Hooks lets fault drills stop the process between steps. Nil fields are
// skipped; production wiring leaves them nil.
type Hooks struct {
	AfterCharge      func() // charged, order not stored
	AfterOrderInsert func() // order stored, its event not recorded
}

var _ domain.OrderService = (*Service)(nil)

// Service implements domain.OrderService.
type Service struct {
	store   Store
	charger Charger
	events  Recorder
	now     func() time.Time
	hooks   Hooks
}

// New returns an order service that records its events in events.
func New(store Store, charger Charger, events Recorder, now func() time.Time, hooks Hooks) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, charger: charger, events: events, now: now, hooks: hooks}
}

// ChargeKey is the provider charge key of an order.
func ChargeKey(orderID string) string { return "order_" + orderID }

// Create charges order id and stores the order with the outcome. Repeating
// Create with the same id and input, after a crash anywhere in it, ends with
// the same single order and a single provider charge.
//
// The charge comes first and the order is written once, already settled:
// that is two commands where inserting a CREATED order and settling it later
// took three. A crash between the two leaves a ledger entry and no order; the
// retry (or the completer) gets the recorded outcome back from the ledger
// under the same charge key and inserts the order then.
//
// The order's event is recorded last. A crash before it leaves the request
// unfinished, and its retry (or the completer) finds the order and records
// the event then: its id derives from the order id, so it is recorded once.
func (s *Service) Create(ctx context.Context, id string, in domain.NewOrder) (domain.Order, error) {
	if err := in.Validate(); err != nil {
		return domain.Order{}, err
	}
	ch, err := s.charger.Charge(ctx, provider.ChargeRequest{Key: ChargeKey(id), Amount: in.Amount, Currency: in.Currency})
	if err != nil {
		return domain.Order{}, err
	}
	call(s.hooks.AfterCharge)

	now := s.now().UTC().Truncate(time.Millisecond)
	o := domain.Order{ID: id, UserID: in.UserID, Amount: in.Amount, Currency: in.Currency,
		Status: domain.OrderPaymentFailed, CreatedAt: now, UpdatedAt: now}
	if ch.Succeeded {
		o.Status = domain.OrderPaid
		o.Payment = &domain.Payment{Provider: provider.Name, PaymentID: ch.PaymentID,
			Amount: ch.Amount, Currency: ch.Currency, ChargedAt: ch.CreatedAt}
	}
	created, err := s.store.InsertOrder(ctx, o)
	if err != nil {
		return domain.Order{}, err
	}
	if !created {
		// An earlier attempt stored it from the same ledger entry; answer
		// with what is stored.
		stored, err := s.store.GetOrder(ctx, id)
		if err != nil {
			return stored, err
		}
		if stored.Status == domain.OrderCreated {
			// A CREATED order was left by a version that stored the order
			// before charging it: settle it now.
			if _, err := s.store.SettleOrder(ctx, id, o.Status, o.Payment, now); err != nil {
				return domain.Order{}, err
			}
			if stored, err = s.store.GetOrder(ctx, id); err != nil {
				return stored, err
			}
		}
		return stored, s.record(ctx, stored)
	}
	call(s.hooks.AfterOrderInsert)
	return o, s.record(ctx, o)
}

// record records the event of o's settlement.
func (s *Service) record(ctx context.Context, o domain.Order) error {
	if e, ok := domain.OrderEvent(o, domain.RequestFrom(ctx)); ok {
		return s.events.Record(ctx, e)
	}
	return nil
}

func call(f func()) {
	if f != nil {
		f()
	}
}

// Get returns one order.
func (s *Service) Get(ctx context.Context, id string) (domain.Order, error) {
	o, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return o, &domain.Error{Kind: domain.KindNotFound, Code: "resource_missing", Param: "id", Message: "No such order: '" + id + "'."}
	}
	return o, err
}

// List returns orders newest first, validating the filter.
func (s *Service) List(ctx context.Context, f domain.OrderFilter) ([]domain.Order, bool, error) {
	if f.Limit == 0 {
		f.Limit = domain.DefaultListLimit
	}
	if f.Limit < 1 || f.Limit > domain.MaxListLimit {
		return nil, false, domain.Invalid("limit", "invalid_limit", "limit must be an integer between 1 and %d.", domain.MaxListLimit)
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, false, domain.Invalid("status", "invalid_status", "status must be one of CREATED, PAID, PAYMENT_FAILED.")
	}
	orders, more, err := s.store.ListOrders(ctx, f)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, false, domain.Invalid("starting_after", "invalid_cursor", "starting_after must be an order id.")
	}
	return orders, more, err
}
