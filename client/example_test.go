package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/reliabledemo/payments/client"
	"github.com/reliabledemo/payments/paymentstest"
)

func ExampleClient_CreateOrder() {
	svc, err := paymentstest.Start() // the service in-process; or any running instance
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	c, err := client.New(svc.URL, client.WithAPIKey(paymentstest.APIKey))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	order, err := c.CreateOrder(ctx, client.OrderParams{UserID: "u1", Amount: 500, Currency: "usd"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(order.Status, order.Amount, order.Currency, "attempts:", order.Response.Attempts)
	// Output: PAID 500 USD attempts: 1
}

// Error answers are *client.Error, with the envelope's fields; a refusal of
// the request itself is never retried.
func ExampleError() {
	svc, err := paymentstest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	_, err = svc.Client.CreateOrder(context.Background(), client.OrderParams{UserID: "u1", Amount: 500, Currency: "dollars"})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Type, e.Code, e.Param, "attempts:", e.Attempts, "retryable:", client.IsRetryable(err))
	}
	// Output: 422 validation_error invalid_currency currency attempts: 1 retryable: false
}

// A declined charge is a final answer: the order comes back with the error.
func ExampleClient_CreateOrder_declined() {
	svc, err := paymentstest.Start(paymentstest.WithBehavior(client.BehaviorPatch{FailureRate: client.Float(1)}))
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	order, err := svc.Client.CreateOrder(context.Background(), client.OrderParams{UserID: "u1", Amount: 500, Currency: "USD"})
	var e *client.Error
	if errors.As(err, &e) && e.Code == client.CodePaymentFailed {
		fmt.Println(e.StatusCode, order.Status)
	}
	// Output: 502 PAYMENT_FAILED
}

// A webhook endpoint gets every event of the types it enabled, signed with
// the secret that only its creation returns.
func ExampleVerifyWebhook() {
	svc, err := paymentstest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	type delivery struct {
		header http.Header
		body   []byte
	}
	deliveries := make(chan delivery, 1)
	consumer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable", http.StatusBadRequest)
			return
		}
		select {
		case deliveries <- delivery{r.Header, body}:
		default: // a retry of one already received
		}
	}))
	defer consumer.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ep, err := svc.Client.CreateWebhookEndpoint(ctx, client.WebhookEndpointParams{
		URL: consumer.URL + "/hooks", EnabledEvents: []string{client.EventOrderPaid}})
	if err != nil {
		log.Fatal(err)
	}
	order, err := svc.Client.CreateOrder(ctx, client.OrderParams{UserID: "u1", Amount: 500, Currency: "USD"})
	if err != nil {
		log.Fatal(err)
	}

	var d delivery
	select {
	case d = <-deliveries:
	case <-ctx.Done():
		log.Fatal("no delivery")
	}
	ev, err := client.VerifyWebhook(ep.Secret, d.header, d.body)
	if err != nil {
		log.Fatal(err)
	}
	paid, err := ev.Order()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.Type, ev.Sequence, paid.ID == order.ID, paid.Status)
	// Output: order.paid 1 true PAID
}
