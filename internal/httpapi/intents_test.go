package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/internal/intents"
	"github.com/reliabledemo/payments/internal/worker"
)

const intentJSON = `{"amount":2000,"currency":"usd","customer_id":"cus_1","payment_method_id":"pm_fake_visa"}`

type intentBody struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Status           string            `json:"status"`
	Amount           int64             `json:"amount"`
	AmountReceived   int64             `json:"amount_received"`
	Currency         string            `json:"currency"`
	CustomerID       string            `json:"customer_id"`
	PaymentMethodID  string            `json:"payment_method_id"`
	CaptureMethod    string            `json:"capture_method"`
	ClientSecret     string            `json:"client_secret"`
	Metadata         map[string]string `json:"metadata"`
	LastPaymentError *struct {
		Type string `json:"type"`
		Code string `json:"code"`
	} `json:"last_payment_error"`
	CancellationReason *string   `json:"cancellation_reason"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

type paymentBody struct {
	PaymentID       string `json:"payment_id"`
	PaymentIntentID string `json:"payment_intent_id"`
	Status          string `json:"status"`
	CapturedAmount  int64  `json:"captured_amount"`
	AmountRefunded  int64  `json:"amount_refunded"`
	AuthCode        string `json:"auth_code"`
	ReceiptURL      string `json:"receipt_url"`
}

// keys hands out Idempotency-Keys unique within a test.
var keySeq struct {
	sync.Mutex
	n int
}

func newKey() *string {
	keySeq.Lock()
	defer keySeq.Unlock()
	keySeq.n++
	return strp(fmt.Sprintf("key-%d", keySeq.n))
}

// createIntent creates an intent from body and returns it.
func (a *app) createIntent(body string) intentBody {
	a.t.Helper()
	rec := a.do(request{method: "POST", path: "/payment_intents", body: body, key: newKey()})
	if rec.Code != http.StatusCreated {
		a.t.Fatalf("create intent: %d %s", rec.Code, rec.Body)
	}
	return decode[intentBody](a.t, rec)
}

func (a *app) getIntent(id string) intentBody {
	a.t.Helper()
	rec := a.do(request{method: "GET", path: "/payment_intents/" + id})
	if rec.Code != http.StatusOK {
		a.t.Fatalf("get intent: %d %s", rec.Code, rec.Body)
	}
	return decode[intentBody](a.t, rec)
}

// action runs a client action (confirm, capture or cancel) on an intent.
func (a *app) action(action, id, body string, key *string) *httptest.ResponseRecorder {
	method := "POST"
	if strings.HasPrefix(action, "confirm") {
		method = "PATCH"
	}
	return a.do(request{method: method, path: "/payment_intents/" + id + "/" + action, body: body, key: key})
}

// process runs the worker's job for an intent once, as the worker would.
func (a *app) process(id string) {
	a.t.Helper()
	out, err := a.intents.Process(context.Background(), id)
	if err != nil || out != worker.Done {
		a.t.Fatalf("process %s: outcome %v, err %v", id, out, err)
	}
}

// intentIn creates an intent and drives it to status with client actions
// and direct processing.
func (a *app) intentIn(status string) intentBody {
	a.t.Helper()
	body := intentJSON
	if status == "requires_capture" {
		body = `{"amount":2000,"currency":"USD","customer_id":"cus_1","payment_method_id":"pm_fake_visa","capture_method":"manual"}`
	}
	if status == "failed" {
		body = strings.Replace(intentJSON, "pm_fake_visa", "pm_fake_declined", 1)
	}
	it := a.createIntent(body)
	must := func(rec *httptest.ResponseRecorder, code int) {
		a.t.Helper()
		if rec.Code != code {
			a.t.Fatalf("driving to %s: %d %s", status, rec.Code, rec.Body)
		}
	}
	switch status {
	case "requires_confirmation":
	case "canceled":
		must(a.action("cancel", it.ID, `{}`, newKey()), http.StatusOK)
	default:
		must(a.action("confirm", it.ID, `{}`, newKey()), http.StatusAccepted)
		if status != "processing" {
			a.process(it.ID)
		}
	}
	if got := a.getIntent(it.ID); got.Status != status {
		a.t.Fatalf("intent is %s, want %s", got.Status, status)
	}
	return it
}

// waitStatus polls the intent until it has status (the worker runs it).
func (a *app) waitStatus(id, status string) intentBody {
	a.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		it := a.getIntent(id)
		if it.Status == status {
			return it
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("intent %s still %s, want %s", id, it.Status, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCreateIntent(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	rec := a.do(request{method: "POST", path: "/payment_intents", key: strp("k-create"),
		body: `{"amount":2000,"currency":"eur","customer_id":"cus_9","payment_method_id":"pm_fake_mastercard","metadata":{"order":"A-1"}}`})
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	it := decode[intentBody](t, rec)
	if !strings.HasPrefix(it.ID, "pi_") || !strings.HasPrefix(it.ClientSecret, it.ID+"_secret_") ||
		it.Status != "requires_confirmation" || it.Amount != 2000 || it.Currency != "EUR" || it.CustomerID != "cus_9" ||
		it.PaymentMethodID != "pm_fake_mastercard" || it.CaptureMethod != "automatic" || it.Metadata["order"] != "A-1" ||
		it.CreatedAt.IsZero() || !it.UpdatedAt.Equal(it.CreatedAt) || it.Object != "payment_intent" {
		t.Fatalf("unexpected intent %+v", it)
	}
	if got := a.getIntent(it.ID); got.ID != it.ID || got.Status != it.Status || got.ClientSecret != it.ClientSecret {
		t.Fatalf("GET returned %+v", got)
	}
	if n := a.count("paymentintents", nil); n != 1 {
		t.Fatalf("intents = %d, want 1", n)
	}
	wantError(t, a.do(request{method: "GET", path: "/payment_intents/pi_missing"}), http.StatusNotFound, "invalid_request_error", "resource_missing")
}

func TestCreateIntentValidation(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	manyKeys := make([]string, 51)
	for i := range manyKeys {
		manyKeys[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	tests := []struct {
		name, body, param string
	}{
		{"amount zero", `{"amount":0,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa"}`, "amount"},
		{"amount too large", `{"amount":100000000,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa"}`, "amount"},
		{"amount float", `{"amount":10.5,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa"}`, "amount"},
		{"amount string", `{"amount":"10","currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa"}`, "amount"},
		{"amount missing", `{"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa"}`, "amount"},
		{"currency unknown", `{"amount":10,"currency":"ABC","customer_id":"c","payment_method_id":"pm_fake_visa"}`, "currency"},
		{"currency missing", `{"amount":10,"customer_id":"c","payment_method_id":"pm_fake_visa"}`, "currency"},
		{"customer empty", `{"amount":10,"currency":"USD","customer_id":"","payment_method_id":"pm_fake_visa"}`, "customer_id"},
		{"customer too long", `{"amount":10,"currency":"USD","customer_id":"` + strings.Repeat("c", 256) + `","payment_method_id":"pm_fake_visa"}`, "customer_id"},
		{"customer number", `{"amount":10,"currency":"USD","customer_id":7,"payment_method_id":"pm_fake_visa"}`, "customer_id"},
		{"payment method empty", `{"amount":10,"currency":"USD","customer_id":"c","payment_method_id":""}`, "payment_method_id"},
		{"payment method unknown", `{"amount":10,"currency":"USD","customer_id":"c","payment_method_id":"pm_card_visa"}`, "payment_method_id"},
		{"capture method unknown", `{"amount":10,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa","capture_method":"later"}`, "capture_method"},
		{"metadata not an object", `{"amount":10,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa","metadata":"x"}`, "metadata"},
		{"metadata nested", `{"amount":10,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa","metadata":{"a":{"b":"c"}}}`, "metadata"},
		{"metadata number value", `{"amount":10,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa","metadata":{"a":1}}`, "metadata"},
		{"metadata 51 keys", `{"amount":10,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa","metadata":{` + strings.Join(manyKeys, ",") + `}}`, "metadata"},
		{"metadata key 41 characters", `{"amount":10,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa","metadata":{"` + strings.Repeat("k", 41) + `":"v"}}`, "metadata"},
		{"metadata value 501 characters", `{"amount":10,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa","metadata":{"k":"` + strings.Repeat("v", 501) + `"}}`, "metadata"},
		{"metadata operator key", `{"amount":10,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_visa","metadata":{"$set":"v"}}`, "metadata"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a.t = t
			rec := a.do(request{method: "POST", path: "/payment_intents", body: tc.body, key: newKey()})
			wantValidation(t, rec, tc.param)
		})
	}
	a.t = t
	// The limits themselves are accepted.
	a.createIntent(`{"amount":99999999,"currency":"JPY","customer_id":"` + strings.Repeat("c", 255) + `","payment_method_id":"pm_fake_visa","metadata":{"` + strings.Repeat("k", 40) + `":"` + strings.Repeat("v", 500) + `"}}`)
	if n := a.count("paymentintents", nil); n != 1 {
		t.Fatalf("intents = %d, want only the valid one", n)
	}
	if n := a.count("idempotencykeys", nil); n != 1 {
		t.Fatalf("idempotency records = %d, want only the valid one's", n)
	}
}

