package domain_test

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
)

// t0 has a sub-millisecond part on purpose: an event id keeps milliseconds
// only, as the services truncate their clocks to them.
var t0 = time.Date(2026, 11, 23, 17, 20, 47, 123_456_789, time.UTC)

var eventIDFormat = regexp.MustCompile(`^evt_[0-9a-f]{24}$`)

func TestEventID(t *testing.T) {
	t.Parallel()
	type args struct {
		object string
		seq    int64
		at     time.Time
	}
	base := args{"pi_1", 2, t0}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	const (
		same   = "same"   // one change recorded twice: one id
		before = "before" // a sorts before b
		differ = "differ" // two changes at one millisecond: ids differ, in no set order
	)
	tests := []struct {
		name string
		a, b args
		want string
	}{
		{"same object, sequence and time", base, base, same},
		{"the time in another zone", base, args{"pi_1", 2, t0.In(paris)}, same},
		{"below the millisecond is ignored", base, args{"pi_1", 2, t0.Truncate(time.Millisecond)}, same},
		{"another sequence", base, args{"pi_1", 3, t0}, differ},
		{"another object", base, args{"pi_2", 2, t0}, differ},
		{"object and sequence do not run together", args{"pi_1", 12, t0}, args{"pi_11", 2, t0}, differ},
		{"one millisecond later", base, args{"pi_1", 2, t0.Add(time.Millisecond)}, before},
		{"one millisecond later, another object", args{"pi_z", 9, t0}, args{"pi_a", 1, t0.Add(time.Millisecond)}, before},
		{"the next second", args{"pi_1", 1, t0.Truncate(time.Second).Add(999 * time.Millisecond)}, args{"pi_1", 1, t0.Truncate(time.Second).Add(time.Second)}, before},
		{"a day later", base, args{"pi_1", 1, t0.Add(24 * time.Hour)}, before},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := domain.EventID(tt.a.object, tt.a.seq, tt.a.at), domain.EventID(tt.b.object, tt.b.seq, tt.b.at)
			for _, id := range []string{a, b} {
				if !eventIDFormat.MatchString(id) {
					t.Fatalf("id %q is not evt_ and 24 lowercase hex digits", id)
				}
			}
			switch tt.want {
			case same:
				if a != b {
					t.Fatalf("ids %s and %s differ; want one id", a, b)
				}
			case before:
				if a >= b {
					t.Fatalf("%s does not sort before %s", a, b)
				}
			case differ:
				if a == b {
					t.Fatalf("two changes share id %s", a)
				}
				// Only the hash part may tell them apart: the time part
				// still sorts them with their neighbours.
				if a[:len("evt_")+12] != b[:len("evt_")+12] {
					t.Fatalf("time parts of %s and %s differ", a, b)
				}
			}
		})
	}
}

// TestEventIDLayout reads an id back as a MongoDB ObjectId would be: 4 bytes
// of seconds, 2 of milliseconds, 6 of hash.
func TestEventIDLayout(t *testing.T) {
	t.Parallel()
	id := domain.EventID("pi_1", 1, t0)
	b, err := hex.DecodeString(id[len(domain.EventIDPrefix):])
	if err != nil || len(b) != 12 {
		t.Fatalf("id %q: %v", id, err)
	}
	secs := int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
	ms := int(b[4])<<8 | int(b[5])
	if secs != t0.Unix() || ms != 123 {
		t.Fatalf("id %s holds %d s and %d ms, want %d s and 123 ms", id, secs, ms, t0.Unix())
	}
}

// TestEventIDSortsByTime lists ids made a millisecond apart, for objects and
// sequences in no particular order: sorted as strings, they come in time
// order, which is what the store's newest-first listing relies on.
func TestEventIDSortsByTime(t *testing.T) {
	t.Parallel()
	var ids []string
	start := t0.Truncate(time.Second).Add(-500 * time.Millisecond) // crosses a second
	for i := range 2000 {
		obj := "obj_" + strconv.Itoa((i*7919)%97)
		ids = append(ids, domain.EventID(obj, int64(100-i%100), start.Add(time.Duration(i)*time.Millisecond)))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i-1] >= ids[i] {
			t.Fatalf("id %d (%s) does not sort before id %d (%s)", i-1, ids[i-1], i, ids[i])
		}
	}
}

