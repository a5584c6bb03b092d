package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/internal/provider"
)

const orderJSON = `{"userId":"u1","amount":500,"currency":"INR"}`

func TestCreateOrderPaysAndStores(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	rec := a.postOrder("k-create", orderJSON)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	o := decode[orderBody](t, rec)
	if o.ID == "" || o.UserID != "u1" || o.Amount != 500 || o.Currency != "INR" || o.Status != "PAID" {
		t.Fatalf("unexpected order %+v", o)
	}
	if o.Payment == nil || o.Payment.Provider != provider.Name || !strings.HasPrefix(o.Payment.PaymentID, "pay_") || o.Payment.Amount != 500 {
		t.Fatalf("unexpected payment %+v", o.Payment)
	}
	if rec.Header().Get("Idempotent-Replayed") != "" {
		t.Fatal("first response marked as replayed")
	}
	got := a.do(request{method: "GET", path: "/orders/" + o.ID})
	if got.Code != http.StatusOK || decode[orderBody](t, got).Status != "PAID" {
		t.Fatalf("GET order: %d %s", got.Code, got.Body)
	}
	if n := a.count("charges", nil); n != 1 {
		t.Fatalf("charges = %d, want 1", n)
	}
	var rec2 bson.M
	if err := a.db.Collection("idempotencykeys").FindOne(t.Context(), bson.M{"key": "k-create"}).Decode(&rec2); err != nil {
		t.Fatalf("idempotency record: %v", err)
	}
	if rec2["status"] != "COMPLETED" || rec2["userId"] != "u1" || rec2["method"] != "POST" || rec2["path"] != "/orders" {
		t.Fatalf("unexpected record %v", rec2)
	}
}

func TestReplayIsByteIdenticalAndRunsNothing(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	first := a.postOrder("k-replay", orderJSON)
	// Same content, other key order and whitespace: the same request.
	again := a.postOrder("k-replay", "{ \"currency\": \"INR\",\n \"amount\": 500, \"userId\": \"u1\" }")
	if again.Code != first.Code || !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) {
		t.Fatalf("replay differs:\n%d %s\n%d %s", first.Code, first.Body, again.Code, again.Body)
	}
	if again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatal("replay not marked Idempotent-Replayed")
	}
	if again.Header().Get("Content-Type") != first.Header().Get("Content-Type") {
		t.Fatalf("content type %q vs %q", again.Header().Get("Content-Type"), first.Header().Get("Content-Type"))
	}
	if n := a.count("orders", nil); n != 1 {
		t.Fatalf("orders = %d, want 1", n)
	}
	if n := a.count("charges", nil); n != 1 {
		t.Fatalf("charges = %d, want 1", n)
	}
}

func TestReusedKeyWithOtherBodyIs422(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	a.postOrder("k-reuse", orderJSON)
	rec := a.postOrder("k-reuse", `{"userId":"u1","amount":501,"currency":"INR"}`)
	wantError(t, rec, http.StatusUnprocessableEntity, "idempotency_error", "idempotency_key_reused")
	if n := a.count("orders", nil); n != 1 {
		t.Fatalf("orders = %d, want 1", n)
	}
}

func TestKeyIsScopedToUser(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	r1 := a.postOrder("k-shared", `{"userId":"alice","amount":700,"currency":"USD"}`)
	r2 := a.postOrder("k-shared", `{"userId":"bob","amount":700,"currency":"USD"}`)
	if r1.Code != http.StatusCreated || r2.Code != http.StatusCreated {
		t.Fatalf("statuses %d %d", r1.Code, r2.Code)
	}
	if r2.Header().Get("Idempotent-Replayed") != "" || decode[orderBody](t, r2).UserID != "bob" {
		t.Fatalf("bob got alice's response: %s", r2.Body)
	}
	if n := a.count("orders", nil); n != 2 {
		t.Fatalf("orders = %d, want 2", n)
	}
}

