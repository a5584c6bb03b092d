package httpapi_test

import (
	"bytes"
	"net/http"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/internal/provider"
)

// TestProviderTimeouts: a timed-out charge answers 503 provider_timeout
// and releases the key; the retry with the same key learns the outcome the
// ledger recorded, without charging again.
func TestProviderTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		outcome    string
		retry      int
		wantStatus string // order status after the retry
		wantCharge string // ledger status
	}{
		{provider.TimeoutSucceedLate, http.StatusCreated, "PAID", "succeeded"},
		{provider.TimeoutFail, http.StatusBadGateway, "PAYMENT_FAILED", "failed"},
	}
	for _, tc := range tests {
		t.Run(tc.outcome, func(t *testing.T) {
			t.Parallel()
			// Every charge times out: only a charge already in the ledger
			// can answer.
			a := newApp(t, appOptions{behavior: provider.Behavior{TimeoutRate: 1, TimeoutMs: 20, TimeoutOutcome: tc.outcome}})
			first := a.postOrder("k-timeout", orderJSON)
			if tc.outcome == provider.TimeoutSucceedLate {
				// The record's lease is released, not kept: the retry below
				// runs at once instead of getting 409.
				wantError(t, first, http.StatusServiceUnavailable, "api_error", "provider_timeout")
			}
			retry := a.postOrder("k-timeout", orderJSON)
			if retry.Code != tc.retry {
				t.Fatalf("retry: %d %s", retry.Code, retry.Body)
			}
			// 201 is the order; 502 carries it next to the error.
			got := decode[struct {
				orderBody
				Order *orderBody `json:"order"`
			}](t, retry)
			status := got.Status
			if got.Order != nil {
				status = got.Order.Status
			}
			if status != tc.wantStatus {
				t.Fatalf("order status %s, want %s: %s", status, tc.wantStatus, retry.Body)
			}
			again := a.postOrder("k-timeout", orderJSON)
			if again.Code != retry.Code || !bytes.Equal(again.Body.Bytes(), retry.Body.Bytes()) {
				t.Fatalf("the outcome is not replayed: %d %s", again.Code, again.Body)
			}
			if n := a.count("orders", nil); n != 1 {
				t.Fatalf("orders = %d, want 1", n)
			}
			if n := a.count("charges", bson.M{"status": tc.wantCharge}); n != 1 || a.count("charges", nil) != 1 {
				t.Fatalf("charges: %d %s of %d, want exactly one", n, tc.wantCharge, a.count("charges", nil))
			}
		})
	}
}

// TestProviderErrorCode: random declines carry the configured code.
func TestProviderErrorCode(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{behavior: provider.Behavior{IntentFailureRate: 1, ErrorCode: "expired_card"}})
	it := a.createIntent(intentJSON)
	a.action("confirm", it.ID, `{}`, newKey())
	a.process(it.ID)
	got := a.getIntent(it.ID)
	if got.Status != "failed" || got.LastPaymentError == nil || got.LastPaymentError.Code != "expired_card" {
		t.Fatalf("intent %+v, want failed with expired_card", got)
	}
	if n := a.count("charges", bson.M{"failureCode": "expired_card"}); n != 1 {
		t.Fatalf("ledger entries with expired_card = %d, want 1", n)
	}
}
