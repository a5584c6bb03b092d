package domain_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
)

func TestNewIntentValidate(t *testing.T) {
	t.Parallel()
	valid := domain.NewIntent{Amount: 2599, Currency: "usd", CustomerID: "cus_123", PaymentMethodID: "pm_fake_visa",
		Metadata: map[string]string{"orderId": "ORD-1001"}}
	with := func(f func(*domain.NewIntent)) domain.NewIntent {
		n := valid
		n.Metadata = map[string]string{"orderId": "ORD-1001"}
		f(&n)
		return n
	}
	meta := func(k, v string) domain.NewIntent {
		return with(func(n *domain.NewIntent) { n.Metadata = map[string]string{k: v} })
	}
	fiftyOne := map[string]string{}
	for i := range 51 {
		fiftyOne[fmt.Sprintf("k%d", i)] = "v"
	}
	tests := []struct {
		name      string
		in        domain.NewIntent
		wantCode  string // "" means valid
		wantParam string
	}{
		{"valid", valid, "", ""},
		{"manual capture", with(func(n *domain.NewIntent) { n.CaptureMethod = domain.CaptureManual }), "", ""},
		{"amount zero", with(func(n *domain.NewIntent) { n.Amount = 0 }), "invalid_amount", "amount"},
		{"currency unknown", with(func(n *domain.NewIntent) { n.Currency = "ABC" }), "invalid_currency", "currency"},

		{"customer_id of 255 characters", with(func(n *domain.NewIntent) { n.CustomerID = strings.Repeat("c", 255) }), "", ""},
		{"customer_id empty", with(func(n *domain.NewIntent) { n.CustomerID = "" }), "invalid_customer_id", "customer_id"},
		{"customer_id 256 characters", with(func(n *domain.NewIntent) { n.CustomerID = strings.Repeat("c", 256) }), "invalid_customer_id", "customer_id"},
		{"customer_id one space", with(func(n *domain.NewIntent) { n.CustomerID = " " }), "invalid_customer_id", "customer_id"},
		{"customer_id NUL", with(func(n *domain.NewIntent) { n.CustomerID = "cus\x00" }), "invalid_customer_id", "customer_id"},
		{"customer_id right-to-left override", with(func(n *domain.NewIntent) { n.CustomerID = "cus_\u202e321" }), "invalid_customer_id", "customer_id"},
		{"customer_id invalid UTF-8", with(func(n *domain.NewIntent) { n.CustomerID = "cus_\xc3" }), "invalid_customer_id", "customer_id"},
		{"customer_id escape sequence", with(func(n *domain.NewIntent) { n.CustomerID = "cus_\x1b[31m" }), "invalid_customer_id", "customer_id"},

		{"payment method declined is valid", with(func(n *domain.NewIntent) { n.PaymentMethodID = "pm_fake_declined" }), "", ""},
		{"payment method unknown", with(func(n *domain.NewIntent) { n.PaymentMethodID = "pm_real_visa" }), "invalid_payment_method", "payment_method_id"},
		{"payment method empty", with(func(n *domain.NewIntent) { n.PaymentMethodID = "" }), "invalid_payment_method", "payment_method_id"},
		{"payment method NUL suffix", with(func(n *domain.NewIntent) { n.PaymentMethodID = "pm_fake_visa\x00" }), "invalid_payment_method", "payment_method_id"},
		{"payment method right-to-left override", with(func(n *domain.NewIntent) { n.PaymentMethodID = "\u202epm_fake_visa" }), "invalid_payment_method", "payment_method_id"},
		{"payment method one space", with(func(n *domain.NewIntent) { n.PaymentMethodID = " " }), "invalid_payment_method", "payment_method_id"},

		{"capture method unknown", with(func(n *domain.NewIntent) { n.CaptureMethod = "later" }), "invalid_capture_method", "capture_method"},

		{"metadata none", with(func(n *domain.NewIntent) { n.Metadata = nil }), "", ""},
		{"metadata 51 keys", with(func(n *domain.NewIntent) { n.Metadata = fiftyOne }), "invalid_metadata", "metadata"},
		{"metadata value with newline and tab", meta("note", "line 1\n\tline 2"), "", ""},
		{"metadata value empty", meta("note", ""), "", ""},
		{"metadata value emoji with joiner", meta("note", "👩\u200d💻"), "", ""},
		{"metadata value 500 characters", meta("note", strings.Repeat("é", 500)), "", ""},
		{"metadata value 501 characters", meta("note", strings.Repeat("é", 501)), "invalid_metadata", "metadata"},
		{"metadata value NUL", meta("note", "a\x00b"), "invalid_metadata", "metadata"},
		{"metadata value carriage return", meta("note", "a\rb"), "invalid_metadata", "metadata"},
		{"metadata value escape sequence", meta("note", "\x1b[2J"), "invalid_metadata", "metadata"},
		{"metadata value right-to-left override", meta("note", "invoice \u202efdp.exe"), "invalid_metadata", "metadata"},
		{"metadata value right-to-left isolate", meta("note", "a\u2067b"), "invalid_metadata", "metadata"},
		{"metadata value invalid UTF-8", meta("note", "\xff"), "invalid_metadata", "metadata"},
		{"metadata key 40 characters", meta(strings.Repeat("k", 40), "v"), "", ""},
		{"metadata key 41 characters", meta(strings.Repeat("k", 41), "v"), "invalid_metadata", "metadata"},
		{"metadata key empty", meta("", "v"), "invalid_metadata", "metadata"},
		{"metadata key one space", meta(" ", "v"), "invalid_metadata", "metadata"},
		{"metadata key with dot", meta("a.b", "v"), "invalid_metadata", "metadata"},
		{"metadata key with dollar", meta("$set", "v"), "invalid_metadata", "metadata"},
		{"metadata key NUL", meta("a\x00", "v"), "invalid_metadata", "metadata"},
		{"metadata key newline", meta("a\nb", "v"), "invalid_metadata", "metadata"},
		{"metadata key right-to-left override", meta("\u202eid", "v"), "invalid_metadata", "metadata"},
		{"metadata key zero-width space", meta("id\u200b", "v"), "invalid_metadata", "metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in
			wantInvalid(t, in.Validate(), tt.wantCode, tt.wantParam)
			if tt.wantCode != "" {
				return
			}
			if in.Currency != strings.ToUpper(tt.in.Currency) {
				t.Fatalf("currency %q, want it upper-cased", in.Currency)
			}
			if want := tt.in.CaptureMethod; want == "" && in.CaptureMethod != domain.CaptureAutomatic || want != "" && in.CaptureMethod != want {
				t.Fatalf("capture method %q (sent %q)", in.CaptureMethod, want)
			}
		})
	}
}