func TestOrderEvent(t *testing.T) {
	t.Parallel()
	req := &domain.RequestRef{ID: "req_1", IdempotencyKey: "key-1"}
	tests := []struct {
		status   domain.OrderStatus
		wantType domain.EventType // "" means no event
	}{
		{domain.OrderPaid, domain.EventOrderPaid},
		{domain.OrderPaymentFailed, domain.EventOrderPaymentFailed},
		{domain.OrderCreated, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			t.Parallel()
			o := domain.Order{ID: "6742f0a1b2c3d4e5f6a7b8c9", UserID: "u1", Amount: 1234, Currency: "EUR",
				Status: tt.status, CreatedAt: t0.Add(-time.Second), UpdatedAt: t0}
			if tt.status == domain.OrderPaid {
				o.Payment = &domain.Payment{Provider: "mock", PaymentID: "pay_1", Amount: 1234, Currency: "EUR", ChargedAt: t0}
			}
			e, ok := domain.OrderEvent(o, req)
			if ok != (tt.wantType != "") {
				t.Fatalf("ok = %v, want %v (event %+v)", ok, tt.wantType != "", e)
			}
			if !ok {
				return
			}
			want := domain.Event{ID: domain.EventID(o.ID, 1, o.UpdatedAt), Type: tt.wantType, Created: o.UpdatedAt,
				ObjectID: o.ID, Sequence: 1, Request: req, Order: &o}
			if !reflect.DeepEqual(e, want) {
				t.Fatalf("event\n %+v\nwant\n %+v", e, want)
			}
			if e.Order == &o {
				t.Fatal("the snapshot is the caller's order, not a copy")
			}
		})
	}
}

func TestRefundEvents(t *testing.T) {
	t.Parallel()
	created, finished := t0, t0.Add(1500*time.Millisecond)
	req := &domain.RequestRef{ID: "req_2", IdempotencyKey: "refund-key"}
	refund := func(status string) domain.Refund {
		at := finished
		if status == domain.RefundPending {
			at = created
		}
		return domain.Refund{ID: "re_1", PaymentID: "pay_1", IntentID: "pi_1", Amount: 500,
			Reason: domain.ReasonRequestedByCustomer, Status: status, CreatedAt: created, UpdatedAt: at}
	}
	// snap is r as it was at its change to status.
	snap := func(r domain.Refund, status string, at time.Time) *domain.Refund {
		r.Status, r.UpdatedAt = status, at
		return &r
	}
	event := func(r domain.Refund, typ domain.EventType, seq int64, status string, at time.Time) domain.Event {
		return domain.Event{ID: domain.EventID(r.ID, seq, at), Type: typ, Created: at, ObjectID: r.ID, Sequence: seq,
			Request: req, Refund: snap(r, status, at)}
	}
	pending, succeeded, failed := refund(domain.RefundPending), refund(domain.RefundSucceeded), refund(domain.RefundFailed)
	tests := []struct {
		name string
		in   domain.Refund
		want []domain.Event
	}{
		{"pending", pending, []domain.Event{
			event(pending, domain.EventRefundCreated, 1, domain.RefundPending, created),
		}},
		{"succeeded", succeeded, []domain.Event{
			event(succeeded, domain.EventRefundCreated, 1, domain.RefundPending, created),
			event(succeeded, domain.EventRefundSucceeded, 2, domain.RefundSucceeded, finished),
		}},
		{"failed", failed, []domain.Event{
			event(failed, domain.EventRefundCreated, 1, domain.RefundPending, created),
			event(failed, domain.EventRefundFailed, 2, domain.RefundFailed, finished),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in
			got := domain.RefundEvents(in, req)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("events\n%s\nwant\n%s", dumpEvents(got), dumpEvents(tt.want))
			}
			if !reflect.DeepEqual(in, tt.in) {
				t.Fatalf("the refund changed to %+v", in)
			}
			// The created event is the same whether the refund is found
			// pending or finished: a retry that finds it finished records
			// refund.created under the id the first attempt would have used.
			if got[0].ID != domain.RefundEvents(pending, nil)[0].ID {
				t.Fatalf("refund.created id %s differs from the pending refund's", got[0].ID)
			}
		})
	}
}

// dumpEvents prints events one a line, with their snapshot's status.
func dumpEvents(evs []domain.Event) string {
	var s string
	for _, e := range evs {
		status := "?"
		switch {
		case e.Refund != nil:
			status = e.Refund.Status + " updated " + e.Refund.UpdatedAt.Format(time.RFC3339Nano)
		case e.Intent != nil:
			status = string(e.Intent.Status)
		case e.Order != nil:
			status = string(e.Order.Status)
		}
		s += fmt.Sprintf("  %s %s seq %d at %s (%s) req %+v\n", e.ID, e.Type, e.Sequence, e.Created.Format(time.RFC3339Nano), status, e.Request)
	}
	return s
}
