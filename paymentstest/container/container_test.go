package container_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/client"
	"github.com/reliabledemo/payments/paymentstest"
	"github.com/reliabledemo/payments/paymentstest/container"
)

// TestMain sets what testcontainers needs on machines where its reaper
// image cannot be pulled, unless the environment says otherwise, as
// internal/testmongo does; CI sets the same.
func TestMain(m *testing.M) {
	for k, v := range map[string]string{"TESTCONTAINERS_RYUK_DISABLED": "true", "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1"} {
		if _, ok := os.LookupEnv(k); !ok {
			_ = os.Setenv(k, v)
		}
	}
	os.Exit(m.Run())
}

// A missing image is ErrNoImage (or, without Docker, ErrNoDocker): never a
// pull that hangs.
func TestMissingImage(t *testing.T) {
	_, err := container.Run(t.Context(), container.WithImage("reliabledemo/no-such-image:none"))
	if !errors.Is(err, container.ErrNoImage) && !errors.Is(err, container.ErrNoDocker) {
		t.Fatalf("err = %v, want ErrNoImage or ErrNoDocker", err)
	}
}

// The image of `make image`, started with testcontainers: the API answers,
// a retry replays, and a crash point really ends the process, which Docker
// restarts; the payment is still charged once.
func TestRunTheImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	svc, err := container.Run(ctx, container.WithClientOptions(
		client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: -1, MaxDelay: 500 * time.Millisecond})))
	if errors.Is(err, container.ErrNoDocker) || errors.Is(err, container.ErrNoImage) {
		t.Skipf("skipping the container test: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Terminate(context.Background()) })
	t.Logf("container: service at %s, store at %s", svc.URL, svc.MongoURI)

	params := client.OrderParams{UserID: "c1", Amount: 500, Currency: "USD"}
	o, err := svc.Client.CreateOrder(ctx, params, client.IdempotencyKey("c1-order"))
	if err != nil || o.Status != client.OrderPaid {
		t.Fatalf("order: %+v, %v", o, err)
	}
	again, err := svc.Client.CreateOrder(ctx, params, client.IdempotencyKey("c1-order"))
	if err != nil || again.ID != o.ID || !again.Response.Replayed {
		t.Fatalf("retry: %+v, %v; want a replay of %s", again, err, o.ID)
	}

	if _, err := svc.Admin.SetFaults(ctx, client.FaultSettings{CrashAt: client.String(client.CrashAfterCharge)}); err != nil {
		t.Fatal(err)
	}
	crashed, err := svc.Client.CreateOrder(ctx, client.OrderParams{UserID: "c2", Amount: 700, Currency: "USD"})
	if err != nil || crashed.Status != client.OrderPaid || crashed.Response.Attempts < 2 {
		t.Fatalf("order through a crash: %+v, %v", crashed, err)
	}

	mc, err := mongo.Connect(options.Client().ApplyURI(svc.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(context.Background())
	db := mc.Database(svc.Database)
	for _, id := range []string{o.ID, crashed.ID} {
		n, err := db.Collection(paymentstest.ChargesCollection).CountDocuments(ctx, bson.M{"_id": paymentstest.OrderChargeID(id)})
		if err != nil || n != 1 {
			t.Fatalf("charges of %s: %d, %v; want 1", id, n, err)
		}
	}
	if n, err := db.Collection(paymentstest.OrdersCollection).CountDocuments(ctx, bson.M{}); err != nil || n != 2 {
		t.Fatalf("orders: %d, %v; want 2", n, err)
	}
}
