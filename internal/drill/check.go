package drill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Violation is one broken invariant and what breaks it.
type Violation struct {
	Check string   // a stable name, e.g. one_order_per_key
	Items []string // the offending ids, each with why
}

// maxListed caps the ids printed per violation.
const maxListed = 10

func (v Violation) details(n int) string {
	shown := v.Items[:min(n, len(v.Items))]
	s := fmt.Sprintf("%d: %s", len(v.Items), strings.Join(shown, "; "))
	if more := len(v.Items) - len(shown); more > 0 {
		s += fmt.Sprintf("; and %d more", more)
	}
	return s
}

// Checks, in the order they are reported.
var checkOrder = []string{
	"one_order_per_key", "order_settled", "one_charge_per_order",
	"one_intent_per_key", "intent_state", "one_charge_per_intent",
	"refunds_within_captured", "one_event_per_change",
	"every_event_delivered", "consumer_view_matches", "no_forged_accepted", "no_stuck_keys",
	"unexpected_4xx", "unexpected_answers", "no_final_answer",
}

// found collects violations by check.
type found map[string][]string

func (f found) add(check, format string, args ...any) {
	f[check] = append(f[check], fmt.Sprintf(format, args...))
}

func (f found) list() []Violation {
	var out []Violation
	for _, c := range checkOrder {
		if items := f[c]; len(items) > 0 {
			out = append(out, Violation{Check: c, Items: items})
		}
	}
	return out
}

// Check reads the run's documents from db and checks every invariant
// against them and against what the client saw. now is the time leases are
// compared with.
func Check(ctx context.Context, db *mongo.Database, runID string, results []Result, now time.Time) ([]Violation, error) {
	s, err := load(ctx, db, runPrefix(runID), results)
	if err != nil {
		return nil, err
	}
	return evaluate(s, results, now), nil
}

// clientViolations are the invariants the client alone can check: it sent
// only valid requests, so every answer must be an expected one, and every
// payment must end within its deadline.
func clientViolations(results []Result) []Violation {
	f := found{}
	for i := range results {
		r := &results[i]
		for _, u := range r.unexpected {
			if u.Status >= 400 && u.Status < 500 {
				f.add("unexpected_4xx", "%s: %s", r.ID, u.What)
			} else {
				f.add("unexpected_answers", "%s: %s", r.ID, u.What)
			}
		}
		if r.Outcome == OutcomeUnfinished {
			f.add("no_final_answer", "%s: %s", r.ID, r.Reason)
		}
	}
	return f.list()
}

// evaluate checks the database invariants. A payment that got no final
// answer (unfinished, interrupted) may have left work half done that a
// retry would finish, so only what can never be right, such as two orders
// for one key, is held against it.
func evaluate(s snapshot, results []Result, now time.Time) []Violation {
	byID := map[string]*Result{}
	for i := range results {
		byID[results[i].ID] = &results[i]
	}
	final := func(id string) bool { r := byID[id]; return r == nil || r.Final() }
	f := found{}
	checkOrders(f, s, results, byID, final)
	checkIntents(f, s, results, byID, final)
	checkRefunds(f, s, byID, final)
	checkEvents(f, s)
	for _, k := range s.keys {
		if k.Status == keyInProgress && k.LeaseUntil.Before(now) && final(s.pidOfKey(k.Key)) {
			f.add("no_stuck_keys", "%s (%s %s): in progress, lease ended %s ago", k.Key, k.Method, k.Path, now.Sub(k.LeaseUntil).Round(time.Millisecond))
		}
	}
	return f.list()
}

// pidOfKey returns the payment a key belongs to: drill-<run>-<i>-order → drill-<run>-<i>.
func (s snapshot) pidOfKey(key string) string {
	rest, _ := strings.CutPrefix(key, s.prefix)
	n, _, _ := strings.Cut(rest, "-")
	return s.prefix + n
}

