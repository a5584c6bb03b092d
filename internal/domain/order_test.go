package domain_test

import (
	"strings"
	"testing"

	"github.com/reliabledemo/payments/internal/domain"
)

// wantInvalid checks that err is a validation error with code and param, or
// that err is nil when code is "".
func wantInvalid(t *testing.T, err error, code, param string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		return
	}
	e, ok := domain.AsError(err)
	if !ok || e.Kind != domain.KindValidation || e.Code != code || e.Param != param {
		t.Fatalf("err = %#v, want a validation error %s on %q", err, code, param)
	}
	if e.Message == "" {
		t.Fatal("validation error without a message")
	}
}

func TestNewOrderValidate(t *testing.T) {
	t.Parallel()
	valid := domain.NewOrder{UserID: "u1", Amount: 500, Currency: "usd"}
	with := func(f func(*domain.NewOrder)) domain.NewOrder { n := valid; f(&n); return n }
	tests := []struct {
		name      string
		in        domain.NewOrder
		wantCode  string // "" means valid
		wantParam string
	}{
		{"valid", valid, "", ""},
		{"userId of 128 characters", with(func(n *domain.NewOrder) { n.UserID = strings.Repeat("é", 128) }), "", ""},
		{"userId with inner spaces", with(func(n *domain.NewOrder) { n.UserID = "Ada Lovelace" }), "", ""},
		{"userId non-Latin", with(func(n *domain.NewOrder) { n.UserID = "用户-42" }), "", ""},
		// Identifiers refuse every format character, the joiner of emoji
		// sequences too; metadata values, being free text, allow it.
		{"userId emoji with joiner", with(func(n *domain.NewOrder) { n.UserID = "👩\u200d💻" }), "invalid_user_id", "userId"},
		{"userId empty", with(func(n *domain.NewOrder) { n.UserID = "" }), "invalid_user_id", "userId"},
		{"userId 129 characters", with(func(n *domain.NewOrder) { n.UserID = strings.Repeat("é", 129) }), "invalid_user_id", "userId"},
		{"userId one space", with(func(n *domain.NewOrder) { n.UserID = " " }), "invalid_user_id", "userId"},
		{"userId only whitespace", with(func(n *domain.NewOrder) { n.UserID = " \u00a0\u3000 " }), "invalid_user_id", "userId"},
		{"userId NUL", with(func(n *domain.NewOrder) { n.UserID = "u\x001" }), "invalid_user_id", "userId"},
		{"userId tab", with(func(n *domain.NewOrder) { n.UserID = "u\t1" }), "invalid_user_id", "userId"},
		{"userId newline", with(func(n *domain.NewOrder) { n.UserID = "u1\n" }), "invalid_user_id", "userId"},
		{"userId DEL", with(func(n *domain.NewOrder) { n.UserID = "u1\x7f" }), "invalid_user_id", "userId"},
		{"userId C1 control", with(func(n *domain.NewOrder) { n.UserID = "u1\u0085" }), "invalid_user_id", "userId"},
		{"userId right-to-left override", with(func(n *domain.NewOrder) { n.UserID = "u\u202e1" }), "invalid_user_id", "userId"},
		{"userId zero-width space", with(func(n *domain.NewOrder) { n.UserID = "u\u200b1" }), "invalid_user_id", "userId"},
		{"userId byte order mark", with(func(n *domain.NewOrder) { n.UserID = "\ufeffu1" }), "invalid_user_id", "userId"},
		{"userId line separator", with(func(n *domain.NewOrder) { n.UserID = "u\u20281" }), "invalid_user_id", "userId"},
		{"userId invalid UTF-8", with(func(n *domain.NewOrder) { n.UserID = "u\xff1" }), "invalid_user_id", "userId"},
		{"amount zero", with(func(n *domain.NewOrder) { n.Amount = 0 }), "invalid_amount", "amount"},
		{"amount above the maximum", with(func(n *domain.NewOrder) { n.Amount = domain.MaxAmount + 1 }), "invalid_amount", "amount"},
		{"amount at the maximum", with(func(n *domain.NewOrder) { n.Amount = domain.MaxAmount }), "", ""},
		{"currency unknown", with(func(n *domain.NewOrder) { n.Currency = "ZZZ" }), "invalid_currency", "currency"},
		{"currency XXX", with(func(n *domain.NewOrder) { n.Currency = "XXX" }), "invalid_currency", "currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in
			wantInvalid(t, in.Validate(), tt.wantCode, tt.wantParam)
			if tt.wantCode == "" && in.Currency != strings.ToUpper(tt.in.Currency) {
				t.Fatalf("currency %q, want it upper-cased", in.Currency)
			}
		})
	}
}