// wantValidation checks a 422 validation_error that names param.
func wantValidation(t *testing.T, rec *httptest.ResponseRecorder, param string) {
	t.Helper()
	e := decode[apiError](t, rec)
	if rec.Code != http.StatusUnprocessableEntity || e.Error.Type != "validation_error" || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("got %d %s, want 422 validation_error", rec.Code, rec.Body)
	}
	if e.Error.Param != param {
		t.Fatalf("param %q, want %q: %s", e.Error.Param, param, rec.Body)
	}
}

func TestAutomaticIntentSucceedsThroughTheWorker(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	it := a.createIntent(intentJSON)
	rec := a.action("confirm", it.ID, ``, strp("k-confirm"))
	if rec.Code != http.StatusAccepted || rec.Body.String() != `{"id":"`+it.ID+`","status":"processing"}` {
		t.Fatalf("confirm: %d %s", rec.Code, rec.Body)
	}
	// Until a worker has run, the payment is processing.
	wantError(t, a.do(request{method: "GET", path: "/payments/" + it.ID}), http.StatusTooEarly, "invalid_request_error", "payment_processing")
	if n := a.count("intentjobs", bson.M{"_id": it.ID}); n != 1 {
		t.Fatalf("jobs = %d, want 1 queued by confirm", n)
	}

	a.startWorker(2, 30*time.Second)
	got := a.waitStatus(it.ID, "succeeded")
	if got.AmountReceived != 2000 || got.LastPaymentError != nil {
		t.Fatalf("succeeded intent %+v", got)
	}
	rec = a.do(request{method: "GET", path: "/payments/" + it.ID})
	if rec.Code != http.StatusOK {
		t.Fatalf("payment: %d %s", rec.Code, rec.Body)
	}
	p := decode[paymentBody](t, rec)
	if p.PaymentID != "pay_"+strings.TrimPrefix(it.ID, "pi_") || p.PaymentIntentID != it.ID || p.Status != "succeeded" ||
		p.CapturedAmount != 2000 || p.AmountRefunded != 0 || len(p.AuthCode) != 6 || !strings.Contains(p.ReceiptURL, p.PaymentID) {
		t.Fatalf("payment %+v", p)
	}
	if n := a.count("charges", bson.M{"_id": it.ID}); n != 1 {
		t.Fatalf("charges for the intent = %d, want 1", n)
	}
	waitCount(t, a, "intentjobs", 0) // the finished job leaves the queue
}

