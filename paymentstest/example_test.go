package paymentstest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/client"
	"github.com/reliabledemo/payments/paymentstest"
)

// In a test, paymentstest.New(t) does this and stops the service on
// t.Cleanup; Start and Close are for a TestMain, or an example.
func ExampleStart() {
	svc, err := paymentstest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()

	params := client.OrderParams{UserID: "u1", Amount: 500, Currency: "USD"}
	first, err := svc.Client.CreateOrder(ctx, params, client.IdempotencyKey("order-u1-1"))
	if err != nil {
		log.Fatal(err)
	}
	// The same logical payment again, as a retry after a lost answer would.
	again, err := svc.Client.CreateOrder(ctx, params, client.IdempotencyKey("order-u1-1"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.Status, "replayed:", first.Response.Replayed)
	fmt.Println("same order:", again.ID == first.ID, "replayed:", again.Response.Replayed)
	// Output:
	// PAID replayed: false
	// same order: true replayed: true
}

// Half the service's answers are lost after the work is done; the client's
// retries, all with their call's key, still pay each order exactly once.
func Example_droppedResponses() {
	svc, err := paymentstest.Start(paymentstest.WithDropResponseRate(0.5),
		// No attempt limit: the context's deadline bounds each call.
		paymentstest.WithClientOptions(client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: -1})))
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for i := range 10 {
		if _, err := svc.Client.CreateOrder(ctx, client.OrderParams{UserID: fmt.Sprint("user-", i), Amount: 100, Currency: "USD"}); err != nil {
			log.Fatal(err)
		}
	}
	orders, charges := countInMongo(ctx, svc)
	fmt.Printf("%d orders, %d charges\n", orders, charges)
	// Output: 10 orders, 10 charges
}

// The service crashes after charging, before it records the order: the
// client sees the connection cut, retries through the restart, waits out
// the dead request's lease (409 idempotency_key_in_use, Retry-After), and
// the retry finishes that same payment, without charging again.
func Example_crash() {
	svc, err := paymentstest.Start(paymentstest.WithIdempotencyLease(time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := svc.Admin.SetFaults(ctx, client.FaultSettings{CrashAt: client.String(client.CrashAfterCharge)}); err != nil {
		log.Fatal(err)
	}
	order, err := svc.Client.CreateOrder(ctx, client.OrderParams{UserID: "u1", Amount: 500, Currency: "USD"})
	if err != nil {
		log.Fatal(err)
	}
	orders, charges := countInMongo(ctx, svc)
	fmt.Println(order.Status, "crashes:", svc.Crashes(), "orders:", orders, "charges:", charges)
	// Output: PAID crashes: 1 orders: 1 charges: 1
}

// countInMongo reads the service's store with the MongoDB driver.
func countInMongo(ctx context.Context, svc *paymentstest.Service) (orders, charges int64) {
	mc, err := mongo.Connect(options.Client().ApplyURI(svc.MongoURI))
	if err != nil {
		log.Fatal(err)
	}
	defer mc.Disconnect(ctx)
	db := mc.Database(svc.Database)
	if orders, err = db.Collection(paymentstest.OrdersCollection).CountDocuments(ctx, bson.M{}); err != nil {
		log.Fatal(err)
	}
	if charges, err = db.Collection(paymentstest.ChargesCollection).CountDocuments(ctx, bson.M{}); err != nil {
		log.Fatal(err)
	}
	return orders, charges
}
