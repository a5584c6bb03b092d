package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/internal/mongostore"
)

type endpointBody struct {
	ID            string    `json:"id"`
	Object        string    `json:"object"`
	URL           string    `json:"url"`
	EnabledEvents []string  `json:"enabled_events"`
	Secret        string    `json:"secret"`
	Created       time.Time `json:"created"`
}

type deliveryBody struct {
	ID         string `json:"id"`
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	Redelivery bool   `json:"redelivery"`
	Status     string `json:"status"`
	Attempts   []struct {
		StatusCode *int    `json:"status_code"`
		Error      *string `json:"error"`
	} `json:"attempts"`
}

func (a *app) createEndpoint(key, body string) *httptest.ResponseRecorder {
	return a.do(request{method: "POST", path: "/webhook_endpoints", body: body, key: strp(key)})
}

func TestWebhookEndpointLifecycle(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	body := `{"url":"https://example.com/hooks","enabled_events":["order.paid","refund.succeeded"]}`
	rec := a.createEndpoint("we-1", body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	ep := decode[endpointBody](t, rec)
	if !strings.HasPrefix(ep.ID, "we_") || !strings.HasPrefix(ep.Secret, "whsec_") || ep.URL != "https://example.com/hooks" || len(ep.EnabledEvents) != 2 {
		t.Fatalf("created endpoint = %+v", ep)
	}
	// A retry replays the same endpoint and secret; nothing new is stored.
	replay := a.createEndpoint("we-1", body)
	if replay.Header().Get("Idempotent-Replayed") != "true" || replay.Body.String() != rec.Body.String() {
		t.Fatalf("replay: %s", replay.Body)
	}
	if n := a.count(mongostore.WebhookEndpointsCollection, nil); n != 1 {
		t.Fatalf("%d endpoints stored, want 1", n)
	}
	// The secret is shown only on creation.
	for _, path := range []string{"/webhook_endpoints/" + ep.ID, "/webhook_endpoints"} {
		rec := a.do(request{method: "GET", path: path})
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "whsec_") || !strings.Contains(rec.Body.String(), ep.ID) {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	rec = a.do(request{method: "DELETE", path: "/webhook_endpoints/" + ep.ID})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"deleted":true`) {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
	}
	wantError(t, a.do(request{method: "DELETE", path: "/webhook_endpoints/" + ep.ID}), http.StatusNotFound, "invalid_request_error", "resource_missing")
	wantError(t, a.do(request{method: "GET", path: "/webhook_endpoints/" + ep.ID}), http.StatusNotFound, "invalid_request_error", "resource_missing")
	wantError(t, a.do(request{method: "GET", path: "/webhook_endpoints/" + ep.ID + "/deliveries"}), http.StatusNotFound, "invalid_request_error", "resource_missing")
}

func TestWebhookEndpointValidation(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"no url", `{"enabled_events":["*"]}`, 422, "invalid_url"},
		{"ftp", `{"url":"ftp://example.com/x","enabled_events":["*"]}`, 422, "invalid_url"},
		{"no host", `{"url":"https:///x","enabled_events":["*"]}`, 422, "invalid_url"},
		{"credentials", `{"url":"https://u:p@example.com/x","enabled_events":["*"]}`, 422, "invalid_url"},
		{"metadata IPv4", `{"url":"http://169.254.169.254/latest/meta-data/","enabled_events":["*"]}`, 422, "url_host_refused"},
		{"link-local", `{"url":"http://169.254.10.1:8080/","enabled_events":["*"]}`, 422, "url_host_refused"},
		{"metadata IPv6", `{"url":"http://[fd00:ec2::254]/","enabled_events":["*"]}`, 422, "url_host_refused"},
		{"link-local IPv6", `{"url":"http://[fe80::1]/","enabled_events":["*"]}`, 422, "url_host_refused"},
		{"no events", `{"url":"https://example.com/x","enabled_events":[]}`, 422, "invalid_enabled_events"},
		{"unknown event", `{"url":"https://example.com/x","enabled_events":["order.shipped"]}`, 422, "invalid_enabled_events"},
		{"events not an array", `{"url":"https://example.com/x","enabled_events":"*"}`, 422, "invalid_type"},
		{"url not a string", `{"url":42,"enabled_events":["*"]}`, 422, "invalid_type"},
		{"unknown field", `{"url":"https://example.com/x","enabled_events":["*"],"secret":"whsec_x"}`, 400, "parameter_unknown"},
	}
	for i, tt := range tests {
		rec := a.createEndpoint("bad-"+string(rune('a'+i)), tt.body)
		typ := "validation_error"
		if tt.status == 400 {
			typ = "invalid_request_error"
		}
		t.Run(tt.name, func(t *testing.T) { wantError(t, rec, tt.status, typ, tt.code) })
	}
	if n := a.count(mongostore.WebhookEndpointsCollection, nil); n != 0 {
		t.Fatalf("%d endpoints stored, want 0", n)
	}

	// WEBHOOK_ALLOW_ALL_HOSTS lifts the address rule, not the others.
	open := newApp(t, appOptions{webhookHosts: true})
	if rec := open.createEndpoint("meta", `{"url":"http://169.254.169.254/","enabled_events":["*"]}`); rec.Code != http.StatusCreated {
		t.Fatalf("allow-all: %d %s", rec.Code, rec.Body)
	}
	wantError(t, open.createEndpoint("ftp", `{"url":"ftp://example.com/","enabled_events":["*"]}`), 422, "validation_error", "invalid_url")
}

// verifyingConsumer records the webhook-ids of requests whose signature
// the Standard Webhooks library accepts.
type verifyingConsumer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	ids    []string
}

func newVerifyingConsumer(t *testing.T) *verifyingConsumer {
	c := &verifyingConsumer{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		defer c.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(c.secret)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		c.ids = append(c.ids, r.Header.Get("webhook-id"))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *verifyingConsumer) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ids...)
}

// TestWebhookDeliveryAndRedeliver: an order's event reaches a subscribed
// endpoint signed, its delivery is listed with the attempt, and a redeliver
// queues it once more, once per Idempotency-Key.
func TestWebhookDeliveryAndRedeliver(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	c := newVerifyingConsumer(t)
	ep := decode[endpointBody](t, a.createEndpoint("we", `{"url":"`+c.srv.URL+`/hooks","enabled_events":["order.paid"]}`))
	c.mu.Lock()
	c.secret = ep.Secret
	c.mu.Unlock()
	a.startDelivery()

	if rec := a.postOrder("o-1", orderJSON); rec.Code != http.StatusCreated {
		t.Fatalf("order: %d %s", rec.Code, rec.Body)
	}
	var evID string
	waitFor(t, func() bool {
		ids := c.seen()
		if len(ids) == 1 {
			evID = ids[0]
		}
		return len(ids) == 1
	})
	var list struct {
		Deliveries []deliveryBody `json:"deliveries"`
		HasMore    bool           `json:"has_more"`
	}
	waitFor(t, func() bool {
		list = decode[struct {
			Deliveries []deliveryBody `json:"deliveries"`
			HasMore    bool           `json:"has_more"`
		}](t, a.do(request{method: "GET", path: "/webhook_endpoints/" + ep.ID + "/deliveries"}))
		return len(list.Deliveries) == 1 && list.Deliveries[0].Status == "succeeded"
	})
	d := list.Deliveries[0]
	if d.EventID != evID || d.EndpointID != ep.ID || d.Redelivery || len(d.Attempts) != 1 || *d.Attempts[0].StatusCode != 200 || d.Attempts[0].Error != nil {
		t.Fatalf("delivery = %+v", d)
	}

	redeliver := func(key string) *httptest.ResponseRecorder {
		return a.do(request{method: "POST", path: "/events/" + evID + "/redeliver", key: strp(key)})
	}
	rec := redeliver("rd-1")
	if rec.Code != http.StatusAccepted {
		t.Fatalf("redeliver: %d %s", rec.Code, rec.Body)
	}
	if again := redeliver("rd-1"); again.Header().Get("Idempotent-Replayed") != "true" || again.Body.String() != rec.Body.String() {
		t.Fatalf("redeliver replay: %s", again.Body)
	}
	waitFor(t, func() bool { return len(c.seen()) == 2 })
	if n := a.count(mongostore.WebhookDeliveriesCollection, bson.M{"eventId": evID}); n != 2 {
		t.Fatalf("%d deliveries of %s, want 2", n, evID)
	}
	if ids := c.seen(); ids[1] != evID {
		t.Fatalf("redelivered webhook-id %s, want %s", ids[1], evID)
	}
	wantError(t, a.do(request{method: "POST", path: "/events/evt_000000000000000000000000/redeliver", key: strp("rd-2")}),
		http.StatusNotFound, "invalid_request_error", "resource_missing")
	wantError(t, a.do(request{method: "POST", path: "/events/" + evID + "/redeliver"}), http.StatusBadRequest, "invalid_request_error", "idempotency_key_missing")
	wantError(t, a.do(request{method: "GET", path: "/webhook_endpoints/" + ep.ID + "/deliveries?limit=500"}), 422, "validation_error", "invalid_limit")
}

func TestWebhookFaults(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	admin := func(method, body string) *httptest.ResponseRecorder {
		return a.do(request{method: method, path: "/admin/webhook-faults", body: body, auth: adminKey})
	}
	if rec := admin("GET", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"failRate":0`) {
		t.Fatalf("GET: %d %s", rec.Code, rec.Body)
	}
	rec := admin("POST", `{"duplicateRate":0.2,"reorderWindowMs":2000,"failRate":0.1,"forgedRate":0.05}`)
	want := `{"duplicateRate":0.2,"delayMs":0,"jitterMs":0,"reorderWindowMs":2000,"failRate":0.1,"forgedRate":0.05}`
	if rec.Code != 200 || rec.Body.String() != want {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	if rec := admin("GET", ""); rec.Body.String() != want {
		t.Fatalf("GET after POST: %s", rec.Body)
	}
	tests := []struct {
		body, code, param string
	}{
		{`{"failRate":1.5}`, "invalid_rate", "failRate"},
		{`{"forgedRate":-1}`, "invalid_rate", "forgedRate"},
		{`{"reorderWindowMs":60001}`, "invalid_delay", "reorderWindowMs"},
		{`{"jitterMs":2.5}`, "invalid_type", "jitterMs"},
	}
	for _, tt := range tests {
		e := wantError(t, admin("POST", tt.body), 422, "validation_error", tt.code)
		if e.Error.Param != tt.param {
			t.Errorf("%s: param %q, want %q", tt.body, e.Error.Param, tt.param)
		}
	}
	wantError(t, admin("POST", `{"lossRate":0.1}`), 400, "invalid_request_error", "parameter_unknown")
	wantError(t, a.do(request{method: "GET", path: "/admin/webhook-faults"}), 401, "auth_error", "invalid_api_key")
	if rec := admin("GET", ""); rec.Body.String() != want {
		t.Fatalf("refused updates changed the faults: %s", rec.Body)
	}
}
