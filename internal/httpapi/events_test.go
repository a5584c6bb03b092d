package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reliabledemo/payments/internal/intents"
	"github.com/reliabledemo/payments/internal/orders"
	"github.com/reliabledemo/payments/internal/provider"
)

type eventBody struct {
	ID       string    `json:"id"`
	Object   string    `json:"object"`
	Type     string    `json:"type"`
	Created  time.Time `json:"created"`
	Sequence int64     `json:"sequence"`
	Data     struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
	Request *struct {
		ID             string `json:"id"`
		IdempotencyKey string `json:"idempotency_key"`
	} `json:"request"`
}

// status is the snapshot's status field.
func (e eventBody) status(t *testing.T) string {
	t.Helper()
	var o struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(e.Data.Object, &o); err != nil {
		t.Fatalf("event %s: data.object: %v", e.ID, err)
	}
	return o.Status
}

type eventList struct {
	Events  []eventBody `json:"events"`
	HasMore bool        `json:"has_more"`
}

// eventsOf returns the events of one object, oldest first, checking that
// their sequences run 1, 2, … without a gap or a repeat.
func (a *app) eventsOf(objectID string) []eventBody {
	a.t.Helper()
	rec := a.do(request{method: "GET", path: "/events?limit=100&object_id=" + objectID})
	if rec.Code != http.StatusOK {
		a.t.Fatalf("GET /events: %d %s", rec.Code, rec.Body)
	}
	evs := decode[eventList](a.t, rec).Events
	slices.Reverse(evs)
	slices.SortStableFunc(evs, func(x, y eventBody) int { return int(x.Sequence - y.Sequence) })
	for i, e := range evs {
		if e.Sequence != int64(i+1) {
			a.t.Fatalf("events of %s: sequences %v, want 1..%d", objectID, sequences(evs), len(evs))
		}
	}
	return evs
}

func sequences(evs []eventBody) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Sequence
	}
	return out
}

func types(evs []eventBody) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// wantEvents checks an object's events, their types in order, and that each
// snapshot has the status its type names.
func (a *app) wantEvents(objectID string, want ...string) []eventBody {
	a.t.Helper()
	evs := a.eventsOf(objectID)
	if !slices.Equal(types(evs), want) {
		a.t.Fatalf("events of %s: %v, want %v", objectID, types(evs), want)
	}
	for _, e := range evs {
		if got, want := e.status(a.t), snapshotStatus[e.Type]; got != want {
			a.t.Errorf("event %s %s: data.object.status %q, want %q", e.ID, e.Type, got, want)
		}
	}
	return evs
}

var snapshotStatus = map[string]string{
	"order.paid": "PAID", "order.payment_failed": "PAYMENT_FAILED",
	"payment_intent.created": "requires_confirmation", "payment_intent.processing": "processing",
	"payment_intent.requires_capture": "requires_capture", "payment_intent.succeeded": "succeeded",
	"payment_intent.payment_failed": "failed", "payment_intent.canceled": "canceled",
	"refund.created": "pending", "refund.succeeded": "succeeded", "refund.failed": "failed",
}

