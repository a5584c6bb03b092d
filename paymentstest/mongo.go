package paymentstest

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/orders"
)

// Collections the service writes, for checks in MongoDB.
const (
	// OrdersCollection holds one document per order: _id (the order ID as
	// an ObjectID), userId, amount, currency, status, payment.
	OrdersCollection = mongostore.OrdersCollection
	// ChargesCollection is the mock provider's ledger, one document per
	// charge, whose _id is the charge key: OrderChargeID(orderID) for an
	// order, the intent ID for a payment intent. Its unique _id is what
	// makes a charge happen once.
	ChargesCollection = mongostore.ChargesCollection
	// IntentsCollection holds payment intents, _id the intent ID.
	IntentsCollection = mongostore.IntentsCollection
	// RefundsCollection holds refunds, _id the refund ID.
	RefundsCollection = mongostore.RefundsCollection
	// IdempotencyCollection holds one record per Idempotency-Key.
	IdempotencyCollection = mongostore.IdempotencyCollection
)

// OrderChargeID is the _id, in ChargesCollection, of the charge of the
// order with this ID.
func OrderChargeID(orderID string) string { return orders.ChargeKey(orderID) }

// DB returns the service's database through a client of its own,
// disconnected when tb's test ends.
func (s *Service) DB(tb testing.TB) *mongo.Database {
	tb.Helper()
	mc, err := mongo.Connect(options.Client().ApplyURI(s.MongoURI).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		tb.Fatalf("paymentstest: connect to %s: %v", s.MongoURI, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = mc.Disconnect(ctx)
	})
	return mc.Database(s.Database)
}