func TestNewRefundValidate(t *testing.T) {
	t.Parallel()
	amount := func(n int64) *int64 { return &n }
	tests := []struct {
		name      string
		in        domain.NewRefund
		wantCode  string
		wantParam string
	}{
		{"all that remains", domain.NewRefund{PaymentID: "pay_1", Reason: domain.ReasonDuplicate}, "", ""},
		{"partial", domain.NewRefund{PaymentID: "pay_1", Amount: amount(100), Reason: domain.ReasonFraudulent}, "", ""},
		{"payment_id empty", domain.NewRefund{Reason: domain.ReasonDuplicate}, "invalid_payment_id", "payment_id"},
		{"payment_id NUL", domain.NewRefund{PaymentID: "pay_\x00", Reason: domain.ReasonDuplicate}, "invalid_payment_id", "payment_id"},
		{"payment_id one space", domain.NewRefund{PaymentID: " ", Reason: domain.ReasonDuplicate}, "invalid_payment_id", "payment_id"},
		{"amount zero", domain.NewRefund{PaymentID: "pay_1", Amount: amount(0), Reason: domain.ReasonDuplicate}, "invalid_amount", "amount"},
		{"reason missing", domain.NewRefund{PaymentID: "pay_1"}, "invalid_reason", "reason"},
		{"reason unknown", domain.NewRefund{PaymentID: "pay_1", Reason: "abandoned"}, "invalid_reason", "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantInvalid(t, tt.in.Validate(), tt.wantCode, tt.wantParam)
		})
	}
}