// TestEveryEventType drives each object through each of its paths and
// checks the events each change recorded, through retries and replays.
func TestEveryEventType(t *testing.T) {
	t.Parallel()
	// A one-shot hook at the refund's first change (recorded pending) that
	// refunds the whole payment under it, so that the refund no longer fits
	// when it is applied: the one way a refund fails.
	var steal atomic.Pointer[func()]
	hooks := intents.Hooks{AfterTransition: func() {
		if f := steal.Swap(nil); f != nil {
			(*f)()
		}
	}}
	a := newApp(t, appOptions{intentHooks: hooks})

	order := decode[orderBody](t, a.postOrder("k-ev-order", orderJSON))
	a.postOrder("k-ev-order", orderJSON) // a replay records nothing
	a.wantEvents(order.ID, "order.paid")

	if _, err := a.provider.UpdateBehavior(t.Context(), provider.BehaviorPatch{FailureRate: new(1.0)}); err != nil {
		t.Fatal(err)
	}
	failed := decode[struct {
		Order orderBody `json:"order"`
	}](t, a.postOrder("k-ev-declined", orderJSON)).Order
	a.wantEvents(failed.ID, "order.payment_failed")

	auto := a.intentIn("succeeded")
	a.process(auto.ID) // a job run again records nothing new
	a.wantEvents(auto.ID, "payment_intent.created", "payment_intent.processing", "payment_intent.succeeded")
	manual := a.intentIn("requires_capture")
	a.wantEvents(manual.ID, "payment_intent.created", "payment_intent.processing", "payment_intent.requires_capture")
	captureKey := newKey()
	a.action("capture", manual.ID, `{}`, captureKey)
	a.action("capture", manual.ID, `{}`, captureKey)
	a.wantEvents(manual.ID, "payment_intent.created", "payment_intent.processing", "payment_intent.requires_capture", "payment_intent.succeeded")
	declined := a.intentIn("failed")
	a.wantEvents(declined.ID, "payment_intent.created", "payment_intent.processing", "payment_intent.payment_failed")
	canceled := a.intentIn("canceled")
	a.wantEvents(canceled.ID, "payment_intent.created", "payment_intent.canceled")

	intentID, paymentID := a.paidIntent(5000)
	ok := decode[refundBody](t, a.refund(fmt.Sprintf(`{"payment_id":%q,"amount":1000,"reason":"requested_by_customer"}`, paymentID), newKey()))
	a.wantEvents(ok.ID, "refund.created", "refund.succeeded")

	thief := func() {
		if rec := a.refund(fmt.Sprintf(`{"payment_id":%q,"reason":"duplicate"}`, paymentID), newKey()); rec.Code != http.StatusCreated {
			t.Errorf("the refund under the hook: %d %s", rec.Code, rec.Body)
		}
	}
	steal.Store(&thief)
	key := newKey()
	rec := a.refund(fmt.Sprintf(`{"payment_id":%q,"amount":2000,"reason":"requested_by_customer"}`, paymentID), key)
	wantError(t, rec, http.StatusBadRequest, "invalid_request_error", "charge_already_refunded")
	lost := a.eventsOf(refundIDOf(t, a, key))
	if !slices.Equal(types(lost), []string{"refund.created", "refund.failed"}) {
		t.Fatalf("the refused refund's events: %v", types(lost))
	}
	if p := a.payment(intentID); p.AmountRefunded != 5000 {
		t.Fatalf("refunded %d, want 5000", p.AmountRefunded)
	}

	// Every type was recorded, and the type filter finds each.
	for typ := range snapshotStatus {
		rec := a.do(request{method: "GET", path: "/events?type=" + typ})
		evs := decode[eventList](t, rec).Events
		if rec.Code != http.StatusOK || len(evs) == 0 {
			t.Errorf("GET /events?type=%s: %d, %d events", typ, rec.Code, len(evs))
		}
		for _, e := range evs {
			if e.Type != typ {
				t.Errorf("GET /events?type=%s listed a %s", typ, e.Type)
			}
		}
	}
}

// refundIDOf finds the refund made under an Idempotency-Key, whose request
// failed, through its event's request.
func refundIDOf(t *testing.T, a *app, key *string) string {
	t.Helper()
	for _, e := range decode[eventList](t, a.do(request{method: "GET", path: "/events?limit=100&type=refund.created"})).Events {
		if e.Request != nil && e.Request.IdempotencyKey == *key {
			var r refundBody
			if err := json.Unmarshal(e.Data.Object, &r); err != nil {
				t.Fatal(err)
			}
			return r.ID
		}
	}
	t.Fatalf("no refund.created event for key %s", *key)
	return ""
}

