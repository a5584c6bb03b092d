package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/reliabledemo/payments/internal/domain"
)

// RefundsCollection holds refunds, keyed by refund id.
const RefundsCollection = "refunds"

type refundDoc struct {
	ID              string    `bson:"_id"`
	PaymentID       string    `bson:"paymentId"`
	PaymentIntentID string    `bson:"paymentIntentId"`
	Amount          int64     `bson:"amount"`
	Reason          string    `bson:"reason"`
	Status          string    `bson:"status"`
	CreatedAt       time.Time `bson:"createdAt"`
}

func (d refundDoc) toDomain() domain.Refund {
	return domain.Refund{ID: d.ID, PaymentID: d.PaymentID, IntentID: d.PaymentIntentID, Amount: d.Amount,
		Reason: domain.RefundReason(d.Reason), Status: d.Status, CreatedAt: d.CreatedAt.UTC()}
}

// InsertRefund records r; created is false if its id exists.
func (s *Store) InsertRefund(ctx context.Context, r domain.Refund) (bool, error) {
	_, err := s.db.Collection(RefundsCollection).InsertOne(ctx, refundDoc{
		ID: r.ID, PaymentID: r.PaymentID, PaymentIntentID: r.IntentID, Amount: r.Amount,
		Reason: string(r.Reason), Status: r.Status, CreatedAt: r.CreatedAt,
	})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, translate(err)
}

// GetRefund returns the refund with id, or domain.ErrNotFound.
func (s *Store) GetRefund(ctx context.Context, id string) (domain.Refund, error) {
	var d refundDoc
	if err := s.db.Collection(RefundsCollection).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return domain.Refund{}, translate(err)
	}
	return d.toDomain(), nil
}

// SetRefundStatus updates a refund's status.
func (s *Store) SetRefundStatus(ctx context.Context, id, status string) error {
	_, err := s.db.Collection(RefundsCollection).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"status": status}})
	return translate(err)
}

// DeleteRefund removes a pending refund whose guard refused it.
func (s *Store) DeleteRefund(ctx context.Context, id string) error {
	_, err := s.db.Collection(RefundsCollection).DeleteOne(ctx, bson.M{"_id": id, "status": "pending"})
	return translate(err)
}