// TestTransitions checks the state machine cell by cell: every status ×
// action, written out here independently of the table in intent.go, so a
// change to either shows up as a named cell.
func TestTransitions(t *testing.T) {
	t.Parallel()
	const (
		rc   = domain.IntentRequiresConfirmation
		proc = domain.IntentProcessing
		rcap = domain.IntentRequiresCapture
		ok   = domain.IntentSucceeded
		fail = domain.IntentFailed
		canc = domain.IntentCanceled
		no   = domain.IntentStatus("") // not allowed
	)
	statuses := []domain.IntentStatus{rc, proc, rcap, ok, fail, canc}
	actions := []domain.Action{domain.ActionConfirm, domain.ActionSucceed, domain.ActionAuthorize,
		domain.ActionFail, domain.ActionCapture, domain.ActionCancel}
	// want[status][action] is where the action leads from status.
	want := map[domain.IntentStatus][6]domain.IntentStatus{
		//     confirm succeed authorize fail capture cancel
		rc:   {proc, no, no, no, no, canc},
		proc: {no, ok, rcap, fail, no, no},
		rcap: {no, no, no, no, ok, canc},
		ok:   {no, no, no, no, no, no},
		fail: {no, no, no, no, no, no},
		canc: {no, no, no, no, no, no},
	}
	if len(domain.Transitions) != len(actions) {
		t.Fatalf("the table has %d actions, the test knows %d", len(domain.Transitions), len(actions))
	}
	for _, s := range statuses {
		for i, a := range actions {
			t.Run(string(s)+"/"+string(a), func(t *testing.T) {
				to := want[s][i]
				if got := a.Allowed(s); got != (to != no) {
					t.Fatalf("Allowed = %v, want %v", got, to != no)
				}
				if to != no && domain.Transitions[a].To != to {
					t.Fatalf("leads to %s, want %s", domain.Transitions[a].To, to)
				}
			})
		}
		allowedAny := false
		for _, a := range actions {
			allowedAny = allowedAny || a.Allowed(s)
		}
		if s.Terminal() == allowedAny {
			t.Errorf("%s: Terminal() = %v but some action allowed = %v", s, s.Terminal(), allowedAny)
		}
	}
	for _, a := range actions {
		for _, from := range domain.Transitions[a].From {
			if _, known := want[from]; !known {
				t.Errorf("%s starts from unknown status %q", a, from)
			}
		}
	}
	if domain.Action("refund").Allowed(rc) {
		t.Error("an unknown action is allowed")
	}
	e := domain.ErrUnexpectedState(domain.ActionCapture, canc)
	if e.Kind != domain.KindConflict || e.Code != "payment_intent_unexpected_state" || !strings.Contains(e.Message, "canceled") {
		t.Errorf("ErrUnexpectedState = %+v", e)
	}
}

// intentEventType is the event of reaching each status, written out here
// independently of the map in event.go.
var intentEventType = map[domain.IntentStatus]domain.EventType{
	domain.IntentRequiresConfirmation: "payment_intent.created",
	domain.IntentProcessing:           "payment_intent.processing",
	domain.IntentRequiresCapture:      "payment_intent.requires_capture",
	domain.IntentSucceeded:            "payment_intent.succeeded",
	domain.IntentFailed:               "payment_intent.payment_failed",
	domain.IntentCanceled:             "payment_intent.canceled",
}