// waitCount waits until coll holds n documents.
func waitCount(t *testing.T, a *app, coll string, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for a.count(coll, nil) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d documents, want %d", coll, a.count(coll, nil), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestManualCapture(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	it := a.intentIn("requires_capture")
	p := decode[paymentBody](t, a.do(request{method: "GET", path: "/payments/" + it.ID}))
	if p.Status != "requires_capture" || p.CapturedAmount != 0 {
		t.Fatalf("authorized payment %+v", p)
	}
	for _, body := range []string{`{"amount_to_capture":2001}`, `{"amount_to_capture":0}`, `{"amount_to_capture":"5"}`} {
		wantValidation(t, a.action("capture", it.ID, body, newKey()), "amount_to_capture")
	}
	rec := a.action("capture", it.ID, `{"amount_to_capture":1500}`, strp("k-capture"))
	if rec.Code != http.StatusOK {
		t.Fatalf("capture: %d %s", rec.Code, rec.Body)
	}
	if got := decode[intentBody](t, rec); got.Status != "succeeded" || got.AmountReceived != 1500 {
		t.Fatalf("captured intent %+v", got)
	}
	p = decode[paymentBody](t, a.do(request{method: "GET", path: "/payments/" + it.ID}))
	if p.Status != "succeeded" || p.CapturedAmount != 1500 {
		t.Fatalf("captured payment %+v", p)
	}
	if n := a.count("charges", nil); n != 1 {
		t.Fatalf("charges = %d, want 1: capture must not charge again", n)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	for _, from := range []string{"requires_confirmation", "requires_capture"} {
		it := a.intentIn(from)
		rec := a.action("cancel", it.ID, `{"cancellation_reason":"requested_by_customer"}`, newKey())
		if rec.Code != http.StatusOK {
			t.Fatalf("cancel from %s: %d %s", from, rec.Code, rec.Body)
		}
		got := decode[intentBody](t, rec)
		if got.Status != "canceled" || got.CancellationReason == nil || *got.CancellationReason != "requested_by_customer" {
			t.Fatalf("canceled intent %+v", got)
		}
	}
	it := a.intentIn("requires_confirmation")
	e := wantError(t, a.action("cancel", it.ID, `{"cancellation_reason":"bored"}`, newKey()), http.StatusUnprocessableEntity, "validation_error", "invalid_cancellation_reason")
	if e.Error.Param != "cancellation_reason" {
		t.Fatalf("param %q", e.Error.Param)
	}
}

// TestTransitions applies every client action to an intent in every status:
// the state machine's table decides which succeed, and every refusal is a
// 409 that changes nothing.
func TestTransitions(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	allowed := map[string]map[string]string{ // status → action → status after
		"requires_confirmation": {"confirm": "processing", "cancel": "canceled"},
		"processing":            {},
		"requires_capture":      {"capture": "succeeded", "cancel": "canceled"},
		"succeeded":             {},
		"failed":                {},
		"canceled":              {},
	}
	okStatus := map[string]int{"confirm": http.StatusAccepted, "capture": http.StatusOK, "cancel": http.StatusOK}
	for from, actions := range allowed {
		for _, action := range []string{"confirm", "capture", "cancel"} {
			t.Run(from+"/"+action, func(t *testing.T) {
				a.t = t
				it := a.intentIn(from)
				before := a.getIntent(it.ID)
				rec := a.action(action, it.ID, `{}`, newKey())
				to, ok := actions[action]
				if !ok {
					wantError(t, rec, http.StatusConflict, "invalid_request_error", "payment_intent_unexpected_state")
					if after := a.getIntent(it.ID); after.Status != from || !after.UpdatedAt.Equal(before.UpdatedAt) {
						t.Fatalf("a refused %s changed the intent: %+v", action, after)
					}
					return
				}
				if rec.Code != okStatus[action] {
					t.Fatalf("%s from %s: %d %s", action, from, rec.Code, rec.Body)
				}
				if after := a.getIntent(it.ID); after.Status != to {
					t.Fatalf("%s from %s led to %s, want %s", action, from, after.Status, to)
				}
			})
		}
	}
}

func TestPaymentMethodsDecideTheOutcome(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	tests := []struct {
		pm, confirmPM, query string
		status, code         string
	}{
		{pm: "pm_fake_visa", status: "succeeded"},
		{pm: "pm_fake_mastercard", status: "succeeded"},
		{pm: "pm_fake_declined", status: "failed", code: "card_declined"},
		{pm: "pm_fake_insufficient_funds", status: "failed", code: "insufficient_funds"},
		{pm: "pm_fake_visa", query: "?force=failure", status: "failed", code: "card_declined"},
		{pm: "pm_fake_visa", confirmPM: "pm_fake_insufficient_funds", status: "failed", code: "insufficient_funds"},
		{pm: "pm_fake_declined", confirmPM: "pm_fake_mastercard", status: "succeeded"},
	}
	for _, tc := range tests {
		t.Run(tc.pm+tc.query+"/"+tc.confirmPM, func(t *testing.T) {
			a.t = t
			it := a.createIntent(strings.Replace(intentJSON, "pm_fake_visa", tc.pm, 1))
			body := `{}`
			if tc.confirmPM != "" {
				body = `{"payment_method_id":"` + tc.confirmPM + `"}`
			}
			if rec := a.action("confirm"+tc.query, it.ID, body, newKey()); rec.Code != http.StatusAccepted {
				t.Fatalf("confirm: %d %s", rec.Code, rec.Body)
			}
			a.process(it.ID)
			got := a.getIntent(it.ID)
			if got.Status != tc.status {
				t.Fatalf("status %s, want %s", got.Status, tc.status)
			}
			switch {
			case tc.code == "" && got.LastPaymentError != nil:
				t.Fatalf("unexpected last_payment_error %+v", got.LastPaymentError)
			case tc.code != "" && (got.LastPaymentError == nil || got.LastPaymentError.Code != tc.code || got.LastPaymentError.Type != "card_error"):
				t.Fatalf("last_payment_error %+v, want card_error/%s", got.LastPaymentError, tc.code)
			}
			// A failed intent has a failed payment, not a missing one.
			p := decode[paymentBody](t, a.do(request{method: "GET", path: "/payments/" + it.ID}))
			if want := map[string]string{"succeeded": "succeeded", "failed": "failed"}[tc.status]; p.Status != want {
				t.Fatalf("payment status %s, want %s", p.Status, want)
			}
		})
	}
	a.t = t
	it := a.createIntent(intentJSON)
	for _, tc := range []struct{ query, body, param string }{
		{"?force=success", `{}`, "force"},
		{"", `{"payment_method_id":"pm_unknown"}`, "payment_method_id"},
	} {
		wantValidation(t, a.action("confirm"+tc.query, it.ID, tc.body, newKey()), tc.param)
	}
	if got := a.getIntent(it.ID); got.Status != "requires_confirmation" {
		t.Fatalf("invalid confirms changed the intent to %s", got.Status)
	}
}

func TestConfirmReplayAndQueryFingerprint(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	it := a.createIntent(intentJSON)
	first := a.action("confirm", it.ID, `{}`, strp("k-confirm"))
	again := a.action("confirm", it.ID, `{}`, strp("k-confirm"))
	if first.Code != http.StatusAccepted || again.Code != first.Code || again.Body.String() != first.Body.String() ||
		again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
	}
	// The query string is part of the request: the same key with force=failure
	// is another request.
	wantError(t, a.action("confirm?force=failure", it.ID, `{}`, strp("k-confirm")), http.StatusUnprocessableEntity, "idempotency_error", "idempotency_key_reused")
	// A new key is a new confirm, which the state machine refuses.
	wantError(t, a.action("confirm", it.ID, `{}`, newKey()), http.StatusConflict, "invalid_request_error", "payment_intent_unexpected_state")
	if n := a.count("intentjobs", nil); n != 1 {
		t.Fatalf("jobs = %d, want 1", n)
	}
	a.process(it.ID)
	if got := a.getIntent(it.ID); got.Status != "succeeded" {
		t.Fatalf("status %s: force=failure from the refused request leaked", got.Status)
	}
}

