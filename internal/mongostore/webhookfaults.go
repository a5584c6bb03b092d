package mongostore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/reliabledemo/payments/internal/domain"
)

const webhookFaultsID = "webhook_faults"

// webhookFaultsDoc is the delivery faults in "settings", next to the
// provider's behavior, with a version for compare-and-swap updates.
type webhookFaultsDoc struct {
	ID              string    `bson:"_id"`
	DuplicateRate   float64   `bson:"duplicateRate"`
	DelayMs         int       `bson:"delayMs"`
	JitterMs        int       `bson:"jitterMs"`
	ReorderWindowMs int       `bson:"reorderWindowMs"`
	FailRate        float64   `bson:"failRate"`
	ForgedRate      float64   `bson:"forgedRate"`
	Version         int64     `bson:"version"`
	UpdatedAt       time.Time `bson:"updatedAt"`
}

func (d webhookFaultsDoc) toDomain() domain.WebhookFaults {
	return domain.WebhookFaults{DuplicateRate: d.DuplicateRate, DelayMs: d.DelayMs, JitterMs: d.JitterMs,
		ReorderWindowMs: d.ReorderWindowMs, FailRate: d.FailRate, ForgedRate: d.ForgedRate}
}

// LoadWebhookFaults returns the stored delivery faults; none stored is the
// zero value (no faults).
func (s *Store) LoadWebhookFaults(ctx context.Context) (domain.WebhookFaults, error) {
	var d webhookFaultsDoc
	err := s.settings.FindOne(ctx, bson.M{"_id": webhookFaultsID}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return domain.WebhookFaults{}, nil
	}
	if err != nil {
		return domain.WebhookFaults{}, translate(err)
	}
	return d.toDomain(), nil
}

// UpdateWebhookFaults applies fn to the stored faults with a compare-and-swap
// on the version, retrying when another instance changed them in between.
func (s *Store) UpdateWebhookFaults(ctx context.Context, fn func(domain.WebhookFaults) (domain.WebhookFaults, error)) (domain.WebhookFaults, error) {
	for {
		var d webhookFaultsDoc
		err := s.settings.FindOne(ctx, bson.M{"_id": webhookFaultsID}).Decode(&d)
		exists := err == nil
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return domain.WebhookFaults{}, translate(err)
		}
		next, err := fn(d.toDomain())
		if err != nil {
			return domain.WebhookFaults{}, err
		}
		nd := webhookFaultsDoc{ID: webhookFaultsID, DuplicateRate: next.DuplicateRate, DelayMs: next.DelayMs, JitterMs: next.JitterMs,
			ReorderWindowMs: next.ReorderWindowMs, FailRate: next.FailRate, ForgedRate: next.ForgedRate,
			Version: d.Version + 1, UpdatedAt: time.Now().UTC()}
		if !exists {
			_, err := s.settings.InsertOne(ctx, nd)
			if mongo.IsDuplicateKeyError(err) {
				continue
			}
			return next, translate(err)
		}
		res, err := s.settings.ReplaceOne(ctx, bson.M{"_id": webhookFaultsID, "version": d.Version}, nd)
		if err != nil {
			return domain.WebhookFaults{}, translate(err)
		}
		if res.MatchedCount == 1 {
			return next, nil
		}
		if err := ctx.Err(); err != nil {
			return domain.WebhookFaults{}, translate(err)
		}
	}
}