// withoutEvents is it as its events' snapshots show it.
func withoutEvents(it domain.Intent) domain.Intent {
	it.Events = nil
	return it
}

// wantIntentEvent checks that e is the event of it's latest change, at at,
// by req.
func wantIntentEvent(t *testing.T, e domain.Event, it domain.Intent, at time.Time, req *domain.RequestRef) {
	t.Helper()
	want := domain.Event{ID: domain.EventID(it.ID, it.Sequence, at), Type: intentEventType[it.Status], Created: at,
		ObjectID: it.ID, Sequence: it.Sequence, Request: req}
	got := e
	got.Intent = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("event\n %+v\nwant\n %+v", got, want)
	}
	if e.Intent == nil || !reflect.DeepEqual(*e.Intent, withoutEvents(it)) {
		t.Fatalf("snapshot\n %+v\nwant the intent without its events\n %+v", e.Intent, withoutEvents(it))
	}
}

func newTestIntent(req *domain.RequestRef) domain.Intent {
	return domain.NewIntentAt(domain.Intent{ID: "pi_req1", ClientSecret: "pi_req1_secret_x", Amount: 2599, Currency: "USD",
		CustomerID: "cus_1", PaymentMethodID: "pm_fake_visa", CaptureMethod: domain.CaptureAutomatic,
		Metadata: map[string]string{"orderId": "ORD-1"}, LastRequestID: "req1"}, t0, req)
}

func TestNewIntentAt(t *testing.T) {
	t.Parallel()
	req := &domain.RequestRef{ID: "req_1", IdempotencyKey: "pi-key"}
	tests := []struct {
		name string
		in   domain.Intent
	}{
		{"blank", domain.Intent{ID: "pi_1", Amount: 100, Currency: "EUR"}},
		// Whatever the caller left in status, sequence and events, a new
		// intent starts its history afresh.
		{"stale fields", domain.Intent{ID: "pi_1", Amount: 100, Currency: "EUR", Status: domain.IntentSucceeded, Sequence: 7,
			CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(-time.Hour), Events: []domain.Event{{ID: "evt_old", Sequence: 7}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			it := domain.NewIntentAt(tt.in, t0, req)
			if it.Status != domain.IntentRequiresConfirmation || it.Sequence != 1 || !it.CreatedAt.Equal(t0) || !it.UpdatedAt.Equal(t0) {
				t.Fatalf("intent status %s, sequence %d, created %v, updated %v; want requires_confirmation, 1, %v, %v",
					it.Status, it.Sequence, it.CreatedAt, it.UpdatedAt, t0, t0)
			}
			if it.ID != tt.in.ID || it.Amount != tt.in.Amount || it.Currency != tt.in.Currency {
				t.Fatalf("intent %+v lost the input's fields", it)
			}
			if len(it.Events) != 1 {
				t.Fatalf("%d events, want 1:\n%s", len(it.Events), dumpEvents(it.Events))
			}
			wantIntentEvent(t, it.Events[0], it, t0, req)
			if it.Events[0].Type != domain.EventIntentCreated {
				t.Fatalf("type %s, want payment_intent.created", it.Events[0].Type)
			}
		})
	}
}

// pathTo is a shortest sequence of actions that leads a new intent to
// status, found in domain.Transitions.
func pathTo(t *testing.T, status domain.IntentStatus) []domain.Action {
	t.Helper()
	paths := map[domain.IntentStatus][]domain.Action{domain.IntentRequiresConfirmation: nil}
	queue := []domain.IntentStatus{domain.IntentRequiresConfirmation}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, a := range slices.Sorted(maps.Keys(domain.Transitions)) {
			to := domain.Transitions[a].To
			if _, seen := paths[to]; !seen && a.Allowed(s) {
				paths[to] = append(slices.Clone(paths[s]), a)
				queue = append(queue, to)
			}
		}
	}
	p, ok := paths[status]
	if !ok {
		t.Fatalf("no path leads to %s", status)
	}
	return p
}