// TestConcurrentActionsHaveOneWinner races 20 requests, each with its own
// key, for one transition: exactly one wins and the rest get 409.
func TestConcurrentActionsHaveOneWinner(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	tests := []struct {
		from    string
		actions []string // raced in turn
		okCode  map[string]int
	}{
		{"requires_confirmation", []string{"confirm"}, map[string]int{"confirm": 202}},
		{"requires_confirmation", []string{"cancel"}, map[string]int{"cancel": 200}},
		{"requires_confirmation", []string{"confirm", "cancel"}, map[string]int{"confirm": 202, "cancel": 200}},
		{"requires_capture", []string{"capture"}, map[string]int{"capture": 200}},
		{"requires_capture", []string{"capture", "cancel"}, map[string]int{"capture": 200, "cancel": 200}},
	}
	for _, tc := range tests {
		t.Run(tc.from+"/"+strings.Join(tc.actions, "+"), func(t *testing.T) {
			a.t = t
			it := a.intentIn(tc.from)
			const n = 20
			codes := make([]int, n)
			bodies := make([]string, n)
			recs := race(n, func(i int) *httptest.ResponseRecorder {
				return a.action(tc.actions[i%len(tc.actions)], it.ID, `{}`, newKey())
			})
			for i, rec := range recs {
				codes[i], bodies[i] = rec.Code, rec.Body.String()
			}
			wins := 0
			for i, code := range codes {
				switch {
				case code == tc.okCode[tc.actions[i%len(tc.actions)]]:
					wins++
				case code == http.StatusConflict && strings.Contains(bodies[i], "payment_intent_unexpected_state"):
				default:
					t.Fatalf("request %d: %d %s", i, code, bodies[i])
				}
			}
			if wins != 1 {
				t.Fatalf("%d requests won, want exactly 1", wins)
			}
		})
	}
}

