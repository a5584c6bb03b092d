package drill

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

const testPrefix = "drill-0badcafe-"

var (
	testNow     = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	testOrderID = bson.NewObjectIDFromTimestamp(testNow)
)

// fixture is a consistent run of one paid order and one succeeded intent
// with two refunds, one of which was refused.
func fixture() (snapshot, []Result) {
	oid := testOrderID.Hex()
	results := []Result{
		{ID: testPrefix + "0", Kind: KindOrder, Amount: 500, Outcome: OutcomePaid, OrderID: oid},
		{ID: testPrefix + "1", Kind: KindIntent, Amount: 900, Outcome: "succeeded", IntentID: "pi_1", Confirmed: true,
			PaymentID: "pay_1", Refunds: []RefundResult{
				{Key: testPrefix + "1-refund-1", Asked: 100, Outcome: RefundOK, ID: "re_a", Amount: 100},
				{Key: testPrefix + "1-refund-2", Asked: 850, Outcome: RefundRefused},
			}},
	}
	s := snapshot{
		prefix: testPrefix,
		orders: []orderDoc{{ID: testOrderID, UserID: testPrefix + "0", Amount: 500, Status: "PAID",
			Payment: &struct {
				PaymentID string `bson:"paymentId"`
				Amount    int64  `bson:"amount"`
			}{"pay_o", 500}}},
		intents: []intentDoc{{ID: "pi_1", CustomerID: testPrefix + "1", Status: "succeeded", Amount: 900,
			PaymentID: "pay_1", PaymentStatus: "succeeded", CapturedAmount: 900, AmountRefunded: 100, Refundable: 800,
			RefundIDs: []string{"re_a"}, Sequence: 3}},
		charges: map[string]chargeDoc{
			"order_" + oid: {ID: "order_" + oid, Status: "succeeded", Amount: 500, PaymentID: "pay_o"},
			"pi_1":         {ID: "pi_1", Status: "succeeded", Amount: 900, PaymentID: "pay_1"},
		},
		jobs:    map[string]bool{},
		refunds: []refundDoc{{ID: "re_a", PaymentIntentID: "pi_1", Amount: 100, Status: "succeeded"}},
		keys: []keyDoc{
			{Key: testPrefix + "0-order", Method: "POST", Path: "/orders", Status: "COMPLETED", ResourceID: oid},
			{Key: testPrefix + "1-create", Method: "POST", Path: "/payment_intents", Status: "COMPLETED", ResourceID: "1"},
			{Key: testPrefix + "1-confirm", Method: "PATCH", Path: "/payment_intents/pi_1/confirm", Status: "COMPLETED"},
		},
		events: map[string][]eventDoc{
			oid:    {ev(oid, 1, "order.paid")},
			"pi_1": {ev("pi_1", 1, "payment_intent.created"), ev("pi_1", 2, "payment_intent.processing"), ev("pi_1", 3, "payment_intent.succeeded")},
			"re_a": {ev("re_a", 1, "refund.created"), ev("re_a", 2, "refund.succeeded")},
		},
	}
	return s, results
}

// eventsOf makes the events of every object of s consistent with it.
func eventsOf(s snapshot) map[string][]eventDoc {
	byStatus := map[string]string{}
	for typ, status := range eventStatus {
		if byStatus[status] == "" || strings.HasPrefix(typ, "payment_intent.") {
			byStatus[status] = typ
		}
	}
	out := map[string][]eventDoc{}
	for _, o := range s.orders {
		if o.Status != "CREATED" {
			out[o.ID.Hex()] = []eventDoc{ev(o.ID.Hex(), 1, map[string]string{"PAID": "order.paid", "PAYMENT_FAILED": "order.payment_failed"}[o.Status])}
		}
	}
	for _, it := range s.intents {
		for q := int64(1); q <= it.Sequence; q++ {
			typ := "payment_intent.processing"
			switch q {
			case 1:
				typ = "payment_intent.created"
			case it.Sequence:
				typ = byStatus[it.Status]
			}
			out[it.ID] = append(out[it.ID], ev(it.ID, q, typ))
		}
	}
	for _, rf := range s.refunds {
		out[rf.ID] = []eventDoc{ev(rf.ID, 1, "refund.created")}
		if rf.Status != "pending" {
			out[rf.ID] = append(out[rf.ID], ev(rf.ID, 2, "refund."+rf.Status))
		}
	}
	return out
}

