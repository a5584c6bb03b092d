package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reliabledemo/payments/client"
	"github.com/reliabledemo/payments/paymentstest"
)

// Every route, against the real service: what comes back decodes, replays
// say so, and error answers carry the envelope and the request id.
func TestRoutes(t *testing.T) {
	t.Parallel()
	seen := &routeRecorder{next: http.DefaultTransport}
	s := paymentstest.New(t, paymentstest.WithClientOptions(client.WithHTTPClient(&http.Client{Transport: seen})))
	c := s.Client
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// Runs last: every operation of the contract was called through the
	// client above.
	defer func() {
		if !t.Failed() {
			seen.check(t)
		}
	}()

	t.Run("health", func(t *testing.T) {
		h, err := c.Health(ctx)
		if err != nil || h.Status != "ok" || h.Mongo != "up" || h.Time.IsZero() || h.Response.RequestID == "" {
			t.Fatalf("health: %+v, %v", h, err)
		}
	})

	t.Run("orders", func(t *testing.T) {
		params := client.OrderParams{UserID: "routes-u1", Amount: 500, Currency: "inr"}
		o, err := c.CreateOrder(ctx, params, client.IdempotencyKey("routes-order-1"))
		if err != nil || o.Status != client.OrderPaid || o.Currency != "INR" || o.Payment == nil || o.Response.Replayed {
			t.Fatalf("create: %+v, %v", o, err)
		}
		again, err := c.CreateOrder(ctx, params, client.IdempotencyKey("routes-order-1"))
		if err != nil || again.ID != o.ID || !again.Response.Replayed || again.Response.StatusCode != http.StatusCreated {
			t.Fatalf("retry with the key: %+v, %v; want a replay of %s", again, err, o.ID)
		}
		got, err := c.GetOrder(ctx, o.ID)
		if err != nil || got.ID != o.ID || got.Payment.PaymentID != o.Payment.PaymentID {
			t.Fatalf("get: %+v, %v", got, err)
		}
		l, err := c.ListOrders(ctx, client.ListOrdersParams{UserID: "routes-u1", Status: client.OrderPaid, Limit: 10})
		if err != nil || len(l.Orders) != 1 || l.Orders[0].ID != o.ID || l.HasMore {
			t.Fatalf("list: %+v, %v", l, err)
		}
	})

	t.Run("a declined order returns the order and the error", func(t *testing.T) {
		if _, err := s.Admin.SetPaymentBehavior(ctx, client.BehaviorPatch{FailureRate: client.Float(1)}); err != nil {
			t.Fatal(err)
		}
		defer func() { _, _ = s.Admin.SetPaymentBehavior(ctx, client.BehaviorPatch{FailureRate: client.Float(0)}) }()
		o, err := c.CreateOrder(ctx, client.OrderParams{UserID: "routes-u2", Amount: 500, Currency: "USD"})
		var e *client.Error
		if !errors.As(err, &e) || e.Code != client.CodePaymentFailed || e.StatusCode != http.StatusBadGateway || e.Retryable() || e.Attempts != 1 {
			t.Fatalf("err = %v, want a final 502 payment_failed", err)
		}
		if o == nil || o.Status != client.OrderPaymentFailed || o.ID == "" {
			t.Fatalf("order = %+v, want PAYMENT_FAILED", o)
		}
	})

	t.Run("intents, payments and refunds", func(t *testing.T) {
		pi, err := c.CreatePaymentIntent(ctx, client.PaymentIntentParams{Amount: 2599, Currency: "USD", CustomerID: "cus_1",
			PaymentMethodID: client.PaymentMethodVisa, CaptureMethod: "manual", Metadata: map[string]string{"orderId": "ORD-1"}})
		if err != nil || pi.Status != client.IntentRequiresConfirmation || pi.Metadata["orderId"] != "ORD-1" {
			t.Fatalf("create: %+v, %v", pi, err)
		}
		cf, err := c.ConfirmPaymentIntent(ctx, pi.ID, client.ConfirmParams{})
		if err != nil || cf.ID != pi.ID || cf.Status != client.IntentProcessing || cf.Response.StatusCode != http.StatusAccepted {
			t.Fatalf("confirm: %+v, %v", cf, err)
		}
		// GetPayment waits out the 425s of a processing intent.
		p, err := c.GetPayment(ctx, pi.ID, client.WithPolicy(client.RetryPolicy{MaxAttempts: -1}))
		if err != nil || p.Status != client.IntentRequiresCapture {
			t.Fatalf("payment: %+v, %v", p, err)
		}
		got, err := c.CapturePaymentIntent(ctx, pi.ID, client.CaptureParams{AmountToCapture: 2000})
		if err != nil || got.Status != client.IntentSucceeded || got.AmountReceived != 2000 {
			t.Fatalf("capture: %+v, %v", got, err)
		}
		if got, err = c.GetPaymentIntent(ctx, pi.ID); err != nil || got.Status != client.IntentSucceeded {
			t.Fatalf("get: %+v, %v", got, err)
		}
		r, err := c.CreateRefund(ctx, client.RefundParams{PaymentID: p.PaymentID, Amount: 1500, Reason: "requested_by_customer"})
		if err != nil || r.Amount != 1500 || r.Status != "succeeded" {
			t.Fatalf("refund: %+v, %v", r, err)
		}
		if got, err := c.GetRefund(ctx, r.ID); err != nil || got.ID != r.ID {
			t.Fatalf("get refund: %+v, %v", got, err)
		}
		_, err = c.CreateRefund(ctx, client.RefundParams{PaymentID: p.PaymentID, Amount: 1000, Reason: "requested_by_customer"})
		var e *client.Error
		if !errors.As(err, &e) || e.Code != client.CodeAmountTooLarge || e.Attempts != 1 {
			t.Fatalf("refund past the capture: %v, want amount_too_large at once", err)
		}

		other, err := c.CreatePaymentIntent(ctx, client.PaymentIntentParams{Amount: 100, Currency: "USD", CustomerID: "cus_1", PaymentMethodID: client.PaymentMethodVisa})
		if err != nil {
			t.Fatal(err)
		}
		canceled, err := c.CancelPaymentIntent(ctx, other.ID, client.CancelParams{CancellationReason: "abandoned"})
		if err != nil || canceled.Status != client.IntentCanceled || canceled.CancellationReason == nil || *canceled.CancellationReason != "abandoned" {
			t.Fatalf("cancel: %+v, %v", canceled, err)
		}
		_, err = c.ConfirmPaymentIntent(ctx, other.ID, client.ConfirmParams{})
		if !errors.As(err, &e) || e.Code != client.CodeUnexpectedState || e.Retryable() {
			t.Fatalf("confirm of a canceled intent: %v", err)
		}
	})

	t.Run("events", func(t *testing.T) {
		pi, err := c.CreatePaymentIntent(ctx, client.PaymentIntentParams{Amount: 700, Currency: "USD", CustomerID: "cus_events",
			PaymentMethodID: client.PaymentMethodVisa}, client.IdempotencyKey("routes-events-pi"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CancelPaymentIntent(ctx, pi.ID, client.CancelParams{CancellationReason: "abandoned"}); err != nil {
			t.Fatal(err)
		}
		// Both changes were requests, so both events are recorded before
		// their answers: a page of one at a time reads them all.
		var evs []client.Event
		for after := ""; ; {
			l, err := c.ListEvents(ctx, client.ListEventsParams{ObjectID: pi.ID, Limit: 1, StartingAfter: after})
			if err != nil || len(l.Events) != 1 || len(evs) > 2 {
				t.Fatalf("page after %q: %+v, %v", after, l, err)
			}
			evs = append(evs, l.Events[0])
			if !l.HasMore {
				break
			}
			after = l.Events[0].ID
		}
		bySeq := map[int64]client.Event{}
		for _, e := range evs {
			bySeq[e.Sequence] = e
		}
		created, canceled := bySeq[1], bySeq[2]
		if len(bySeq) != 2 || created.Type != client.EventPaymentIntentCreated || canceled.Type != client.EventPaymentIntentCanceled {
			t.Fatalf("events of %s: %+v, want created (1) and canceled (2)", pi.ID, evs)
		}
		if r := created.Request; r == nil || r.IdempotencyKey != "routes-events-pi" || r.ID != pi.Response.RequestID {
			t.Fatalf("created.request = %+v, want the create's request %s", r, pi.Response.RequestID)
		}
		l, err := c.ListEvents(ctx, client.ListEventsParams{ObjectID: pi.ID, Type: client.EventPaymentIntentCanceled})
		if err != nil || len(l.Events) != 1 || l.Events[0].ID != canceled.ID || l.HasMore {
			t.Fatalf("by type: %+v, %v", l, err)
		}

		got, err := c.GetEvent(ctx, canceled.ID)
		if err != nil || got.ID != canceled.ID || got.Object != "event" || got.Sequence != 2 || got.Created.IsZero() || got.ObjectID() != pi.ID {
			t.Fatalf("get: %+v, %v", got, err)
		}
		snap, err := got.PaymentIntent()
		if err != nil || snap.ID != pi.ID || snap.Status != client.IntentCanceled || snap.Amount != 700 {
			t.Fatalf("data.object: %+v, %v", snap, err)
		}
		if _, err := got.Order(); err == nil {
			t.Fatal("Order() of a payment_intent event: no error")
		}

		// No endpoint is subscribed yet: nothing to queue, but a stored answer.
		rd, err := c.RedeliverEvent(ctx, canceled.ID, client.IdempotencyKey("routes-redeliver-1"))
		if err != nil || rd.EventID != canceled.ID || len(rd.Deliveries) != 0 || rd.Response.StatusCode != http.StatusAccepted {
			t.Fatalf("redeliver: %+v, %v", rd, err)
		}
		if rd, err = c.RedeliverEvent(ctx, canceled.ID, client.IdempotencyKey("routes-redeliver-1")); err != nil || !rd.Response.Replayed {
			t.Fatalf("redeliver again with the key: %+v, %v; want a replay", rd, err)
		}

		var e *client.Error
		_, err = c.RedeliverEvent(ctx, "evt_6561f0c2a1b2c3d4e5f60718")
		if !errors.As(err, &e) || e.StatusCode != 404 || e.Code != client.CodeResourceMissing || e.IdempotencyKey == "" || e.Attempts != 1 {
			t.Fatalf("redeliver an unknown event: %v", err)
		}
		_, err = c.GetEvent(ctx, "evt_6561f0c2a1b2c3d4e5f60718")
		if !errors.As(err, &e) || e.StatusCode != 404 || e.Code != client.CodeResourceMissing {
			t.Fatalf("get an unknown event: %v", err)
		}
		_, err = c.ListEvents(ctx, client.ListEventsParams{Limit: 101})
		if !errors.As(err, &e) || e.StatusCode != 422 || e.Param != "limit" || e.Attempts != 1 {
			t.Fatalf("limit 101: %v", err)
		}
	})

	t.Run("webhook endpoints", func(t *testing.T) {
		type delivery struct {
			header http.Header
			body   []byte
		}
		got := make(chan delivery, 16)
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { // on 127.0.0.1
			body, _ := io.ReadAll(r.Body)
			select {
			case got <- delivery{r.Header.Clone(), body}:
			default:
			}
		}))
		defer recv.Close()
		next := func() delivery {
			t.Helper()
			select {
			case d := <-got:
				return d
			case <-ctx.Done():
				t.Fatal("no delivery came")
				return delivery{}
			}
		}

		params := client.WebhookEndpointParams{URL: recv.URL + "/hooks", EnabledEvents: []string{client.EventOrderPaid}}
		ep, err := c.CreateWebhookEndpoint(ctx, params, client.IdempotencyKey("routes-endpoint-1"))
		if err != nil || !strings.HasPrefix(ep.ID, "we_") || !strings.HasPrefix(ep.Secret, "whsec_") || ep.URL != params.URL ||
			ep.Response.StatusCode != http.StatusCreated {
			t.Fatalf("create: %+v, %v", ep, err)
		}
		again, err := c.CreateWebhookEndpoint(ctx, params, client.IdempotencyKey("routes-endpoint-1"))
		if err != nil || !again.Response.Replayed || again.ID != ep.ID || again.Secret != ep.Secret {
			t.Fatalf("create again with the key: %+v, %v; want a replay with the secret", again, err)
		}
		if got, err := c.GetWebhookEndpoint(ctx, ep.ID); err != nil || got.ID != ep.ID || got.Secret != "" || got.EnabledEvents[0] != client.EventOrderPaid {
			t.Fatalf("get: %+v, %v; want no secret", got, err)
		}
		l, err := c.ListWebhookEndpoints(ctx)
		if err != nil || len(l.Endpoints) != 1 || l.Endpoints[0].ID != ep.ID || l.Endpoints[0].Secret != "" {
			t.Fatalf("list: %+v, %v", l, err)
		}

		o, err := c.CreateOrder(ctx, client.OrderParams{UserID: "routes-hooks", Amount: 300, Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		d := next()
		ev, err := client.VerifyWebhook(ep.Secret, d.header, d.body)
		if err != nil || ev.Type != client.EventOrderPaid || ev.ObjectID() != o.ID || d.header.Get("webhook-id") != ev.ID {
			t.Fatalf("delivery: %+v, %v", ev, err)
		}
		if snap, err := ev.Order(); err != nil || snap.ID != o.ID || snap.Status != client.OrderPaid || snap.Payment == nil {
			t.Fatalf("delivered order: %+v, %v", snap, err)
		}
		forged := bytes.Replace(d.body, []byte(`"PAID"`), []byte(`"PAYMENT_FAILED"`), 1)
		for name, in := range map[string]struct {
			secret string
			body   []byte
		}{
			"a changed body": {ep.Secret, forged},
			"another secret": {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", d.body},
			"no secret":      {"", d.body},
		} {
			if ev, err := client.VerifyWebhook(in.secret, d.header, in.body); err == nil {
				t.Errorf("VerifyWebhook of %s: %+v, want an error", name, ev)
			}
		}

		// The attempt is recorded once the receiver has answered.
		var first client.WebhookDelivery
		for first.Status != client.DeliverySucceeded {
			dl, err := c.ListWebhookDeliveries(ctx, ep.ID, client.ListWebhookDeliveriesParams{})
			if err != nil || len(dl.Deliveries) != 1 || ctx.Err() != nil {
				t.Fatalf("deliveries: %+v, %v", dl, err)
			}
			first = dl.Deliveries[0]
			time.Sleep(20 * time.Millisecond)
		}
		if first.EventID != ev.ID || first.EndpointID != ep.ID || first.Redelivery || first.NextAttemptAt != nil ||
			len(first.Attempts) != 1 || first.Attempts[0].StatusCode == nil || *first.Attempts[0].StatusCode != 200 || first.Attempts[0].Error != nil {
			t.Fatalf("delivery record: %+v", first)
		}

		rd, err := c.RedeliverEvent(ctx, ev.ID)
		if err != nil || len(rd.Deliveries) != 1 || !rd.Deliveries[0].Redelivery || rd.Deliveries[0].EndpointID != ep.ID || rd.Deliveries[0].ID == first.ID {
			t.Fatalf("redeliver: %+v, %v", rd, err)
		}
		if d := next(); d.header.Get("webhook-id") != ev.ID {
			t.Fatalf("redelivered webhook-id %q, want the event's %s", d.header.Get("webhook-id"), ev.ID)
		}
		page, err := c.ListWebhookDeliveries(ctx, ep.ID, client.ListWebhookDeliveriesParams{Limit: 1})
		if err != nil || len(page.Deliveries) != 1 || !page.HasMore {
			t.Fatalf("first page: %+v, %v", page, err)
		}
		rest, err := c.ListWebhookDeliveries(ctx, ep.ID, client.ListWebhookDeliveriesParams{StartingAfter: page.Deliveries[0].ID})
		if err != nil || len(rest.Deliveries) != 1 || rest.HasMore || rest.Deliveries[0].ID == page.Deliveries[0].ID {
			t.Fatalf("second page: %+v, %v", rest, err)
		}

		del, err := c.DeleteWebhookEndpoint(ctx, ep.ID)
		if err != nil || del.ID != ep.ID || !del.Deleted || del.Response.IdempotencyKey != "" {
			t.Fatalf("delete: %+v, %v", del, err)
		}
		_, getErr := c.GetWebhookEndpoint(ctx, ep.ID)
		_, deleteErr := c.DeleteWebhookEndpoint(ctx, ep.ID)
		_, listErr := c.ListWebhookDeliveries(ctx, ep.ID, client.ListWebhookDeliveriesParams{})
		var e *client.Error
		for name, err := range map[string]error{"get": getErr, "delete": deleteErr, "deliveries": listErr} {
			if !errors.As(err, &e) || e.StatusCode != 404 || e.Code != client.CodeResourceMissing || e.Param != "id" || e.Attempts != 1 {
				t.Errorf("%s of a deleted endpoint: %v", name, err)
			}
		}

		for url, code := range map[string]string{
			"ftp://127.0.0.1/hooks":         client.CodeInvalidURL,
			"http://user:pw@127.0.0.1/":     client.CodeInvalidURL,
			"http://169.254.169.254/latest": client.CodeURLHostRefused,
		} {
			_, err := c.CreateWebhookEndpoint(ctx, client.WebhookEndpointParams{URL: url, EnabledEvents: []string{client.AllEvents}})
			if !errors.As(err, &e) || e.StatusCode != 422 || e.Type != "validation_error" || e.Code != code || e.Param != "url" ||
				e.Attempts != 1 || e.IdempotencyKey == "" || e.RequestID == "" {
				t.Errorf("%s: %v, want 422 %s", url, err, code)
			}
		}
	})

	t.Run("errors carry the envelope and the request id", func(t *testing.T) {
		_, err := c.CreateOrder(ctx, client.OrderParams{UserID: "u", Amount: 500, Currency: "XX"})
		var e *client.Error
		if !errors.As(err, &e) || e.StatusCode != 422 || e.Type != "validation_error" || e.Code != "invalid_currency" ||
			e.Param != "currency" || e.RequestID == "" || e.Message == "" || e.IdempotencyKey == "" {
			t.Fatalf("err = %#v", err)
		}
		_, err = c.GetOrder(ctx, "6561f0c2a1b2c3d4e5f60718")
		if !errors.As(err, &e) || e.StatusCode != 404 || e.Code != client.CodeResourceMissing || e.IdempotencyKey != "" {
			t.Fatalf("err = %#v", err)
		}
		_, err = c.CreateOrder(ctx, client.OrderParams{UserID: "routes-u1", Amount: 999, Currency: "INR"}, client.IdempotencyKey("routes-order-1"))
		if !errors.As(err, &e) || e.Code != client.CodeIdempotencyKeyReused {
			t.Fatalf("key reused: %v", err)
		}
		noKey := s.NewClient(client.WithAPIKey("wrong"))
		if _, err = noKey.GetOrder(ctx, "x"); !errors.As(err, &e) || e.StatusCode != 401 {
			t.Fatalf("wrong key: %v", err)
		}
	})

	t.Run("admin", func(t *testing.T) {
		b, err := s.Admin.SetPaymentBehavior(ctx, client.BehaviorPatch{MinDelayMs: client.Int(1), MaxDelayMs: client.Int(2), ErrorCode: client.String("insufficient_funds")})
		if err != nil || b.MinDelayMs != 1 || b.MaxDelayMs != 2 || b.ErrorCode != "insufficient_funds" {
			t.Fatalf("set behavior: %+v, %v", b, err)
		}
		if b, err = s.Admin.PaymentBehavior(ctx); err != nil || b.MaxDelayMs != 2 {
			t.Fatalf("behavior: %+v, %v", b, err)
		}
		f, err := s.Admin.SetFaults(ctx, client.FaultSettings{DropResponseRate: client.Float(0)})
		if err != nil || f.DropResponseRate != 0 || f.CrashAt == nil {
			t.Fatalf("set faults: %+v, %v", f, err)
		}
		if _, err = s.Admin.Faults(ctx); err != nil {
			t.Fatal(err)
		}
		// The API key is not an admin key.
		var e *client.Error
		apiOnly := s.NewClient(client.WithAdminKey(paymentstest.APIKey))
		if _, err = apiOnly.Admin().PaymentBehavior(ctx); !errors.As(err, &e) || e.StatusCode != 401 {
			t.Fatalf("admin route with the API key: %v", err)
		}
	})

	t.Run("admin webhook faults", func(t *testing.T) {
		f, err := s.Admin.WebhookFaults(ctx)
		if err != nil || f.DelayMs != 0 || f.FailRate != 0 || f.Response.StatusCode != http.StatusOK {
			t.Fatalf("faults: %+v, %v", f, err)
		}
		reset := client.WebhookFaultsPatch{DelayMs: client.Int(0), JitterMs: client.Int(0)}
		defer func() { _, _ = s.Admin.SetWebhookFaults(ctx, reset) }()
		f, err = s.Admin.SetWebhookFaults(ctx, client.WebhookFaultsPatch{DelayMs: client.Int(5), JitterMs: client.Int(3)})
		if err != nil || f.DelayMs != 5 || f.JitterMs != 3 || f.DuplicateRate != 0 || f.Response.IdempotencyKey == "" {
			t.Fatalf("set: %+v, %v", f, err)
		}
		if f, err = s.Admin.WebhookFaults(ctx); err != nil || f.DelayMs != 5 || f.JitterMs != 3 {
			t.Fatalf("faults after the set: %+v, %v", f, err)
		}
		_, err = s.Admin.SetWebhookFaults(ctx, client.WebhookFaultsPatch{FailRate: client.Float(2)})
		var e *client.Error
		if !errors.As(err, &e) || e.StatusCode != 422 || e.Code != "invalid_rate" || e.Param != "failRate" || e.Attempts != 1 {
			t.Fatalf("a rate of 2: %v", err)
		}
	})
}

// routeRecorder records the method and path of every request the client
// sends, so that TestRoutes can prove it called every route.
type routeRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string // "GET /orders/6b04…"
}

func (r *routeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// notClientRoutes are the contract's operations the client leaves out on
// purpose.
var notClientRoutes = map[string]string{
	"GET /openapi.yaml": "the contract itself, for tools, not a call",
}

// check fails for every operation of api/openapi.yaml that no recorded
// request matched.
func (r *routeRecorder) check(t *testing.T) {
	t.Helper()
	ops := contractOperations(t)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, op := range ops {
		if _, skip := notClientRoutes[op]; skip {
			continue
		}
		if !slices.ContainsFunc(r.seen, func(sent string) bool { return matchesOperation(op, sent) }) {
			t.Errorf("%s: no call of the client reached it in TestRoutes", op)
		}
	}
}

// contractOperations lists api/openapi.yaml's operations as "METHOD /path/{param}".
func contractOperations(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	inPaths, path := false, ""
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "paths:":
			inPaths = true
		case inPaths && line != "" && !strings.HasPrefix(line, " "):
			inPaths = false
		case inPaths && strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case inPaths && path != "":
			for _, m := range []string{"get", "post", "patch", "put", "delete"} {
				if line == "    "+m+":" {
					ops = append(ops, strings.ToUpper(m)+" "+path)
				}
			}
		}
	}
	if len(ops) < 20 {
		t.Fatalf("read %d operations from api/openapi.yaml: %v", len(ops), ops)
	}
	return ops
}

// matchesOperation reports whether a sent "METHOD /path" is an instance of
// op's template, where {param} matches one segment.
func matchesOperation(op, sent string) bool {
	om, opath, _ := strings.Cut(op, " ")
	sm, spath, _ := strings.Cut(sent, " ")
	want, got := strings.Split(opath, "/"), strings.Split(spath, "/")
	if om != sm || len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != got[i] && !(strings.HasPrefix(want[i], "{") && got[i] != "") {
			return false
		}
	}
	return true
}