func checkOrders(f found, s snapshot, results []Result, byID map[string]*Result, final func(string) bool) {
	byUser := map[string][]orderDoc{}
	byHex := map[string]orderDoc{}
	for _, o := range s.orders {
		byUser[o.UserID] = append(byUser[o.UserID], o)
		byHex[o.ID.Hex()] = o
		if r := byID[o.UserID]; r == nil || r.Kind != KindOrder {
			f.add("one_order_per_key", "%s: order %s of no order payment of the run", o.UserID, o.ID.Hex())
		}
	}
	for i := range results {
		r := &results[i]
		if r.Kind != KindOrder || r.Outcome == OutcomeNotStarted {
			continue
		}
		docs := byUser[r.ID]
		switch {
		case r.OrderID != "" && len(docs) != 1:
			f.add("one_order_per_key", "%s: %d orders", r.ID, len(docs))
		case r.OrderID != "" && docs[0].ID.Hex() != r.OrderID:
			f.add("one_order_per_key", "%s: the client got order %s, the database has %s", r.ID, r.OrderID, docs[0].ID.Hex())
		case len(docs) > 1:
			f.add("one_order_per_key", "%s: %d orders", r.ID, len(docs))
		}
	}
	for _, k := range s.keys {
		if k.Method != "POST" || k.Path != "/orders" {
			continue
		}
		if docs := byUser[s.pidOfKey(k.Key)]; len(docs) == 1 && docs[0].ID.Hex() != k.ResourceID {
			f.add("one_order_per_key", "%s: the key names order %s, the order is %s", k.Key, k.ResourceID, docs[0].ID.Hex())
		}
		// The order is stored after its charge: a charge without its order
		// is what a crash between the two leaves, and a retry stores it.
		if c, ok := s.charges[orderChargeKey(k.ResourceID)]; ok && final(s.pidOfKey(k.Key)) {
			if _, ok := byHex[k.ResourceID]; !ok {
				f.add("one_charge_per_order", "charge %s (%s): its order does not exist", c.ID, c.Status)
			}
		}
	}

	wantCharge := map[string]string{"PAID": "succeeded", "PAYMENT_FAILED": "failed"}
	for _, o := range s.orders {
		id := o.ID.Hex()
		r := byID[o.UserID]
		switch o.Status {
		case "PAID", "PAYMENT_FAILED":
		case "CREATED":
			if final(o.UserID) {
				f.add("order_settled", "order %s (%s): left CREATED", id, o.UserID)
			}
			continue // charged or not: a retry would settle it
		default:
			f.add("order_settled", "order %s (%s): status %q", id, o.UserID, o.Status)
			continue
		}
		if r != nil && r.OrderID == id {
			if want := map[string]string{OutcomePaid: "PAID", OutcomePaymentFailed: "PAYMENT_FAILED"}[r.Outcome]; want != o.Status {
				f.add("order_settled", "order %s (%s): the client saw %s, the database has %s", id, o.UserID, r.Outcome, o.Status)
			}
		}
		c, ok := s.charges[orderChargeKey(id)]
		switch {
		case !ok:
			f.add("one_charge_per_order", "order %s (%s, %s): no charge", id, o.UserID, o.Status)
		case c.Status != wantCharge[o.Status]:
			f.add("one_charge_per_order", "order %s (%s): order %s, charge %s", id, o.UserID, o.Status, c.Status)
		case c.Amount != o.Amount:
			f.add("one_charge_per_order", "order %s (%s): order amount %d, charge amount %d", id, o.UserID, o.Amount, c.Amount)
		case o.Status == "PAID" && (o.Payment == nil || o.Payment.PaymentID != c.PaymentID):
			f.add("one_charge_per_order", "order %s (%s): its payment does not name charge payment %s", id, o.UserID, c.PaymentID)
		}
	}
}