// TestEventNamesItsRequest: a client's change names the request and key;
// the worker's names none.
func TestEventNamesItsRequest(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	rec := a.do(request{method: "POST", path: "/payment_intents", body: intentJSON, key: strp("k-named"),
		header: map[string]string{"X-Request-Id": "req-named-1"}})
	it := decode[intentBody](t, rec)
	a.action("confirm", it.ID, `{}`, strp("k-named-confirm"))
	a.process(it.ID)
	evs := a.wantEvents(it.ID, "payment_intent.created", "payment_intent.processing", "payment_intent.succeeded")
	if r := evs[0].Request; r == nil || r.IdempotencyKey != "k-named" || r.ID != rec.Header().Get("X-Request-Id") || r.ID == "" {
		t.Errorf("created: request %+v, want the create's id %q and key", r, rec.Header().Get("X-Request-Id"))
	}
	if r := evs[1].Request; r == nil || r.IdempotencyKey != "k-named-confirm" {
		t.Errorf("processing: request %+v, want the confirm's key", r)
	}
	if evs[2].Request != nil {
		t.Errorf("succeeded: request %+v, want null (the worker)", evs[2].Request)
	}
	// GET /events/:id returns the same event.
	got := decode[eventBody](t, a.do(request{method: "GET", path: "/events/" + evs[1].ID}))
	if got.ID != evs[1].ID || got.Type != evs[1].Type || string(got.Data.Object) != string(evs[1].Data.Object) {
		t.Errorf("GET /events/%s = %+v, want %+v", evs[1].ID, got, evs[1])
	}
}

// TestEventsThroughCrashes crashes each change between the change and its
// event, retries after the lease, and checks each change has exactly one
// event. The hardest: a confirm dies after its change, and the worker moves
// the intent on before the retry; the retry still records the processing
// event, from the copy the intent keeps.
func TestEventsThroughCrashes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// run crashes once (the armed hook panics), then retries; it
		// returns the object and the events it must end with.
		run func(t *testing.T, a *app, arm func()) (string, []string)
	}{
		{"order after insert", func(t *testing.T, a *app, arm func()) (string, []string) {
			arm()
			if rec := a.postOrder("k-crash-ev", orderJSON); rec.Code != http.StatusInternalServerError {
				t.Fatalf("crashed request: %d", rec.Code)
			}
			a.clock.Advance(31 * time.Second)
			o := decode[orderBody](t, a.postOrder("k-crash-ev", orderJSON))
			return o.ID, []string{"order.paid"}
		}},
		{"intent create", func(t *testing.T, a *app, arm func()) (string, []string) {
			arm()
			key := newKey()
			if rec := a.do(request{method: "POST", path: "/payment_intents", body: intentJSON, key: key}); rec.Code != http.StatusInternalServerError {
				t.Fatalf("crashed request: %d", rec.Code)
			}
			a.clock.Advance(31 * time.Second)
			it := decode[intentBody](t, a.do(request{method: "POST", path: "/payment_intents", body: intentJSON, key: key}))
			return it.ID, []string{"payment_intent.created"}
		}},
		{"confirm, then the worker before the retry", func(t *testing.T, a *app, arm func()) (string, []string) {
			it := a.createIntent(intentJSON)
			arm()
			key := newKey()
			if rec := a.action("confirm", it.ID, `{}`, key); rec.Code != http.StatusInternalServerError {
				t.Fatalf("crashed confirm: %d %s", rec.Code, rec.Body)
			}
			a.process(it.ID)
			a.clock.Advance(31 * time.Second)
			if rec := a.action("confirm", it.ID, `{}`, key); rec.Code != http.StatusAccepted {
				t.Fatalf("retried confirm: %d %s", rec.Code, rec.Body)
			}
			return it.ID, []string{"payment_intent.created", "payment_intent.processing", "payment_intent.succeeded"}
		}},
		{"worker", func(t *testing.T, a *app, arm func()) (string, []string) {
			it := a.intentIn("processing")
			arm()
			func() {
				defer func() { _ = recover() }()
				a.process(it.ID)
			}()
			a.process(it.ID) // the job, claimed again after its lease
			return it.ID, []string{"payment_intent.created", "payment_intent.processing", "payment_intent.succeeded"}
		}},
		{"capture", func(t *testing.T, a *app, arm func()) (string, []string) {
			it := a.intentIn("requires_capture")
			arm()
			key := newKey()
			if rec := a.action("capture", it.ID, `{}`, key); rec.Code != http.StatusInternalServerError {
				t.Fatalf("crashed capture: %d", rec.Code)
			}
			a.clock.Advance(31 * time.Second)
			if rec := a.action("capture", it.ID, `{}`, key); rec.Code != http.StatusOK {
				t.Fatalf("retried capture: %d %s", rec.Code, rec.Body)
			}
			return it.ID, []string{"payment_intent.created", "payment_intent.processing", "payment_intent.requires_capture", "payment_intent.succeeded"}
		}},
		{"refund", func(t *testing.T, a *app, arm func()) (string, []string) {
			_, paymentID := a.paidIntent(3000)
			body := fmt.Sprintf(`{"payment_id":%q,"amount":1000,"reason":"requested_by_customer"}`, paymentID)
			key := newKey()
			arm()
			if rec := a.refund(body, key); rec.Code != http.StatusInternalServerError {
				t.Fatalf("crashed refund: %d", rec.Code)
			}
			a.clock.Advance(31 * time.Second)
			r := decode[refundBody](t, a.refund(body, key))
			if r.Status != "succeeded" {
				t.Fatalf("retried refund: %+v", r)
			}
			return r.ID, []string{"refund.created", "refund.succeeded"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &crash{}
			a := newApp(t, appOptions{lease: 30 * time.Second,
				hooks: orders.Hooks{AfterOrderInsert: c.hit}, intentHooks: intents.Hooks{AfterTransition: c.hit}})
			id, want := tt.run(t, a, func() { c.armed.Store(true) })
			if c.armed.Load() {
				t.Fatal("the crash point was never reached")
			}
			a.wantEvents(id, want...)
			if n := a.count("events", nil); n < int64(len(want)) {
				t.Fatalf("%d events stored", n)
			}
		})
	}
}