// byClient says which actions a client request makes; the others are the
// worker's, and their events have no request.
var byClient = map[domain.Action]bool{
	domain.ActionConfirm: true, domain.ActionCapture: true, domain.ActionCancel: true,
	domain.ActionSucceed: false, domain.ActionAuthorize: false, domain.ActionFail: false,
}

func requestFor(a domain.Action, n int) *domain.RequestRef {
	if !byClient[a] {
		return nil
	}
	return &domain.RequestRef{ID: fmt.Sprintf("req_%s_%d", a, n), IdempotencyKey: fmt.Sprintf("key-%s-%d", a, n)}
}

// TestIntentNext applies every action of the state machine from every
// status it starts from, to an intent that got there through the table, and
// checks the history that Next writes.
func TestIntentNext(t *testing.T) {
	t.Parallel()
	for _, a := range slices.Sorted(maps.Keys(domain.Transitions)) {
		if _, known := byClient[a]; !known {
			t.Fatalf("action %s: the test does not know whether a client or the worker makes it", a)
		}
		for _, from := range domain.Transitions[a].From {
			t.Run(string(from)+"/"+string(a), func(t *testing.T) {
				t.Parallel()
				prev := newTestIntent(&domain.RequestRef{ID: "req1", IdempotencyKey: "pi-key"})
				at := t0
				for i, step := range pathTo(t, from) {
					at = at.Add(time.Second)
					prev = prev.Next(step, domain.IntentChange{}, at, requestFor(step, i))
				}
				// Room to grow in place: a Next that appended to the
				// caller's slice would write its event into prev's array,
				// where the next call from prev overwrites it.
				prev.Events = slices.Grow(prev.Events, 4)
				before := prev
				before.Events = slices.Clone(prev.Events)

				now, req := at.Add(time.Second), requestFor(a, 99)
				ch := domain.IntentChange{}
				if req != nil {
					ch.RequestID = req.ID
				}
				next := prev.Next(a, ch, now, req)

				if next.Status != domain.Transitions[a].To {
					t.Fatalf("status %s, want %s", next.Status, domain.Transitions[a].To)
				}
				if next.Sequence != prev.Sequence+1 || !next.UpdatedAt.Equal(now) || !next.CreatedAt.Equal(prev.CreatedAt) {
					t.Fatalf("sequence %d, updated %v, created %v; want %d, %v, %v",
						next.Sequence, next.UpdatedAt, next.CreatedAt, prev.Sequence+1, now, prev.CreatedAt)
				}
				if n := len(next.Events); n != len(prev.Events)+1 || int64(n) != next.Sequence {
					t.Fatalf("%d events after %d changes:\n%s", n, next.Sequence, dumpEvents(next.Events))
				}
				if !reflect.DeepEqual(next.Events[:len(prev.Events)], before.Events) {
					t.Fatalf("earlier events changed:\n%s\nwant\n%s", dumpEvents(next.Events), dumpEvents(before.Events))
				}
				for i, e := range next.Events {
					if e.Sequence != int64(i+1) {
						t.Fatalf("event %d has sequence %d:\n%s", i, e.Sequence, dumpEvents(next.Events))
					}
				}
				wantIntentEvent(t, next.Events[len(next.Events)-1], next, now, req)

				if !reflect.DeepEqual(prev, before) {
					t.Fatalf("Next changed its receiver:\n %+v\nwant\n %+v", prev, before)
				}
				other := prev.Next(a, ch, now.Add(time.Minute), requestFor(a, 100))
				if &other.Events[0] == &next.Events[0] {
					t.Fatal("two results of Next share their events' array")
				}
				wantIntentEvent(t, next.Events[len(next.Events)-1], next, now, req)
				if len(prev.Events) != len(before.Events) {
					t.Fatalf("the receiver has %d events, want %d", len(prev.Events), len(before.Events))
				}
			})
		}
	}
}

