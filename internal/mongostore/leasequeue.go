package mongostore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// leaseQueue is a collection of pending work claimed with leases: the
// intent jobs and the webhook delivery queue. availableAt is both the due
// time and the lease: claiming pushes it to the lease's end, so one filter
// finds new work and work whose claimant died. It holds pending work only,
// so claiming stays cheap however long the history grows.
type leaseQueue struct{ c *mongo.Collection }

// enqueue queues id, due at at, unless it is queued already; fields are
// stored with it on insert. queued reports whether this call queued it.
func (q leaseQueue) enqueue(ctx context.Context, id string, at time.Time, fields bson.M) (queued bool, err error) {
	set := bson.M{"availableAt": at, "owner": ""}
	for k, v := range fields {
		set[k] = v
	}
	res, err := q.c.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$setOnInsert": set}, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return false, nil // a concurrent enqueue of the same id won
	}
	if err != nil {
		return false, translate(err)
	}
	return res.UpsertedCount > 0, nil
}

// claim leases the work due longest to owner until leaseUntil, applying inc
// too if set, and decodes it, as the claim left it, into out. ok is false if
// nothing is due.
func (q leaseQueue) claim(ctx context.Context, owner string, now, leaseUntil time.Time, inc bson.M, out any) (ok bool, err error) {
	update := bson.M{"$set": bson.M{"availableAt": leaseUntil, "owner": owner}}
	if inc != nil {
		update["$inc"] = inc
	}
	// No projection: FerretDB v1 does not implement one in findAndModify.
	err = q.c.FindOneAndUpdate(ctx, bson.M{"availableAt": bson.M{"$lte": now}}, update,
		options.FindOneAndUpdate().SetSort(bson.D{{Key: "availableAt", Value: 1}}).SetReturnDocument(options.After),
	).Decode(out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, translate(err)
	}
	return true, nil
}

// done removes finished work if owner still holds it.
func (q leaseQueue) done(ctx context.Context, id, owner string) (bool, error) {
	res, err := q.c.DeleteOne(ctx, bson.M{"_id": id, "owner": owner})
	if err != nil {
		return false, translate(err)
	}
	return res.DeletedCount == 1, nil
}

// reschedule hands work back, due again at at, if owner still holds it.
func (q leaseQueue) reschedule(ctx context.Context, id, owner string, at time.Time) (bool, error) {
	res, err := q.c.UpdateOne(ctx, bson.M{"_id": id, "owner": owner}, bson.M{"$set": bson.M{"availableAt": at, "owner": ""}})
	if err != nil {
		return false, translate(err)
	}
	return res.MatchedCount == 1, nil
}
