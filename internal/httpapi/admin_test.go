package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/reliabledemo/payments/internal/faults"
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

// seedCurl is the request `curl -X POST …/admin/payment-behavior -H
// 'Authorization: Bearer <admin key>' -d <body>` sends: curl's own headers,
// its default form Content-Type, and no Idempotency-Key.
func seedCurl(body string) request {
	return request{method: "POST", path: "/admin/payment-behavior", body: body, auth: adminKey, header: map[string]string{
		"User-Agent": "curl/8.5.0", "Accept": "*/*", "Content-Type": "application/x-www-form-urlencoded",
	}}
}

func TestAdminSeedCurl(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{behavior: provider.Behavior{FailureRate: 0.1, MinDelayMs: 10, MaxDelayMs: 20}})
	noType := seedCurl(`{"minDelayMs":15}`)
	noType.header = map[string]string{"Content-Type": ""}
	steps := []struct {
		name string
		req  request
		want behaviorBody
	}{
		{"the seed's curl", seedCurl(`{"failureRate":0.5}`), behaviorBody{0.5, 10, 20}},
		// Setting a behaviour is idempotent by nature: sent again, the
		// same request leaves the same state.
		{"the seed's curl again", seedCurl(`{"failureRate":0.5}`), behaviorBody{0.5, 10, 20}},
		{"without any Content-Type", noType, behaviorBody{0.5, 15, 20}},
		{"as JSON without a key", request{method: "POST", path: "/admin/payment-behavior", body: `{"maxDelayMs":30}`, auth: adminKey}, behaviorBody{0.5, 15, 30}},
	}
	for _, s := range steps {
		rec := a.do(s.req)
		if b := decode[behaviorBody](t, rec); rec.Code != http.StatusOK || b != s.want {
			t.Fatalf("%s: %d %+v, want 200 %+v", s.name, rec.Code, b, s.want)
		}
		if got := decode[behaviorBody](t, a.do(*a.admin("GET", "", ""))); got != s.want {
			t.Fatalf("%s: GET says %+v, want %+v", s.name, got, s.want)
		}
	}
	if n := a.count("idempotencykeys", nil); n != 0 {
		t.Fatalf("requests without a key stored %d idempotency records", n)
	}

	// With a key, the usual semantics hold, whatever the Content-Type.
	keyed := seedCurl(`{"failureRate":0.25}`)
	keyed.key = strp("drill-1")
	first := a.do(keyed)
	keyed.body = `{ "failureRate" : 0.25 }`
	again := a.do(keyed)
	if first.Code != http.StatusOK || again.Code != http.StatusOK || again.Header().Get("Idempotent-Replayed") != "true" || again.Body.String() != first.Body.String() {
		t.Fatalf("keyed retry: %d %s / %d %q %s", first.Code, first.Body, again.Code, again.Header().Get("Idempotent-Replayed"), again.Body)
	}
	keyed.body = `{"failureRate":0.75}`
	wantError(t, a.do(keyed), http.StatusUnprocessableEntity, "idempotency_error", "idempotency_key_reused")
	if b := decode[behaviorBody](t, a.do(*a.admin("GET", "", ""))); b.FailureRate != 0.25 {
		t.Fatalf("after a reused key: %+v", b)
	}
}

func TestAdminDisabledWithoutAdminKey(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{adminDisabled: true, faults: faults.New(func(int) { t.Error("exit called") }, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)})
	before := a.provider.Behavior()
	tests := []struct {
		name string
		req  request
	}{
		{"GET with the API key", request{method: "GET", path: "/admin/payment-behavior"}},
		{"POST with the API key", request{method: "POST", path: "/admin/payment-behavior", body: `{"failureRate":1}`, key: strp("k1")}},
		{"POST like the seed, with the API key", func() request { r := seedCurl(`{"failureRate":1}`); r.auth = apiKey; return r }()},
		{"POST with an empty bearer token", request{method: "POST", path: "/admin/payment-behavior", body: `{"failureRate":1}`, auth: "-",
			header: map[string]string{"Authorization": "Bearer "}}},
		{"POST without credentials", request{method: "POST", path: "/admin/payment-behavior", body: `{"failureRate":1}`, auth: "-"}},
		{"faults GET", request{method: "GET", path: "/admin/faults"}},
		{"faults POST", request{method: "POST", path: "/admin/faults", body: `{"drop_response_rate":1}`, key: strp("k2")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, a.do(tc.req), http.StatusForbidden, "auth_error", "admin_disabled")
		})
	}
	a.t = t
	if err := a.provider.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := a.provider.Behavior(); after != before {
		t.Fatalf("behavior changed: %+v -> %+v", before, after)
	}
	if n := a.count("idempotencykeys", nil); n != 0 {
		t.Fatalf("%d idempotency records", n)
	}
	// The ordinary routes are not affected.
	if rec := a.do(request{method: "GET", path: "/orders"}); rec.Code != http.StatusOK {
		t.Fatalf("GET /orders: %d %s", rec.Code, rec.Body)
	}
}

func TestAdminFaultsWithoutKey(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{faults: faults.New(func(int) { t.Error("exit called") }, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)})
	rec := a.do(request{method: "POST", path: "/admin/faults", body: `{"drop_response_rate":0.25}`, auth: adminKey,
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	got := decode[struct {
		DropResponseRate float64 `json:"drop_response_rate"`
	}](t, a.do(request{method: "GET", path: "/admin/faults", auth: adminKey}))
	if rec.Code != http.StatusOK || got.DropResponseRate != 0.25 {
		t.Fatalf("POST %d %s; GET says %+v", rec.Code, rec.Body, got)
	}
	if n := a.count("idempotencykeys", nil); n != 0 {
		t.Fatalf("%d idempotency records", n)
	}
}
