package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/provider"
)

var _ provider.Ledger = (*Store)(nil)

// Charge statuses in the ledger.
const (
	chargeSucceeded = "succeeded"
	chargeFailed    = "failed"
)

// chargeDoc is one entry of the mock provider's ledger in "charges", keyed by
// charge key: the _id index is what makes a charge happen once.
type chargeDoc struct {
	Key            string    `bson:"_id"`
	Provider       string    `bson:"provider"`
	PaymentID      string    `bson:"paymentId"`
	Amount         int64     `bson:"amount"`
	Currency       string    `bson:"currency"`
	Status         string    `bson:"status"`
	FailureCode    string    `bson:"failureCode,omitempty"`
	FailureMessage string    `bson:"failureMessage,omitempty"`
	CreatedAt      time.Time `bson:"createdAt"`
}

// RecordCharge stores c unless a charge with its key exists, and returns the
// stored one, in a single findAndModify: it returns the document as it was
// before, so no document means c was inserted.
func (s *Store) RecordCharge(ctx context.Context, c provider.Charge) (provider.Charge, bool, error) {
	status := chargeFailed
	if c.Succeeded {
		status = chargeSucceeded
	}
	ins := bson.M{
		"provider": provider.Name, "paymentId": c.PaymentID, "amount": c.Amount, "currency": c.Currency,
		"status": status, "createdAt": c.CreatedAt,
	}
	if !c.Succeeded {
		ins["failureCode"], ins["failureMessage"] = c.FailureCode, c.FailureMessage
	}
	var d chargeDoc
	existed, err := upsertFirst(ctx, s.charges, c.Key, ins, options.Before, &d)
	if err != nil || !existed {
		return c, false, err
	}
	return provider.Charge{
		Key: d.Key, PaymentID: d.PaymentID, Amount: d.Amount, Currency: d.Currency,
		Succeeded: d.Status == chargeSucceeded, FailureCode: d.FailureCode, FailureMessage: d.FailureMessage,
		CreatedAt: d.CreatedAt.UTC(),
	}, true, nil
}

// CountCharges counts ledger entries matching filter; tests and
// the drill use it to prove that nothing was charged twice.
func (s *Store) CountCharges(ctx context.Context, filter bson.M) (int64, error) {
	n, err := s.charges.CountDocuments(ctx, filter)
	return n, translate(err)
}