func TestIdempotencyKeyHeaderIsChecked(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	tests := []struct {
		name string
		key  *string
		code string
	}{
		{"missing", nil, "idempotency_key_missing"},
		{"empty", strp(""), "idempotency_key_invalid"},
		{"too long", strp(strings.Repeat("k", 256)), "idempotency_key_invalid"},
		{"control character", strp("abc\x01def"), "idempotency_key_invalid"},
		{"non-ASCII", strp("clé"), "idempotency_key_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := a.do(request{method: "POST", path: "/orders", body: orderJSON, key: tt.key})
			wantError(t, rec, http.StatusBadRequest, "invalid_request_error", tt.code)
		})
	}
	if rec := a.postOrder(strings.Repeat("k", 255), orderJSON); rec.Code != http.StatusCreated {
		t.Fatalf("255-character key refused: %d %s", rec.Code, rec.Body)
	}
	if n := a.count("idempotencykeys", nil); n != 1 {
		t.Fatalf("idempotency records = %d, want 1 (refused requests store nothing)", n)
	}
}

func TestRejectedInputIsNotStored(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	rec := a.postOrder("k-fix", `{"userId":"u1","amount":0,"currency":"INR"}`)
	e := wantError(t, rec, http.StatusUnprocessableEntity, "validation_error", "invalid_amount")
	if e.Error.Param != "amount" {
		t.Fatalf("param = %q", e.Error.Param)
	}
	// The corrected retry with the same key runs.
	if rec := a.postOrder("k-fix", orderJSON); rec.Code != http.StatusCreated {
		t.Fatalf("corrected retry: %d %s", rec.Code, rec.Body)
	}
}

func TestOrderValidation(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	tests := []struct {
		name, body, param, code string
	}{
		{"no userId", `{"amount":500,"currency":"USD"}`, "userId", "invalid_user_id"},
		{"userId too long", `{"userId":"` + strings.Repeat("u", 129) + `","amount":500,"currency":"USD"}`, "userId", "invalid_user_id"},
		{"userId operator", `{"userId":{"$gt":""},"amount":500,"currency":"USD"}`, "userId", "invalid_type"},
		{"amount float", `{"userId":"u","amount":5.5,"currency":"USD"}`, "amount", "invalid_type"},
		{"amount string", `{"userId":"u","amount":"500","currency":"USD"}`, "amount", "invalid_type"},
		{"amount too big", `{"userId":"u","amount":100000000,"currency":"USD"}`, "amount", "invalid_amount"},
		{"amount negative", `{"userId":"u","amount":-1,"currency":"USD"}`, "amount", "invalid_amount"},
		{"amount overflow", `{"userId":"u","amount":123456789012345678901234567890,"currency":"USD"}`, "amount", "invalid_amount"},
		{"currency unknown", `{"userId":"u","amount":500,"currency":"ABC"}`, "currency", "invalid_currency"},
		{"currency XXX", `{"userId":"u","amount":500,"currency":"XXX"}`, "currency", "invalid_currency"},
		{"currency missing", `{"userId":"u","amount":500}`, "currency", "invalid_currency"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := a.postOrder(fmt.Sprintf("k-val-%d", i), tt.body)
			e := wantError(t, rec, http.StatusUnprocessableEntity, "validation_error", tt.code)
			if e.Error.Param != tt.param {
				t.Fatalf("param = %q, want %q", e.Error.Param, tt.param)
			}
		})
	}
	if rec := a.postOrder("k-lower", `{"userId":"u","amount":500,"currency":"usd"}`); rec.Code != http.StatusCreated || decode[orderBody](t, rec).Currency != "USD" {
		t.Fatalf("lower-case currency: %d %s", rec.Code, rec.Body)
	}
	if n := a.count("orders", nil); n != 1 {
		t.Fatalf("orders = %d, want 1", n)
	}
}

