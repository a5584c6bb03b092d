package domain_test

import (
	"fmt"
	"strings"
	"testing"

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
