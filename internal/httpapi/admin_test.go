package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/provider"
)

func (a *app) admin(method, body, key string) *request {
	r := &request{method: method, path: "/admin/payment-behavior", body: body, auth: adminKey}
	if key != "" {
		r.key = strp(key)
	}
	return r
}

type behaviorBody struct {
	FailureRate float64 `json:"failureRate"`
	MinDelayMs  int     `json:"minDelayMs"`
	MaxDelayMs  int     `json:"maxDelayMs"`
}

func TestAdminPaymentBehavior(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{behavior: provider.Behavior{FailureRate: 0.1, MinDelayMs: 10, MaxDelayMs: 20}})
	get := a.do(*a.admin("GET", "", ""))
	if b := decode[behaviorBody](t, get); get.Code != 200 || b != (behaviorBody{0.1, 10, 20}) {
		t.Fatalf("defaults: %d %+v", get.Code, b)
	}

	// A partial update changes only what it names.
	rec := a.do(*a.admin("POST", `{"failureRate":0.5}`, "adm-1"))
	if b := decode[behaviorBody](t, rec); rec.Code != 200 || b != (behaviorBody{0.5, 10, 20}) {
		t.Fatalf("partial update: %d %+v", rec.Code, b)
	}

	invalid := []struct {
		body, param, code string
	}{
		{`{"failureRate":1.5}`, "failureRate", "invalid_rate"},
		{`{"failureRate":-0.1}`, "failureRate", "invalid_rate"},
		{`{"failureRate":"high"}`, "failureRate", "invalid_type"},
		{`{"minDelayMs":-1}`, "minDelayMs", "invalid_delay"},
		{`{"maxDelayMs":60001}`, "maxDelayMs", "invalid_delay"},
		{`{"maxDelayMs":1.5}`, "maxDelayMs", "invalid_type"},
		{`{"minDelayMs":30}`, "minDelayMs", "invalid_delay"},                  // above the stored max of 20
		{`{"failureRate":0.2,"maxDelayMs":5}`, "minDelayMs", "invalid_delay"}, // below the stored min: nothing changes
		{`{"intentFailureRate":1.01}`, "intentFailureRate", "invalid_rate"},
		{`{"asyncDelayMs":60001}`, "asyncDelayMs", "invalid_delay"},
		{`{"asyncJitterMs":-5}`, "asyncJitterMs", "invalid_delay"},
		{`{"timeoutRate":2}`, "timeoutRate", "invalid_rate"},
		{`{"timeoutMs":-1}`, "timeoutMs", "invalid_delay"},
		{`{"timeoutOutcome":"maybe"}`, "timeoutOutcome", "invalid_timeout_outcome"},
		{`{"timeoutOutcome":7}`, "timeoutOutcome", "invalid_type"},
		{`{"errorCode":"card_exploded"}`, "errorCode", "invalid_error_code"},
		{`{"failureRate":0.1,"errorCode":"nope"}`, "errorCode", "invalid_error_code"}, // one bad field: nothing changes
	}
	for i, tt := range invalid {
		rec := a.do(*a.admin("POST", tt.body, fmt.Sprintf("adm-bad-%d", i)))
		e := wantError(t, rec, http.StatusUnprocessableEntity, "validation_error", tt.code)
		if e.Error.Param != tt.param {
			t.Errorf("%s: param %q, want %q", tt.body, e.Error.Param, tt.param)
		}
	}
	if b := decode[behaviorBody](t, a.do(*a.admin("GET", "", ""))); b != (behaviorBody{0.5, 10, 20}) {
		t.Fatalf("invalid updates changed the behavior: %+v", b)
	}
	if rec := a.do(*a.admin("POST", `{"failureRate":0.5}`, "")); rec.Code != http.StatusBadRequest {
		t.Fatalf("admin POST without Idempotency-Key: %d", rec.Code)
	}

	// The behavior is in MongoDB: a new provider (a restart, or another
	// instance) on the same database picks it up.
	store := mongostore.New(a.db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p2 := provider.New(store, store, provider.Behavior{}, provider.Options{})
	if err := p2.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b := p2.Behavior(); b.FailureRate != 0.5 || b.MinDelayMs != 10 || b.MaxDelayMs != 20 {
		t.Fatalf("restarted provider: %+v", b)
	}
}