func checkIntents(f found, s snapshot, results []Result, byID map[string]*Result, final func(string) bool) {
	byCustomer := map[string][]intentDoc{}
	byIntent := map[string]bool{}
	for _, it := range s.intents {
		byCustomer[it.CustomerID] = append(byCustomer[it.CustomerID], it)
		byIntent[it.ID] = true
	}
	for i := range results {
		r := &results[i]
		if r.Kind != KindIntent || r.Outcome == OutcomeNotStarted {
			continue
		}
		docs := byCustomer[r.ID]
		switch {
		case r.IntentID != "" && len(docs) != 1:
			f.add("one_intent_per_key", "%s: %d intents", r.ID, len(docs))
		case r.IntentID != "" && docs[0].ID != r.IntentID:
			f.add("one_intent_per_key", "%s: the client got %s, the database has %s", r.ID, r.IntentID, docs[0].ID)
		case len(docs) > 1:
			f.add("one_intent_per_key", "%s: %d intents", r.ID, len(docs))
		}
	}
	for _, k := range s.keys {
		if k.Method != "POST" || k.Path != "/payment_intents" {
			continue
		}
		id := "pi_" + k.ResourceID
		if docs := byCustomer[s.pidOfKey(k.Key)]; len(docs) == 1 && docs[0].ID != id {
			f.add("one_intent_per_key", "%s: the key names %s, the intent is %s", k.Key, id, docs[0].ID)
		}
		if c, ok := s.charges[id]; ok && !byIntent[id] {
			f.add("one_charge_per_intent", "charge %s (%s): its intent does not exist", c.ID, c.Status)
		}
	}

	for _, it := range s.intents {
		r := byID[it.CustomerID]
		switch {
		case it.Status == "processing" && !s.jobs[it.ID]:
			f.add("intent_state", "%s (%s): processing_without_job", it.ID, it.CustomerID)
		case it.Status == "processing" && final(it.CustomerID):
			f.add("intent_state", "%s (%s): stuck in processing", it.ID, it.CustomerID)
		case r != nil && r.Confirmed && it.Status == "requires_confirmation":
			f.add("intent_state", "%s (%s): confirmed, yet requires_confirmation", it.ID, it.CustomerID)
		case r != nil && r.Final() && r.Outcome != OutcomeUnexpected && r.Outcome != OutcomeAbandoned && it.Status != r.Outcome:
			f.add("intent_state", "%s (%s): the client saw %s, the database has %s", it.ID, it.CustomerID, r.Outcome, it.Status)
		}

		c, charged := s.charges[it.ID]
		want := map[string]string{"succeeded": "succeeded", "requires_capture": "succeeded", "failed": "failed"}[it.Status]
		switch {
		case it.Status == "requires_confirmation" && charged:
			f.add("one_charge_per_intent", "%s: charged (%s) before any confirmation", it.ID, c.Status)
		case want == "":
			// processing or canceled: charged or not, both are legal
		case !charged:
			f.add("one_charge_per_intent", "%s (%s): no charge", it.ID, it.Status)
		case c.Status != want:
			f.add("one_charge_per_intent", "%s: intent %s, charge %s", it.ID, it.Status, c.Status)
		case c.Amount != it.Amount:
			f.add("one_charge_per_intent", "%s: intent amount %d, charge amount %d", it.ID, it.Amount, c.Amount)
		case c.PaymentID != it.PaymentID:
			f.add("one_charge_per_intent", "%s: intent payment %s, charge payment %s", it.ID, it.PaymentID, c.PaymentID)
		}
	}
}

