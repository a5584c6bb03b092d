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
	UpdatedAt       time.Time `bson:"updatedAt"`
}

func toRefundDoc(r domain.Refund) refundDoc {
	return refundDoc{ID: r.ID, PaymentID: r.PaymentID, PaymentIntentID: r.IntentID, Amount: r.Amount,
		Reason: string(r.Reason), Status: r.Status, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func (d refundDoc) toDomain() domain.Refund {
	r := domain.Refund{ID: d.ID, PaymentID: d.PaymentID, IntentID: d.PaymentIntentID, Amount: d.Amount,
		Reason: domain.RefundReason(d.Reason), Status: d.Status, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	if d.UpdatedAt.IsZero() { // stored by a version without it
		r.UpdatedAt = r.CreatedAt
	}
	return r
}

// InsertRefund records r; created is false if its id exists.
func (s *Store) InsertRefund(ctx context.Context, r domain.Refund) (bool, error) {
	_, err := s.db.Collection(RefundsCollection).InsertOne(ctx, toRefundDoc(r))
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

// FinishRefund moves a pending refund to status (succeeded or failed) at
// now. ok is false if it was not pending any more: an earlier attempt
// finished it, and what it recorded stands.
func (s *Store) FinishRefund(ctx context.Context, id, status string, now time.Time) (bool, error) {
	res, err := s.db.Collection(RefundsCollection).UpdateOne(ctx, bson.M{"_id": id, "status": domain.RefundPending},
		bson.M{"$set": bson.M{"status": status, "updatedAt": now}})
	if err != nil {
		return false, translate(err)
	}
	return res.MatchedCount == 1, nil
}