// TestOneChargePerIntent processes the same intent from several workers at
// once and again afterwards: the provider is charged once.
func TestOneChargePerIntent(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	it := a.intentIn("processing")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.intents.Process(context.Background(), it.ID); err != nil {
				t.Errorf("process: %v", err)
			}
		}()
	}
	wg.Wait()
	a.process(it.ID)
	if got := a.getIntent(it.ID); got.Status != "succeeded" {
		t.Fatalf("status %s", got.Status)
	}
	if n := a.count("charges", nil); n != 1 {
		t.Fatalf("charges = %d, want 1", n)
	}
}

func TestPaymentsEndpoint(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	wantError(t, a.do(request{method: "GET", path: "/payments/pi_unknown"}), http.StatusNotFound, "invalid_request_error", "resource_missing")
	it := a.intentIn("requires_confirmation")
	wantError(t, a.do(request{method: "GET", path: "/payments/" + it.ID}), http.StatusNotFound, "invalid_request_error", "resource_missing")
	a.action("confirm", it.ID, `{}`, newKey())
	rec := a.do(request{method: "GET", path: "/payments/" + it.ID})
	wantError(t, rec, http.StatusTooEarly, "invalid_request_error", "payment_processing")
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("425 without Retry-After")
	}
	a.process(it.ID)
	if rec := a.do(request{method: "GET", path: "/payments/" + it.ID}); rec.Code != http.StatusOK {
		t.Fatalf("after processing: %d %s", rec.Code, rec.Body)
	}
}