func checkRefunds(f found, s snapshot, byID map[string]*Result, final func(string) bool) {
	const check = "refunds_within_captured"
	byIntent := map[string][]refundDoc{}
	for _, rf := range s.refunds {
		byIntent[rf.PaymentIntentID] = append(byIntent[rf.PaymentIntentID], rf)
	}
	for _, it := range s.intents {
		if it.AmountRefunded > it.CapturedAmount {
			f.add(check, "%s: refunded %d of %d captured", it.ID, it.AmountRefunded, it.CapturedAmount)
		}
		if it.PaymentStatus == "succeeded" && it.Refundable != it.CapturedAmount-it.AmountRefunded {
			f.add(check, "%s: refundable %d, captured %d, refunded %d", it.ID, it.Refundable, it.CapturedAmount, it.AmountRefunded)
		}
		docs := map[string]refundDoc{}
		for _, rf := range byIntent[it.ID] {
			docs[rf.ID] = rf
			// Refunds are read after intents: one applied in between, by a
			// request the drill gave up on, is not in this intent's list yet.
			if rf.Status == "succeeded" && !slices.Contains(it.RefundIDs, rf.ID) && final(it.CustomerID) {
				f.add(check, "%s: succeeded refund %s not in refundIds", it.ID, rf.ID)
			}
			// A refund the balance no longer covered is failed, not left.
			if rf.Status == "pending" && final(it.CustomerID) {
				f.add(check, "%s: refund %s left %s", it.ID, rf.ID, rf.Status)
			}
		}
		var sum int64
		for i, id := range it.RefundIDs {
			rf, ok := docs[id]
			switch {
			case slices.Contains(it.RefundIDs[:i], id):
				f.add(check, "%s: refund %s applied twice", it.ID, id)
			case !ok:
				f.add(check, "%s: refundIds lists %s, which does not exist", it.ID, id)
			case rf.Status == "succeeded":
				sum += rf.Amount
			}
		}
		if sum != it.AmountRefunded && final(it.CustomerID) {
			f.add(check, "%s: succeeded refunds sum to %d, amountRefunded is %d", it.ID, sum, it.AmountRefunded)
		}
		r := byID[it.CustomerID]
		if r == nil || r.IntentID != it.ID || !refundsAnswered(r) {
			continue
		}
		var seen int64
		for _, rf := range r.Refunds {
			if rf.Outcome != RefundOK {
				continue
			}
			seen += rf.Amount
			if !slices.Contains(it.RefundIDs, rf.ID) {
				f.add(check, "%s: the client got refund %s, it is not in refundIds", it.ID, rf.ID)
			}
		}
		if seen != it.AmountRefunded {
			f.add(check, "%s: the client was refunded %d, amountRefunded is %d", it.ID, seen, it.AmountRefunded)
		}
	}
}

// refundsAnswered reports whether r sent refunds and each got an expected
// final answer, so that the client knows exactly what was refunded.
func refundsAnswered(r *Result) bool {
	for _, rf := range r.Refunds {
		if rf.Outcome != RefundOK && rf.Outcome != RefundRefused {
			return false
		}
	}
	return len(r.Refunds) > 0
}

// eventStatus is the status each event type's snapshot must have.
var eventStatus = map[string]string{
	"order.paid": "PAID", "order.payment_failed": "PAYMENT_FAILED",
	"payment_intent.created": "requires_confirmation", "payment_intent.processing": "processing",
	"payment_intent.requires_capture": "requires_capture", "payment_intent.succeeded": "succeeded",
	"payment_intent.payment_failed": "failed", "payment_intent.canceled": "canceled",
	"refund.created": "pending", "refund.succeeded": "succeeded", "refund.failed": "failed",
}

// checkEvents checks that every change of every object has exactly one
// event: sequences 1..n, one each, n the object's number of changes, each
// snapshot in the status its type names, the last one in the object's
// status. Objects whose payment still has work pending (a key in progress,
// a queued job) are left out: that work records their last events.
func checkEvents(f found, s snapshot) {
	const check = "one_event_per_change"
	busy := s.busy()
	want := func(id, status string, n int64) {
		if busy[id] {
			return
		}
		evs := s.events[id]
		seqs := map[int64]int{}
		for _, e := range evs {
			seqs[e.Sequence]++
			if eventStatus[e.Type] != e.Data.Object.Status {
				f.add(check, "%s: event %s %s holds a snapshot in status %q", id, e.ID.Hex(), e.Type, e.Data.Object.Status)
			}
			if e.Sequence == n && e.Data.Object.Status != status {
				f.add(check, "%s: the last event (%s) is %s, the object is %s", id, e.ID.Hex(), e.Type, status)
			}
		}
		for q := int64(1); q <= n; q++ {
			if seqs[q] != 1 {
				f.add(check, "%s (%s): %d events of change %d", id, status, seqs[q], q)
			}
		}
		if len(evs) != int(n) {
			f.add(check, "%s (%s): %d changes, %d events", id, status, n, len(evs))
		}
	}
	for _, o := range s.orders {
		n := int64(1)
		if o.Status == "CREATED" {
			n = 0
		}
		want(o.ID.Hex(), o.Status, n)
	}
	for _, it := range s.intents {
		want(it.ID, it.Status, it.Sequence)
	}
	for _, rf := range s.refunds {
		n := int64(2)
		if rf.Status == "pending" {
			n = 1
		}
		want(rf.ID, rf.Status, n)
	}
}

