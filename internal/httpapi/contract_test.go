package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/reliabledemo/payments/api"
	"github.com/reliabledemo/payments/internal/faults"
	"github.com/reliabledemo/payments/internal/httpapi"
)

// contract is api/openapi.yaml, loaded, validated and routed once per test
// binary: every request a.do sends is checked against it.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var loadContract = sync.OnceValues(func() (*contract, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	// Test requests go to httptest's example.com: match on paths alone.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &contract{doc: doc, router: router}, nil
})

func mustContract(t testing.TB) *contract {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	return c
}

// checkContract holds one exchange against the document, with these rules:
//   - every response is checked: its status must be documented for the
//     operation, and its headers and body must match;
//   - a request is checked only when the service accepted it (2xx): the
//     tests send malformed requests on purpose, but a request the service
//     accepts must be one the document accepts;
//   - a method and path the document lacks (unknown routes, wrong methods)
//     must be answered with an error status (404 route_not_found, 405
//     method_not_allowed, or whatever global middleware answered first) in
//     the error format, or be a CORS preflight, which the document leaves
//     out.
func checkContract(t testing.TB, req *http.Request, body string, rec *httptest.ResponseRecorder) {
	t.Helper()
	c := mustContract(t)
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.checkUnrouted(t, req, rec)
		return
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if rec.Code >= 200 && rec.Code < 300 {
		vreq := req.Clone(req.Context())
		vreq.Body = io.NopCloser(strings.NewReader(body))
		if body != "" && (isJSONType(vreq.Header.Get("Content-Type")) || strings.HasPrefix(route.Path, "/admin/")) {
			// Bodies are documented as application/json; the service also
			// takes application/*+json, which OpenAPI 3.0 cannot list as a
			// range, and the admin routes also take a JSON body sent as a
			// form or untyped (the seed's curl drills). Each is the same
			// JSON, so it is validated as application/json.
			vreq.Header.Set("Content-Type", "application/json")
		}
		vin := *in
		vin.Request = vreq
		if err := openapi3filter.ValidateRequest(req.Context(), &vin); err != nil {
			t.Errorf("contract: %s %s was accepted (%d) but breaks api/openapi.yaml: %v", req.Method, req.URL.RequestURI(), rec.Code, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		t.Errorf("contract: the response to %s %s breaks api/openapi.yaml: %d: %v\nbody: %.500s", req.Method, req.URL.RequestURI(), rec.Code, err, rec.Body.String())
	}
}

func (c *contract) checkUnrouted(t testing.TB, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
		return // CORS preflight, answered by the CORS middleware
	}
	// Global middleware (rate limit, body limit, panic recovery) may answer
	// before routing, so any error status will do, in the error format.
	if rec.Code < 400 {
		t.Errorf("contract: %s %s is not in api/openapi.yaml but answered %d", req.Method, req.URL.RequestURI(), rec.Code)
		return
	}
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Errorf("contract: %s %s (not in api/openapi.yaml) answered %d without the error format: %v", req.Method, req.URL.RequestURI(), rec.Code, err)
		return
	}
	if err := c.doc.Components.Schemas["Error"].Value.VisitJSON(v); err != nil {
		t.Errorf("contract: %s %s (not in api/openapi.yaml) answered %d without the error format: %v", req.Method, req.URL.RequestURI(), rec.Code, err)
	}
}

func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// TestContractRoutes checks that every route Gin serves is in
// api/openapi.yaml and every operation there is routed, faults included.
func TestContractRoutes(t *testing.T) {
	t.Parallel()
	c := mustContract(t)
	h := httpapi.New(httpapi.Config{
		APIKey: apiKey, AdminAPIKey: adminKey,
		Faults: faults.New(func(int) { t.Error("exit called") }, slog.New(slog.NewTextHandler(io.Discard, nil)), nil),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	var routed []string
	for _, r := range httpapi.Routes(h) {
		routed = append(routed, r.Method+" "+ginToOpenAPI(r.Path))
	}
	if len(routed) == 0 {
		t.Fatal("httpapi.Routes found no routes")
	}
	var documented []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is routed but not in api/openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("%s is in api/openapi.yaml but not routed", d)
		}
	}
}