// TestWorkerStuckAfterChargeIsReplaced stops one instance's worker right
// after it has charged, as if its process had died there. Another
// instance's worker takes the job once the lease has run out and finishes
// the intent from the same ledger entry: one charge, one terminal state.
// When the first worker wakes, it changes nothing.
func TestWorkerStuckAfterChargeIsReplaced(t *testing.T) {
	t.Parallel()
	charged, wake := make(chan struct{}), make(chan struct{})
	var once sync.Once
	first := newApp(t, appOptions{intentHooks: intents.Hooks{AfterCharge: func() {
		once.Do(func() { close(charged); <-wake })
	}}})
	second := newApp(t, appOptions{db: first.db})

	it := first.createIntent(intentJSON)
	if rec := first.action("confirm", it.ID, `{}`, newKey()); rec.Code != http.StatusAccepted {
		t.Fatalf("confirm: %d %s", rec.Code, rec.Body)
	}
	const lease = 5 * time.Second
	first.startWorker(1, lease)
	resume := sync.OnceFunc(func() { close(wake) })
	t.Cleanup(resume) // runs before the worker's cleanup
	<-charged
	if got := first.getIntent(it.ID); got.Status != "processing" {
		t.Fatalf("status %s while the first worker is stuck", got.Status)
	}

	second.clock.Advance(lease + time.Second) // the second instance lives after the lease
	second.startWorker(1, lease)
	second.waitStatus(it.ID, "succeeded")
	waitCount(t, second, "intentjobs", 0)

	// The first worker resumes: its outcome is refused and its job is gone.
	before := first.getIntent(it.ID)
	resume()
	time.Sleep(100 * time.Millisecond)
	if after := first.getIntent(it.ID); after.Status != "succeeded" || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("the resumed worker changed the intent: %+v", after)
	}
	if n := first.count("charges", nil); n != 1 {
		t.Fatalf("charges = %d, want 1", n)
	}
}

// TestStalledConfirmKeepsItsJob stalls a confirm between queueing its job
// and moving the intent to processing, for longer than the worker's grace
// period: the worker drops the job of what still looks like an abandoned
// confirm. The confirm must queue the job again, or the intent would stay
// processing forever.
func TestStalledConfirmKeepsItsJob(t *testing.T) {
	t.Parallel()
	const lease = 5 * time.Second
	var a *app
	var once sync.Once
	a = newApp(t, appOptions{intentHooks: intents.Hooks{AfterEnqueue: func() {
		once.Do(func() {
			a.clock.Advance(2 * lease) // the job is now older than the grace period
			waitCount(t, a, "intentjobs", 0)
		})
	}}})
	a.startWorker(1, lease)
	it := a.createIntent(intentJSON)
	if rec := a.action("confirm", it.ID, `{}`, newKey()); rec.Code != http.StatusAccepted {
		t.Fatalf("confirm: %d %s", rec.Code, rec.Body)
	}
	a.waitStatus(it.ID, "succeeded")
	if n := a.count("charges", nil); n != 1 {
		t.Fatalf("charges = %d, want 1", n)
	}
}
