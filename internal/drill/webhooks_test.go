package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	payclient "github.com/reliabledemo/payments/client"
	"github.com/reliabledemo/payments/paymentstest"
)

// TestConsumer sends the drill's consumer what a webhook endpoint meets:
// deliveries in order, a duplicate, a late stale one, and a forged copy.
func TestConsumer(t *testing.T) {
	t.Parallel()
	c, err := startConsumer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	c.verifier = wh

	send := func(id string, seq int64, status string, sign *standardwebhooks.Webhook) int {
		t.Helper()
		body := fmt.Appendf(nil, `{"id":%q,"type":"payment_intent.%s","sequence":%d,"data":{"object":{"id":"pi_1","status":%q}}}`, id, status, seq, status)
		now := time.Now()
		sig, err := sign.Sign(id, now, body)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
		req.Header.Set("webhook-signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	forger, _ := standardwebhooks.NewWebhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==")

	for _, s := range []struct {
		id     string
		seq    int64
		status string
		signer *standardwebhooks.Webhook
		want   int
	}{
		{"evt_1", 1, "created", wh, http.StatusOK},
		{"evt_3", 3, "succeeded", wh, http.StatusOK},
		{"evt_3", 3, "succeeded", wh, http.StatusOK},              // duplicate
		{"evt_2", 2, "processing", wh, http.StatusOK},             // late, stale
		{"evt_4", 4, "canceled", forger, http.StatusUnauthorized}, // forged
	} {
		if got := send(s.id, s.seq, s.status, s.signer); got != s.want {
			t.Errorf("%s: %d, want %d", s.id, got, s.want)
		}
	}
	v := c.view()
	if got := v.latest["pi_1"]; got.Sequence != 3 || got.Status != "succeeded" {
		t.Errorf("latest %+v, want change 3, succeeded", got)
	}
	if len(v.seen) != 3 || v.duplicates != 1 || v.stale != 1 || v.rejected != 1 || v.deliveries != 5 {
		t.Errorf("seen %d, duplicates %d, stale %d, rejected %d, deliveries %d; want 3, 1, 1, 1, 5",
			len(v.seen), v.duplicates, v.stale, v.rejected, v.deliveries)
	}
}

// TestConsumerRegisters registers the consumer with the real service, which
// loses some of its answers, and checks that the faults are set, that a
// verified event arrives, and that unregister deletes the endpoint.
func TestConsumerRegisters(t *testing.T) {
	t.Parallel()
	svc := paymentstest.New(t, paymentstest.WithDropResponseRate(0.3))
	api := svc.NewClient(payclient.WithRetryPolicy(retryPolicy))
	c, err := startConsumer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	if err := c.register(ctx, api, "drill-test", &WebhookFaults{DelayMs: 1, JitterMs: 2}); err != nil {
		t.Fatal(err)
	}
	f, err := svc.Admin.WebhookFaults(ctx)
	if err != nil || f.DelayMs != 1 || f.JitterMs != 2 || f.DuplicateRate != 0 {
		t.Fatalf("faults: %+v, %v", f, err)
	}
	if _, err := api.CreateOrder(ctx, payclient.OrderParams{UserID: "drill-test", Amount: 100, Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	for v := c.view(); len(v.seen) == 0; v = c.view() {
		if v.rejected > 0 || !sleep(ctx, 20*time.Millisecond) {
			t.Fatalf("no verified delivery: %+v", v)
		}
	}

	id := c.endpointID
	c.unregister(ctx, api)
	var e *payclient.Error
	if _, err := api.GetWebhookEndpoint(ctx, id); !errors.As(err, &e) || e.Code != payclient.CodeResourceMissing {
		t.Fatalf("endpoint after unregister: %v, want resource_missing", err)
	}
}