// ev is an event of the sequence-th change of id, with the snapshot its
// type names.
func ev(id string, sequence int64, typ string) eventDoc {
	e := eventDoc{ID: bson.NewObjectID(), Type: typ, ObjectID: id, Sequence: sequence}
	e.Data.Object.Status = eventStatus[typ]
	return e
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(s *snapshot, rs []Result)
		want   []string // the checks that must fail, in report order
	}{
		{"consistent", func(*snapshot, []Result) {}, nil},
		{"an event missing", func(s *snapshot, _ []Result) { s.events["pi_1"] = s.events["pi_1"][1:] }, []string{"one_event_per_change"}},
		{"an event twice", func(s *snapshot, _ []Result) {
			s.events["re_a"] = append(s.events["re_a"], ev("re_a", 2, "refund.succeeded"))
		}, []string{"one_event_per_change"}},
		{"an order without its event", func(s *snapshot, _ []Result) { delete(s.events, testOrderID.Hex()) }, []string{"one_event_per_change"}},
		{"a snapshot that is not its type's", func(s *snapshot, _ []Result) {
			s.events["pi_1"][1].Data.Object.Status = "succeeded"
		}, []string{"one_event_per_change"}},
		{"the last event behind the object", func(s *snapshot, _ []Result) { s.intents[0].Sequence = 4 }, []string{"one_event_per_change"}},
		{"events may lag while a job is queued", func(s *snapshot, _ []Result) {
			s.events["pi_1"] = s.events["pi_1"][:2]
			s.jobs["pi_1"] = true
		}, nil},
		{"two orders for one key", func(s *snapshot, _ []Result) {
			o := s.orders[0]
			o.ID = bson.NewObjectID()
			s.orders = append(s.orders, o)
			s.charges["order_"+o.ID.Hex()] = chargeDoc{ID: "order_" + o.ID.Hex(), Status: "succeeded", Amount: 500, PaymentID: "pay_o"}
		}, []string{"one_order_per_key"}},
		{"order left CREATED", func(s *snapshot, _ []Result) { s.orders[0].Status = "CREATED" }, []string{"order_settled"}},
		{"CREATED is fine while the payment is unfinished", func(s *snapshot, rs []Result) {
			s.orders[0].Status = "CREATED"
			rs[0].Outcome = OutcomeUnfinished
		}, nil},
		{"order failed, charge succeeded", func(s *snapshot, rs []Result) {
			s.orders[0].Status, s.orders[0].Payment = "PAYMENT_FAILED", nil
			rs[0].Outcome = OutcomePaymentFailed
		}, []string{"one_charge_per_order"}},
		{"client saw PAID, database says failed", func(s *snapshot, _ []Result) {
			s.orders[0].Status = "PAYMENT_FAILED"
			s.charges["order_"+testOrderID.Hex()] = chargeDoc{ID: "order_" + testOrderID.Hex(), Status: "failed", Amount: 500}
		}, []string{"order_settled"}},
		{"charge of an order that does not exist", func(s *snapshot, _ []Result) {
			s.keys = append(s.keys, keyDoc{Key: testPrefix + "0-order", Method: "POST", Path: "/orders", ResourceID: "ghost"})
			s.charges["order_ghost"] = chargeDoc{ID: "order_ghost", Status: "succeeded"}
		}, []string{"one_order_per_key", "one_charge_per_order"}},
		{"charged, order not yet stored, while the payment is unfinished", func(s *snapshot, rs []Result) {
			s.orders = nil
			rs[0].Outcome, rs[0].OrderID = OutcomeUnfinished, ""
		}, nil},
		{"charged, order never stored, payment final", func(s *snapshot, rs []Result) {
			s.orders = nil
		}, []string{"one_order_per_key", "one_charge_per_order"}},
		{"abandoned order finished by the service", func(s *snapshot, rs []Result) {
			rs[0].Outcome, rs[0].OrderID = OutcomeAbandoned, ""
		}, nil},
		{"abandoned order charged, never stored", func(s *snapshot, rs []Result) {
			s.orders = nil
			rs[0].Outcome, rs[0].OrderID = OutcomeAbandoned, ""
		}, []string{"one_charge_per_order"}},
		{"abandoned payment whose key stayed in progress", func(s *snapshot, rs []Result) {
			rs[0].Outcome, rs[0].OrderID = OutcomeAbandoned, ""
			s.keys[0].Status, s.keys[0].LeaseUntil = keyInProgress, testNow.Add(-time.Minute)
		}, []string{"no_stuck_keys"}},
		{"abandoned intent: the client saw nothing to compare", func(s *snapshot, rs []Result) {
			rs[1].Outcome, rs[1].Refunds = OutcomeAbandoned, nil
		}, nil},
		{"intent processing without a job", func(s *snapshot, _ []Result) { s.intents[0].Status = "processing" }, []string{"intent_state"}},
		{"processing with a job is fine while unfinished", func(s *snapshot, rs []Result) {
			s.intents[0].Status, s.jobs["pi_1"] = "processing", true
			rs[1].Outcome, rs[1].Refunds = OutcomeUnfinished, nil
		}, nil},
		{"intent failed, charge succeeded", func(s *snapshot, rs []Result) {
			s.intents[0].Status, rs[1].Outcome = "failed", "failed"
		}, []string{"one_charge_per_intent"}},
		{"charged before confirmation", func(s *snapshot, rs []Result) {
			s.intents[0].Status, rs[1].Outcome, rs[1].Confirmed = "requires_confirmation", OutcomeUnexpected, false
		}, []string{"one_charge_per_intent"}},
		{"refunded more than captured", func(s *snapshot, _ []Result) {
			s.intents[0].AmountRefunded, s.intents[0].Refundable = 1000, -100
		}, []string{"refunds_within_captured"}},
		{"refund applied twice", func(s *snapshot, _ []Result) {
			s.intents[0].RefundIDs = []string{"re_a", "re_a"}
			s.intents[0].AmountRefunded, s.intents[0].Refundable = 200, 700
		}, []string{"refunds_within_captured"}},
		{"succeeded refund missing from refundIds", func(s *snapshot, _ []Result) {
			s.refunds = append(s.refunds, refundDoc{ID: "re_b", PaymentIntentID: "pi_1", Amount: 5, Status: "succeeded"})
		}, []string{"refunds_within_captured"}},
		{"stuck key", func(s *snapshot, _ []Result) {
			s.keys[2].Status, s.keys[2].LeaseUntil = keyInProgress, testNow.Add(-time.Minute)
		}, []string{"no_stuck_keys"}},
		{"in-progress key with a live lease", func(s *snapshot, _ []Result) {
			s.keys[2].Status, s.keys[2].LeaseUntil = keyInProgress, testNow.Add(time.Minute)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, rs := fixture()
			tt.change(&s, rs)
			if !slices.Contains(tt.want, "one_event_per_change") && !strings.Contains(tt.name, "event") {
				// A case about other documents: their events follow them.
				s.events = eventsOf(s)
			}
			var got []string
			for _, v := range evaluate(s, rs, testNow) {
				got = append(got, v.Check)
				t.Logf("%s: %s", v.Check, v.details(maxListed))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("violations %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientViolations(t *testing.T) {
	t.Parallel()
	rs := []Result{
		{ID: "a", Outcome: OutcomePaid},
		{ID: "b", Outcome: OutcomeUnexpected, tally: tally{unexpected: []badAnswer{{"POST /orders: 401 invalid_api_key", 401}}}},
		{ID: "c", Outcome: OutcomeUnexpected, tally: tally{unexpected: []badAnswer{{"GET /payment_intents/pi_1: 200 with status \"x\"", 200}}}},
		{ID: "d", Outcome: OutcomeUnfinished, Reason: "no final answer"},
		{ID: "e", Outcome: OutcomeInterrupted},
	}
	var got []string
	for _, v := range clientViolations(rs) {
		got = append(got, v.Check)
	}
	if want := []string{"unexpected_4xx", "unexpected_answers", "no_final_answer"}; !slices.Equal(got, want) {
		t.Errorf("violations %q, want %q", got, want)
	}
}

func TestViolationDetails(t *testing.T) {
	t.Parallel()
	v := Violation{Check: "x", Items: []string{"a", "b", "c"}}
	if got, want := v.details(2), "3: a; b; and 1 more"; got != want {
		t.Errorf("details = %q, want %q", got, want)
	}
}

func TestCheckWebhooks(t *testing.T) {
	t.Parallel()
	// full is a consumer that received every event of the fixture and
	// kept each object's last.
	full := func(s snapshot) *webhookView {
		v := &webhookView{seen: map[string]bool{}, latest: map[string]objectState{}}
		status := s.statuses()
		for id, evs := range s.events {
			for _, e := range evs {
				v.seen[eventIDOf(e)] = true
				if e.Sequence > v.latest[id].Sequence {
					v.latest[id] = objectState{Sequence: e.Sequence, Type: e.Type, Status: status[id]}
				}
			}
		}
		return v
	}
	tests := []struct {
		name   string
		forged int
		change func(s *snapshot, v *webhookView)
		want   []string
	}{
		{"everything arrived", 0, func(*snapshot, *webhookView) {}, nil},
		{"an event never arrived", 0, func(s *snapshot, v *webhookView) {
			delete(v.seen, eventIDOf(s.events["pi_1"][1]))
		}, []string{"every_event_delivered"}},
		{"the consumer is behind", 0, func(_ *snapshot, v *webhookView) {
			v.latest["pi_1"] = objectState{Sequence: 2, Type: "payment_intent.processing", Status: "processing"}
		}, []string{"consumer_view_matches"}},
		{"the consumer never heard of an object", 0, func(_ *snapshot, v *webhookView) { delete(v.latest, "re_a") },
			[]string{"consumer_view_matches"}},
		{"a forged copy was accepted", 3, func(_ *snapshot, v *webhookView) { v.rejected = 2 }, []string{"no_forged_accepted"}},
		{"more rejected than recorded (a killed instance)", 3, func(_ *snapshot, v *webhookView) { v.rejected = 4 }, nil},
		{"an object with work pending may lag", 0, func(s *snapshot, v *webhookView) {
			delete(v.seen, eventIDOf(s.events["pi_1"][2]))
			v.latest["pi_1"] = objectState{Sequence: 2, Status: "processing"}
			s.jobs["pi_1"] = true
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := fixture()
			v := full(s)
			tt.change(&s, v)
			f := found{}
			checkWebhooks(f, s, v, tt.forged)
			var got []string
			for _, x := range f.list() {
				got = append(got, x.Check)
				t.Logf("%s: %s", x.Check, x.details(maxListed))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("violations %q, want %q", got, tt.want)
			}
		})
	}
}