// ginToOpenAPI turns /orders/:id into /orders/{id}.
func ginToOpenAPI(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// TestOpenAPIServed checks GET /openapi.yaml answers the embedded document
// without a key.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	rec := a.do(request{method: "GET", path: "/openapi.yaml", auth: "-"})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Fatalf("got %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !bytes.Equal(rec.Body.Bytes(), api.Spec) {
		t.Fatal("the served document is not api/openapi.yaml")
	}
	if _, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes()); err != nil {
		t.Fatalf("served document: %v", err)
	}
}

// recordingTB collects what checkContract reports instead of failing.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestContractCatchesBreaks shows the check fails exchanges that break the
// document, and passes one that keeps it.
func TestContractCatchesBreaks(t *testing.T) {
	t.Parallel()
	const order = `{"id":"6561f0c2a1b2c3d4e5f60718","userId":"u1","amount":500,"currency":"INR","status":"PAID","payment":null,` +
		`"createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:05Z"}`
	tests := []struct {
		name         string
		method, path string
		reqBody      string
		status       int
		respBody     string
		noRequestID  bool
		wantErr      string // "": no report
	}{
		{name: "valid", method: "GET", path: "/orders/x", status: 200, respBody: order},
		{name: "undocumented status", method: "GET", path: "/orders/x", status: 418, respBody: `{}`, wantErr: "status is not supported"},
		{name: "unknown field", method: "GET", path: "/orders/x", status: 200, respBody: strings.Replace(order, `"id"`, `"extra":1,"id"`, 1), wantErr: "extra"},
		{name: "missing field", method: "GET", path: "/orders/x", status: 200, respBody: strings.Replace(order, `"status":"PAID",`, "", 1), wantErr: "status"},
		{name: "error not in the format", method: "GET", path: "/orders/x", status: 404, respBody: `{"message":"no"}`, wantErr: "error"},
		{name: "no request id", method: "GET", path: "/orders/x", status: 200, respBody: order, noRequestID: true, wantErr: "X-Request-Id"},
		{name: "accepted request outside the limits", method: "POST", path: "/orders", reqBody: `{"userId":"u1","amount":0,"currency":"INR"}`, status: 201, respBody: order, wantErr: "amount"},
		{name: "refused request is not checked", method: "POST", path: "/orders", reqBody: `{"userId":"u1","amount":0,"currency":"INR"}`, status: 422,
			respBody: `{"error":{"type":"validation_error","code":"invalid_amount","message":"m","param":"amount"}}`},
		{name: "unknown route answered 200", method: "GET", path: "/nope", status: 200, respBody: `{}`, wantErr: "not in api/openapi.yaml"},
		{name: "unknown route in the error format", method: "GET", path: "/nope", status: 404,
			respBody: `{"error":{"type":"invalid_request_error","code":"route_not_found","message":"m"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.reqBody))
			req.Header.Set("Authorization", "Bearer "+apiKey)
			if tt.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "k1")
			}
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", "application/json; charset=utf-8")
			if !tt.noRequestID {
				rec.Header().Set("X-Request-Id", "req_1")
			}
			rec.WriteHeader(tt.status)
			rec.WriteString(tt.respBody)
			r := &recordingTB{TB: t}
			checkContract(r, req, tt.reqBody, rec)
			got := strings.Join(r.errs, "\n")
			switch {
			case tt.wantErr == "" && got != "":
				t.Errorf("reported:\n%s", got)
			case tt.wantErr != "" && !strings.Contains(got, tt.wantErr):
				t.Errorf("want a report naming %q, got:\n%s", tt.wantErr, got)
			}
		})
	}
}
