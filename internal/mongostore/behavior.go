package mongostore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/reliabledemo/payments/internal/provider"
)

var _ provider.BehaviorStore = (*Store)(nil)

const behaviorID = "payment_behavior"

// behaviorDoc is the mock provider's behavior in "settings". Version makes
// every update a compare-and-swap, so two admins cannot interleave a
// read-modify-write and leave an invalid combination (min > max).
type behaviorDoc struct {
	ID          string  `bson:"_id"`
	FailureRate float64 `bson:"failureRate"`
	MinDelayMs  int     `bson:"minDelayMs"`
	MaxDelayMs  int     `bson:"maxDelayMs"`

	AsyncDelayMs      int     `bson:"asyncDelayMs"`
	AsyncJitterMs     int     `bson:"asyncJitterMs"`
	IntentFailureRate float64 `bson:"intentFailureRate"`
	TimeoutRate       float64 `bson:"timeoutRate"`
	TimeoutMs         int     `bson:"timeoutMs"`
	TimeoutOutcome    string  `bson:"timeoutOutcome"`
	ErrorCode         string  `bson:"errorCode"`

	Version   int64     `bson:"version"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

func toBehaviorDoc(b provider.Behavior) behaviorDoc {
	return behaviorDoc{ID: behaviorID, FailureRate: b.FailureRate, MinDelayMs: b.MinDelayMs, MaxDelayMs: b.MaxDelayMs,
		AsyncDelayMs: b.AsyncDelayMs, AsyncJitterMs: b.AsyncJitterMs, IntentFailureRate: b.IntentFailureRate,
		TimeoutRate: b.TimeoutRate, TimeoutMs: b.TimeoutMs, TimeoutOutcome: b.TimeoutOutcome, ErrorCode: b.ErrorCode}
}

func (d behaviorDoc) toBehavior() provider.Behavior {
	return provider.Behavior{FailureRate: d.FailureRate, MinDelayMs: d.MinDelayMs, MaxDelayMs: d.MaxDelayMs,
		AsyncDelayMs: d.AsyncDelayMs, AsyncJitterMs: d.AsyncJitterMs, IntentFailureRate: d.IntentFailureRate,
		TimeoutRate: d.TimeoutRate, TimeoutMs: d.TimeoutMs, TimeoutOutcome: d.TimeoutOutcome, ErrorCode: d.ErrorCode}
}

// LoadBehavior returns the stored behavior, if any. Fields the stored
// document lacks (written by an older version) keep their values in def.
func (s *Store) LoadBehavior(ctx context.Context, def provider.Behavior) (provider.Behavior, bool, error) {
	d := toBehaviorDoc(def)
	err := s.settings.FindOne(ctx, bson.M{"_id": behaviorID}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return provider.Behavior{}, false, nil
	}
	if err != nil {
		return provider.Behavior{}, false, translate(err)
	}
	return d.toBehavior(), true, nil
}

// UpdateBehavior applies fn with a compare-and-swap on the version, retrying
// when another instance changed the behavior in between.
func (s *Store) UpdateBehavior(ctx context.Context, def provider.Behavior, fn func(provider.Behavior) (provider.Behavior, error)) (provider.Behavior, error) {
	for {
		// Fields a stored document lacks (written by an older version) keep
		// their defaults: Decode leaves them as they are.
		d := toBehaviorDoc(def)
		err := s.settings.FindOne(ctx, bson.M{"_id": behaviorID}).Decode(&d)
		exists := err == nil
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return provider.Behavior{}, translate(err)
		}
		next, err := fn(d.toBehavior())
		if err != nil {
			return provider.Behavior{}, err
		}
		nd := toBehaviorDoc(next)
		nd.Version, nd.UpdatedAt = d.Version+1, time.Now().UTC()
		if !exists {
			_, err := s.settings.InsertOne(ctx, nd)
			if mongo.IsDuplicateKeyError(err) {
				continue
			}
			return next, translate(err)
		}
		res, err := s.settings.ReplaceOne(ctx, versionFilter(d.Version), nd)
		if err != nil {
			return provider.Behavior{}, translate(err)
		}
		if res.MatchedCount == 1 {
			return next, nil
		}
		if err := ctx.Err(); err != nil {
			return provider.Behavior{}, translate(err)
		}
	}
}

// versionFilter matches the behavior document still at version v. A
// document without a version (written by an older release, or by hand in
// mongosh) decodes as version 0, so version 0 also matches a missing or
// null field; otherwise the compare-and-swap could never match it and
// UpdateBehavior would retry until its context ended. The replacement
// always carries a version, so this happens at most once.
func versionFilter(v int64) bson.M {
	if v == 0 {
		return bson.M{"_id": behaviorID, "$or": bson.A{
			bson.M{"version": 0}, bson.M{"version": nil}, bson.M{"version": bson.M{"$exists": false}},
		}}
	}
	return bson.M{"_id": behaviorID, "version": v}
}