// TestIntentNextChange checks that each field of a change lands in the
// intent and its snapshot, and that nil fields leave the intent alone.
func TestIntentNextChange(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	yes, amount := true, int64(2599)
	prev := newTestIntent(nil).Next(domain.ActionConfirm, domain.IntentChange{RequestID: "req2"}, t0.Add(time.Second), nil)
	tests := []struct {
		name   string
		action domain.Action
		ch     domain.IntentChange
		want   func(*domain.Intent)
	}{
		{"nothing but the status", domain.ActionSucceed, domain.IntentChange{}, func(*domain.Intent) {}},
		// The worker names no request: the confirm stays the last request,
		// so that its retry still finds its own effect.
		{"no request keeps the last", domain.ActionFail, domain.IntentChange{RequestID: ""}, func(*domain.Intent) {}},
		{"a request replaces the last", domain.ActionFail, domain.IntentChange{RequestID: "req3"},
			func(it *domain.Intent) { it.LastRequestID = "req3" }},
		{"outcome fields", domain.ActionSucceed, domain.IntentChange{
			PaymentMethodID: str("pm_fake_mastercard"), ForceFailure: &yes, AmountReceived: &amount,
			Payment: &domain.IntentPayment{ID: "pay_req1", Status: domain.PaymentSucceeded, CapturedAmount: 2599, Refundable: 2599},
		}, func(it *domain.Intent) {
			it.PaymentMethodID, it.ForceFailure, it.AmountReceived = "pm_fake_mastercard", true, 2599
			it.Payment = &domain.IntentPayment{ID: "pay_req1", Status: domain.PaymentSucceeded, CapturedAmount: 2599, Refundable: 2599}
		}},
		{"failure fields", domain.ActionFail, domain.IntentChange{
			LastPaymentError: &domain.PaymentError{Type: "card_error", Code: "card_declined", Message: "declined"},
		}, func(it *domain.Intent) {
			it.LastPaymentError = &domain.PaymentError{Type: "card_error", Code: "card_declined", Message: "declined"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := t0.Add(2 * time.Second)
			next := prev.Next(tt.action, tt.ch, now, nil)
			want := withoutEvents(prev)
			want.Status, want.UpdatedAt, want.Sequence = domain.Transitions[tt.action].To, now, 3
			tt.want(&want)
			if !reflect.DeepEqual(withoutEvents(next), want) {
				t.Fatalf("intent\n %+v\nwant\n %+v", withoutEvents(next), want)
			}
			wantIntentEvent(t, next.Events[2], next, now, nil)
			// The change's pointers are the caller's: the intent keeps
			// copies.
			if tt.ch.Payment != nil && next.Payment == tt.ch.Payment ||
				tt.ch.LastPaymentError != nil && next.LastPaymentError == tt.ch.LastPaymentError {
				t.Fatal("the intent shares a pointer with the change")
			}
		})
	}
}

func TestIntentLastEvent(t *testing.T) {
	t.Parallel()
	created := newTestIntent(nil)
	confirmed := created.Next(domain.ActionConfirm, domain.IntentChange{RequestID: "req2"}, t0.Add(time.Second), nil)
	// An intent written before events existed, or by a change that did not
	// append its event, has a sequence ahead of its history.
	behind := confirmed
	behind.Events = behind.Events[:1]
	tests := []struct {
		name   string
		in     domain.Intent
		want   domain.Event
		wantOK bool
	}{
		{"no history", domain.Intent{ID: "pi_old", Status: domain.IntentProcessing}, domain.Event{}, false},
		{"created", created, created.Events[0], true},
		{"confirmed", confirmed, confirmed.Events[1], true},
		{"history behind the sequence", behind, domain.Event{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.in.LastEvent()
			if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("LastEvent = %+v, %v; want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
