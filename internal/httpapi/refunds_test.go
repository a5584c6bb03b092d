package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

type refundBody struct {
	ID        string    `json:"id"`
	PaymentID string    `json:"payment_id"`
	Amount    int64     `json:"amount"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// paidIntent returns a succeeded intent of amount and its payment id.
func (a *app) paidIntent(amount int64) (intentID, paymentID string) {
	a.t.Helper()
	it := a.createIntent(fmt.Sprintf(`{"amount":%d,"currency":"USD","customer_id":"cus_r","payment_method_id":"pm_fake_visa"}`, amount))
	if rec := a.action("confirm", it.ID, `{}`, newKey()); rec.Code != http.StatusAccepted {
		a.t.Fatalf("confirm: %d %s", rec.Code, rec.Body)
	}
	a.process(it.ID)
	return it.ID, "pay_" + strings.TrimPrefix(it.ID, "pi_")
}

func (a *app) refund(body string, key *string) *httptest.ResponseRecorder {
	return a.do(request{method: "POST", path: "/refunds", body: body, key: key})
}

func (a *app) payment(intentID string) paymentBody {
	a.t.Helper()
	rec := a.do(request{method: "GET", path: "/payments/" + intentID})
	if rec.Code != http.StatusOK {
		a.t.Fatalf("payment: %d %s", rec.Code, rec.Body)
	}
	return decode[paymentBody](a.t, rec)
}

func TestRefunds(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	intentID, paymentID := a.paidIntent(5000)

	rec := a.refund(`{"payment_id":"`+paymentID+`","amount":1200,"reason":"requested_by_customer"}`, strp("k-refund-1"))
	if rec.Code != http.StatusCreated {
		t.Fatalf("partial refund: %d %s", rec.Code, rec.Body)
	}
	r := decode[refundBody](t, rec)
	if !strings.HasPrefix(r.ID, "re_") || r.PaymentID != paymentID || r.Amount != 1200 || r.Reason != "requested_by_customer" ||
		r.Status != "succeeded" || r.CreatedAt.IsZero() {
		t.Fatalf("refund %+v", r)
	}
	got := a.do(request{method: "GET", path: "/refunds/" + r.ID})
	if got.Code != http.StatusOK || decode[refundBody](t, got) != r {
		t.Fatalf("GET refund: %d %s", got.Code, got.Body)
	}
	// A replay returns the same refund and takes nothing more.
	again := a.refund(`{"payment_id":"`+paymentID+`","amount":1200,"reason":"requested_by_customer"}`, strp("k-refund-1"))
	if again.Body.String() != rec.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", again.Code, again.Body)
	}
	if p := a.payment(intentID); p.AmountRefunded != 1200 || p.CapturedAmount != 5000 {
		t.Fatalf("payment after one refund %+v", p)
	}

	wantError(t, a.refund(`{"payment_id":"`+paymentID+`","amount":3801,"reason":"duplicate"}`, newKey()),
		http.StatusBadRequest, "invalid_request_error", "amount_too_large")

	// Without an amount, what remains is refunded.
	rec = a.refund(`{"payment_id":"`+paymentID+`","reason":"fraudulent"}`, newKey())
	if rec.Code != http.StatusCreated || decode[refundBody](t, rec).Amount != 3800 {
		t.Fatalf("refund of the rest: %d %s", rec.Code, rec.Body)
	}
	wantError(t, a.refund(`{"payment_id":"`+paymentID+`","amount":1,"reason":"duplicate"}`, newKey()),
		http.StatusBadRequest, "invalid_request_error", "charge_already_refunded")
	wantError(t, a.refund(`{"payment_id":"`+paymentID+`","reason":"duplicate"}`, newKey()),
		http.StatusBadRequest, "invalid_request_error", "charge_already_refunded")
	if p := a.payment(intentID); p.AmountRefunded != 5000 {
		t.Fatalf("payment after full refund %+v", p)
	}
	if n := a.count("refunds", nil); n != 2 {
		t.Fatalf("refunds = %d, want 2: refused refunds leave nothing", n)
	}
}

func TestRefundRefusals(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	_, paymentID := a.paidIntent(1000)
	authorized := a.intentIn("requires_capture")
	declined := a.intentIn("failed")
	payOf := func(id string) string { return "pay_" + strings.TrimPrefix(id, "pi_") }

	tests := []struct {
		name, body     string
		status         int
		typ, code, prm string
	}{
		{"unknown payment", `{"payment_id":"pay_nothing","reason":"duplicate"}`, 404, "invalid_request_error", "resource_missing", "payment_id"},
		{"not a payment id", `{"payment_id":"ch_123","reason":"duplicate"}`, 404, "invalid_request_error", "resource_missing", "payment_id"},
		{"not captured", `{"payment_id":"` + payOf(authorized.ID) + `","reason":"duplicate"}`, 400, "invalid_request_error", "payment_not_captured", "payment_id"},
		{"failed payment", `{"payment_id":"` + payOf(declined.ID) + `","reason":"duplicate"}`, 400, "invalid_request_error", "payment_not_captured", "payment_id"},
		{"reason missing", `{"payment_id":"` + paymentID + `"}`, 422, "validation_error", "invalid_reason", "reason"},
		{"reason unknown", `{"payment_id":"` + paymentID + `","reason":"changed_mind"}`, 422, "validation_error", "invalid_reason", "reason"},
		{"amount zero", `{"payment_id":"` + paymentID + `","amount":0,"reason":"duplicate"}`, 422, "validation_error", "invalid_amount", "amount"},
		{"amount negative", `{"payment_id":"` + paymentID + `","amount":-5,"reason":"duplicate"}`, 422, "validation_error", "invalid_amount", "amount"},
		{"amount float", `{"payment_id":"` + paymentID + `","amount":1.5,"reason":"duplicate"}`, 422, "validation_error", "invalid_type", "amount"},
		{"payment id missing", `{"reason":"duplicate"}`, 422, "validation_error", "invalid_payment_id", "payment_id"},
		{"amount above captured", `{"payment_id":"` + paymentID + `","amount":1001,"reason":"duplicate"}`, 400, "invalid_request_error", "amount_too_large", "amount"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a.t = t
			e := wantError(t, a.refund(tc.body, newKey()), tc.status, tc.typ, tc.code)
			if e.Error.Param != tc.prm {
				t.Fatalf("param %q, want %q", e.Error.Param, tc.prm)
			}
		})
	}
	a.t = t
	if n := a.count("refunds", nil); n != 0 {
		t.Fatalf("refunds = %d, want 0", n)
	}
	wantError(t, a.do(request{method: "GET", path: "/refunds/re_missing"}), http.StatusNotFound, "invalid_request_error", "resource_missing")
}

// TestConcurrentRefundsNeverExceedTheCapture sends 20 partial refunds at
// once, each with its own key, asking together for twice the captured
// amount: exactly the captured amount is refunded, never more.
func TestConcurrentRefundsNeverExceedTheCapture(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	intentID, paymentID := a.paidIntent(10_000)
	const n = 20
	codes := make([]int, n)
	bodies := make([]string, n)
	recs := race(n, func(int) *httptest.ResponseRecorder {
		return a.refund(`{"payment_id":"`+paymentID+`","amount":1000,"reason":"requested_by_customer"}`, newKey())
	})
	for i, rec := range recs {
		codes[i], bodies[i] = rec.Code, rec.Body.String()
	}

	var refunded int64
	for i, code := range codes {
		switch {
		case code == http.StatusCreated:
			refunded += 1000
		case code == http.StatusBadRequest && (strings.Contains(bodies[i], "amount_too_large") || strings.Contains(bodies[i], "charge_already_refunded")):
		default:
			t.Fatalf("refund %d: %d %s", i, code, bodies[i])
		}
	}
	if refunded != 10_000 {
		t.Fatalf("refunds accepted for %d, want exactly 10000", refunded)
	}
	if p := a.payment(intentID); p.AmountRefunded != 10_000 || p.CapturedAmount != 10_000 {
		t.Fatalf("payment %+v", p)
	}
	var stored struct {
		Sum int64 `bson:"sum"`
	}
	cur, err := a.db.Collection("refunds").Aggregate(t.Context(), []bson.M{
		{"$match": bson.M{"status": "succeeded"}},
		{"$group": bson.M{"_id": nil, "sum": bson.M{"$sum": "$amount"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Next(t.Context()) {
		if err := cur.Decode(&stored); err != nil {
			t.Fatal(err)
		}
	}
	// The refused ones are kept as failed: each had its refund.created
	// event, so each ends with refund.failed.
	ok, failed := a.count("refunds", bson.M{"status": "succeeded"}), a.count("refunds", bson.M{"status": "failed"})
	if stored.Sum != 10_000 || ok != 10 || ok+failed != a.count("refunds", nil) {
		t.Fatalf("stored refunds sum to %d in %d succeeded and %d failed of %d, want 10000 in 10 and the rest failed",
			stored.Sum, ok, failed, a.count("refunds", nil))
	}
}