// checkWebhooks checks what the drill's webhook consumer ended with against
// the events in MongoDB: every event of every object whose work is done
// reached it, its latest state of each such object is the database's, and
// it rejected every forged copy the service recorded sending. forged counts
// those copies; an instance killed mid-attempt may send one it never
// recorded, so the consumer may reject more, never fewer.
func checkWebhooks(f found, s snapshot, v *webhookView, forged int) {
	if v == nil {
		return
	}
	busy := s.busy()
	status := s.statuses()
	for id, evs := range s.events {
		if busy[id] {
			continue
		}
		var last eventDoc
		for _, e := range evs {
			if !v.seen[eventIDOf(e)] {
				f.add("every_event_delivered", "%s: event %s (%s, change %d) never reached the consumer", id, eventIDOf(e), e.Type, e.Sequence)
			}
			if e.Sequence > last.Sequence {
				last = e
			}
		}
		got, ok := v.latest[id]
		switch {
		case !ok:
			f.add("consumer_view_matches", "%s: the consumer knows nothing of it; the database has %s at change %d", id, status[id], last.Sequence)
		case got.Sequence != last.Sequence || got.Status != status[id]:
			f.add("consumer_view_matches", "%s: the consumer has %s at change %d, the database %s at change %d", id, got.Status, got.Sequence, status[id], last.Sequence)
		}
	}
	if v.rejected < forged {
		f.add("no_forged_accepted", "the service sent %d forged deliveries, the consumer rejected %d", forged, v.rejected)
	}
}

func eventIDOf(e eventDoc) string { return "evt_" + e.ID.Hex() }

// busy returns the objects whose payment still has work pending (a key in
// progress, a queued job): that work records their last events.
func (s snapshot) busy() map[string]bool {
	pids := map[string]bool{}
	for _, k := range s.keys {
		if k.Status == keyInProgress {
			pids[s.pidOfKey(k.Key)] = true
		}
	}
	for _, it := range s.intents {
		if s.jobs[it.ID] {
			pids[it.CustomerID] = true
		}
	}
	out := map[string]bool{}
	pidOfIntent := map[string]string{}
	for _, o := range s.orders {
		out[o.ID.Hex()] = pids[o.UserID]
	}
	for _, it := range s.intents {
		pidOfIntent[it.ID] = it.CustomerID
		out[it.ID] = pids[it.CustomerID]
	}
	for _, rf := range s.refunds {
		out[rf.ID] = pids[pidOfIntent[rf.PaymentIntentID]]
	}
	return out
}

// statuses returns each object's status.
func (s snapshot) statuses() map[string]string {
	out := map[string]string{}
	for _, o := range s.orders {
		out[o.ID.Hex()] = o.Status
	}
	for _, it := range s.intents {
		out[it.ID] = it.Status
	}
	for _, rf := range s.refunds {
		out[rf.ID] = rf.Status
	}
	return out
}

// undelivered counts the events of objects whose work is done that the
// consumer has not received yet.
func undelivered(s snapshot, v webhookView) int {
	busy := s.busy()
	n := 0
	for id, evs := range s.events {
		for _, e := range evs {
			if !busy[id] && !v.seen[eventIDOf(e)] {
				n++
			}
		}
	}
	return n
}