// TestListEvents pages newest first and validates its query.
func TestListEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	var ids []string
	for i := range 5 {
		ids = append(ids, decode[orderBody](t, a.postOrder(fmt.Sprintf("k-list-ev-%d", i), orderJSON)).ID)
		a.clock.Advance(time.Millisecond) // ids order by time, to the millisecond
	}
	var seen []string
	cursor := ""
	for range 3 {
		rec := a.do(request{method: "GET", path: "/events?limit=2&starting_after=" + cursor})
		page := decode[eventList](t, rec)
		for _, e := range page.Events {
			seen = append(seen, e.ID)
			cursor = e.ID
		}
		if !page.HasMore {
			break
		}
	}
	if len(seen) != 5 || !slices.IsSortedFunc(seen, func(x, y string) int { return strings.Compare(y, x) }) {
		t.Fatalf("pages listed %v, want 5 events newest first", seen)
	}
	first := decode[eventBody](t, a.do(request{method: "GET", path: "/events/" + seen[0]}))
	var o orderBody
	if err := json.Unmarshal(first.Data.Object, &o); err != nil || o.ID != ids[4] {
		t.Fatalf("newest event is of order %s, want %s", o.ID, ids[4])
	}

	for _, tt := range []struct {
		path   string
		status int
		code   string
	}{
		{"/events?limit=0", http.StatusUnprocessableEntity, "invalid_limit"},
		{"/events?limit=101", http.StatusUnprocessableEntity, "invalid_limit"},
		{"/events?type=order.shipped", http.StatusUnprocessableEntity, "invalid_type"},
		{"/events?starting_after=evt_nope", http.StatusUnprocessableEntity, "invalid_cursor"},
		{"/events/evt_000000000000000000000000", http.StatusNotFound, "resource_missing"},
		{"/events/not-an-event", http.StatusNotFound, "resource_missing"},
	} {
		rec := a.do(request{method: "GET", path: tt.path})
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.code) {
			t.Errorf("GET %s: %d %s, want %d %s", tt.path, rec.Code, rec.Body, tt.status, tt.code)
		}
	}
}
