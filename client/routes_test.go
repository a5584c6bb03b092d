package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/reliabledemo/payments/client"
	"github.com/reliabledemo/payments/paymentstest"
)

// Every route, against the real service: what comes back decodes, replays
// say so, and error answers carry the envelope and the request id.
func TestRoutes(t *testing.T) {
	t.Parallel()
	s := paymentstest.New(t)
	c := s.Client
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

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
}
