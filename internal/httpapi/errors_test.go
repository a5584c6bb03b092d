package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/httpapi"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/testmongo"
)

func TestErrorFormatEverywhere(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	big := `{"userId":"` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name   string
		req    request
		status int
		typ    string
		code   string
	}{
		{"unknown route", request{method: "GET", path: "/nope"}, 404, "invalid_request_error", "route_not_found"},
		{"wrong method", request{method: "DELETE", path: "/orders"}, 405, "invalid_request_error", "method_not_allowed"},
		{"malformed JSON", request{method: "POST", path: "/orders", body: `{"userId":`, key: strp("k1")}, 400, "invalid_request_error", "invalid_json"},
		{"not an object", request{method: "POST", path: "/orders", body: `[1,2]`, key: strp("k2")}, 400, "invalid_request_error", "invalid_json"},
		{"duplicate keys", request{method: "POST", path: "/orders", body: `{"userId":"a","userId":"b","amount":5,"currency":"USD"}`, key: strp("k3")}, 400, "invalid_request_error", "invalid_json"},
		{"invalid UTF-8", request{method: "POST", path: "/orders", body: "{\"userId\":\"\xff\",\"amount\":5,\"currency\":\"USD\"}", key: strp("k4")}, 400, "invalid_request_error", "invalid_json"},
		{"unknown field", request{method: "POST", path: "/orders", body: `{"userId":"a","amount":5,"currency":"USD","admin":true}`, key: strp("k5")}, 400, "invalid_request_error", "parameter_unknown"},
		{"body over 1 MiB", request{method: "POST", path: "/orders", body: big, key: strp("k6")}, 413, "invalid_request_error", "body_too_large"},
		{"order not found", request{method: "GET", path: "/orders/64b7f0c2a1b2c3d4e5f60718"}, 404, "invalid_request_error", "resource_missing"},
		{"malformed order id", request{method: "GET", path: "/orders/not-an-id"}, 404, "invalid_request_error", "resource_missing"},
		{"no credentials", request{method: "GET", path: "/orders", auth: "-"}, 401, "auth_error", "missing_api_key"},
		{"wrong key", request{method: "GET", path: "/orders", auth: "wrong"}, 401, "auth_error", "invalid_api_key"},
		{"api key on admin route", request{method: "GET", path: "/admin/payment-behavior"}, 401, "auth_error", "invalid_api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := a.do(tt.req)
			wantError(t, rec, tt.status, tt.typ, tt.code)
			if rec.Header().Get("X-Request-Id") == "" {
				t.Fatal("no X-Request-Id")
			}
		})
	}
	if n := a.count("idempotencykeys", nil); n != 0 {
		t.Fatalf("refused requests stored %d idempotency records", n)
	}
}

func TestRequestIDIsEchoed(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	rec := a.do(request{method: "GET", path: "/health", header: map[string]string{"X-Request-Id": "abc-123"}})
	if got := rec.Header().Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("X-Request-Id = %q", got)
	}
}

func TestPanicIs500WithoutInternals(t *testing.T) {
	t.Parallel()
	db := testmongo.Open(t)
	store := mongostore.New(db, nil)
	var logs strings.Builder
	// No order service: reading an order dereferences nil and panics.
	h := httpapi.New(httpapi.Config{APIKey: apiKey, AdminAPIKey: adminKey, Store: store,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	req := httptest.NewRequest("GET", "/orders/x", nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	wantError(t, rec, http.StatusInternalServerError, "api_error", "internal_error")
	if strings.Contains(rec.Body.String(), "nil pointer") || strings.Contains(rec.Body.String(), "goroutine") {
		t.Fatalf("internals leaked: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "panic") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	rec := a.do(request{method: "GET", path: "/health", auth: "-"})
	body := decode[map[string]string](t, rec)
	if rec.Code != http.StatusOK || body["status"] != "ok" || body["mongo"] != "up" || body["time"] == "" {
		t.Fatalf("health: %d %v", rec.Code, body)
	}

	// A real client of a server that is not there: health says so with 503.
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1").SetServerSelectionTimeout(300 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	down := httpapi.New(httpapi.Config{APIKey: apiKey, AdminAPIKey: adminKey, Store: mongostore.New(client.Database("x"), nil),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec = httptest.NewRecorder()
	down.ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
	if rec.Code != http.StatusServiceUnavailable || decode[map[string]string](t, rec)["mongo"] != "down" {
		t.Fatalf("health with store down: %d %s", rec.Code, rec.Body)
	}
}