func TestPaymentFailureIsStoredAndReplayed(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{behavior: provider.Behavior{FailureRate: 1}})
	first := a.postOrder("k-fail", orderJSON)
	e := wantError(t, first, http.StatusBadGateway, "api_error", "payment_failed")
	_ = e
	var body struct {
		Order orderBody `json:"order"`
	}
	body = decode[struct {
		Order orderBody `json:"order"`
	}](t, first)
	if body.Order.Status != "PAYMENT_FAILED" || body.Order.Payment != nil {
		t.Fatalf("order in 502 body: %+v", body.Order)
	}
	again := a.postOrder("k-fail", orderJSON)
	if again.Code != http.StatusBadGateway || !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("failure not replayed: %d %s", again.Code, again.Body)
	}
	if n := a.count("charges", bson.M{"status": "failed"}); n != 1 {
		t.Fatalf("failed charges = %d, want 1", n)
	}
}

func TestInFlightKeyIs409WithRetryAfter(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{behavior: provider.Behavior{MinDelayMs: 1500, MaxDelayMs: 1500}})
	done := make(chan int)
	go func() { done <- a.postOrder("k-busy", orderJSON).Code }()
	waitFor(t, func() bool { return a.count("idempotencykeys", bson.M{"key": "k-busy"}) == 1 })
	rec := a.postOrder("k-busy", orderJSON)
	wantError(t, rec, http.StatusConflict, "idempotency_error", "idempotency_key_in_use")
	if ra := rec.Header().Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After = %q", ra)
	}
	// A different body is refused as a mismatch even while the first runs.
	mis := a.postOrder("k-busy", `{"userId":"u1","amount":999,"currency":"INR"}`)
	wantError(t, mis, http.StatusUnprocessableEntity, "idempotency_error", "idempotency_key_reused")
	if code := <-done; code != http.StatusCreated {
		t.Fatalf("first request: %d", code)
	}
}

func TestConcurrentRequestsWithOneKeyMakeOneOrder(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{behavior: provider.Behavior{MinDelayMs: 50, MaxDelayMs: 50}})
	const n = 32
	codes := make([]int, n)
	bodies := make([][]byte, n)
	for i, rec := range race(n, func(int) *httptest.ResponseRecorder { return a.postOrder("k-race", orderJSON) }) {
		codes[i], bodies[i] = rec.Code, rec.Body.Bytes()
	}
	var created []byte
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			if created != nil && !bytes.Equal(created, bodies[i]) {
				t.Fatalf("two different 201 bodies:\n%s\n%s", created, bodies[i])
			}
			created = bodies[i]
		case http.StatusConflict:
		default:
			t.Fatalf("request %d: status %d %s", i, c, bodies[i])
		}
	}
	if created == nil {
		t.Fatal("no request succeeded")
	}
	if n := a.count("orders", nil); n != 1 {
		t.Fatalf("orders = %d, want 1", n)
	}
	if n := a.count("charges", nil); n != 1 {
		t.Fatalf("charges = %d, want 1", n)
	}
	// Once settled, every retry gets the same answer.
	if rec := a.postOrder("k-race", orderJSON); rec.Code != http.StatusCreated || !bytes.Equal(rec.Body.Bytes(), created) {
		t.Fatalf("retry after race: %d %s", rec.Code, rec.Body)
	}
}

func TestExpiredKeyIsNew(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{ttl: time.Hour})
	first := decode[orderBody](t, a.postOrder("k-exp", orderJSON))
	a.clock.Advance(59 * time.Minute)
	if rec := a.postOrder("k-exp", orderJSON); rec.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("not replayed before expiry: %d", rec.Code)
	}
	a.clock.Advance(2 * time.Minute)
	rec := a.postOrder("k-exp", orderJSON)
	if rec.Code != http.StatusCreated || rec.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("expired key: %d replayed=%q", rec.Code, rec.Header().Get("Idempotent-Replayed"))
	}
	if second := decode[orderBody](t, rec); second.ID == first.ID {
		t.Fatal("expired key replayed the old order")
	}
	if n := a.count("orders", nil); n != 2 {
		t.Fatalf("orders = %d, want 2", n)
	}
	// Once expired, even a different body under the old key is a new key.
	a.clock.Advance(2 * time.Hour)
	if rec := a.postOrder("k-exp", `{"userId":"u1","amount":42,"currency":"INR"}`); rec.Code != http.StatusCreated {
		t.Fatalf("expired key with new body: %d %s", rec.Code, rec.Body)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
