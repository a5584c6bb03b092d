package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/idempotency"
)

var _ idempotency.Store = (*IdempotencyStore)(nil)

// IdempotencyStore keeps idempotency records in "idempotencykeys".
type IdempotencyStore struct{ s *Store }

// Idempotency returns the idempotency record store.
func (s *Store) Idempotency() *IdempotencyStore { return &IdempotencyStore{s} }

// idemDoc is a record as stored. Every field of the unique scope index is
// always written: FerretDB treats a missing field and null as different keys.
// The response body is kept as a string so mongosh shows it readably.
type idemDoc struct {
	ID              string            `bson:"_id"`
	Key             string            `bson:"key"`
	Method          string            `bson:"method"`
	Path            string            `bson:"path"`
	UserID          string            `bson:"userId"`
	RequestHash     string            `bson:"requestHash"`
	Status          string            `bson:"status"`
	Owner           string            `bson:"owner"`
	LeaseUntil      time.Time         `bson:"leaseUntil"`
	ResourceID      string            `bson:"resourceId"`
	Request         requestDoc        `bson:"request"`
	Attempts        int               `bson:"attempts"`
	ResponseStatus  int               `bson:"responseStatus,omitempty"`
	ResponseHeaders map[string]string `bson:"responseHeaders,omitempty"`
	ResponseBody    string            `bson:"responseBody,omitempty"`
	CreatedAt       time.Time         `bson:"createdAt"`
	UpdatedAt       time.Time         `bson:"updatedAt"`
	ExpiresAt       time.Time         `bson:"expiresAt"`
}

// requestDoc is the stored copy of a request, for the completer. The body
// is a string so mongosh shows it; it is the JSON the client sent.
type requestDoc struct {
	URI       string `bson:"uri"`
	Body      string `bson:"body"`
	Principal string `bson:"principal"`
}

func toIdemDoc(r idempotency.Record) idemDoc {
	return idemDoc{
		ID: r.ID, Key: r.Scope.Key, Method: r.Scope.Method, Path: r.Scope.Path, UserID: r.Scope.UserID,
		RequestHash: r.Fingerprint, Status: string(r.Status), Owner: r.Owner, LeaseUntil: r.LeaseUntil,
		ResourceID: r.ResourceID, Attempts: 1, CreatedAt: r.CreatedAt, UpdatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		Request: requestDoc{URI: r.Request.URI, Body: string(r.Request.Body), Principal: r.Request.Principal},
	}
}

func (d idemDoc) toRecord() *idempotency.Record {
	r := &idempotency.Record{
		ID:          d.ID,
		Scope:       idempotency.Scope{Key: d.Key, Method: d.Method, Path: d.Path, UserID: d.UserID},
		Fingerprint: d.RequestHash, Status: idempotency.Status(d.Status), Owner: d.Owner,
		LeaseUntil: d.LeaseUntil.UTC(), ResourceID: d.ResourceID, CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC(),
		Request: idempotency.StoredRequest{URI: d.Request.URI, Body: []byte(d.Request.Body), Principal: d.Request.Principal},
	}
	if d.Status == string(idempotency.Completed) {
		r.Response = &idempotency.Response{Status: d.ResponseStatus, Header: d.ResponseHeaders, Body: []byte(d.ResponseBody)}
	}
	return r
}

// insertFields is the document for $setOnInsert: everything but _id, which
// the upsert takes from the filter.
func insertFields(d idemDoc) bson.M {
	return bson.M{
		"key": d.Key, "method": d.Method, "path": d.Path, "userId": d.UserID,
		"requestHash": d.RequestHash, "status": d.Status, "owner": d.Owner, "leaseUntil": d.LeaseUntil,
		"resourceId": d.ResourceID, "request": d.Request, "attempts": d.Attempts,
		"createdAt": d.CreatedAt, "updatedAt": d.UpdatedAt, "expiresAt": d.ExpiresAt,
	}
}

// Claim inserts rec unless its _id exists, in one findAndModify, and returns
// the existing record otherwise. The replay, mismatch and in-flight paths
// therefore cost exactly this one command.
func (i *IdempotencyStore) Claim(ctx context.Context, rec idempotency.Record) (*idempotency.Record, error) {
	var prev idemDoc
	found, err := upsertFirst(ctx, i.s.idem, rec.ID, insertFields(toIdemDoc(rec)), options.Before, &prev)
	if err != nil || !found {
		return nil, err
	}
	return prev.toRecord(), nil
}

// Replace overwrites an expired record: the key is new again.
func (i *IdempotencyStore) Replace(ctx context.Context, rec idempotency.Record, now time.Time) (bool, error) {
	res, err := i.s.idem.ReplaceOne(ctx, bson.M{"_id": rec.ID, "expiresAt": bson.M{"$lte": now}}, toIdemDoc(rec))
	if err != nil {
		return false, translate(err)
	}
	return res.MatchedCount == 1, nil
}

// TakeOver hands an abandoned in-progress record to a new owner. The filter
// on the previous owner makes it a compare-and-swap: of several retries that
// saw the same expired lease, one wins.
func (i *IdempotencyStore) TakeOver(ctx context.Context, id, prevOwner, owner string, now, leaseUntil time.Time) (bool, error) {
	res, err := i.s.idem.UpdateOne(ctx,
		bson.M{"_id": id, "status": string(idempotency.InProgress), "owner": prevOwner, "leaseUntil": bson.M{"$lte": now}},
		bson.M{"$set": bson.M{"owner": owner, "leaseUntil": leaseUntil, "updatedAt": now}, "$inc": bson.M{"attempts": 1}})
	if err != nil {
		return false, translate(err)
	}
	return res.MatchedCount == 1, nil
}

// Complete stores the response if owner still holds the record.
func (i *IdempotencyStore) Complete(ctx context.Context, id, owner string, resp idempotency.Response, now time.Time) (bool, error) {
	res, err := i.s.idem.UpdateOne(ctx,
		bson.M{"_id": id, "status": string(idempotency.InProgress), "owner": owner},
		bson.M{"$set": bson.M{
			"status": string(idempotency.Completed), "responseStatus": resp.Status,
			"responseHeaders": resp.Header, "responseBody": string(resp.Body), "updatedAt": now,
		}})
	if err != nil {
		return false, translate(err)
	}
	return res.MatchedCount == 1, nil
}

// Release ends owner's lease now so a retry can take over without waiting.
func (i *IdempotencyStore) Release(ctx context.Context, id, owner string, now time.Time) (bool, error) {
	res, err := i.s.idem.UpdateOne(ctx,
		bson.M{"_id": id, "status": string(idempotency.InProgress), "owner": owner},
		bson.M{"$set": bson.M{"leaseUntil": now, "updatedAt": now}})
	if err != nil {
		return false, translate(err)
	}
	return res.MatchedCount == 1, nil
}

// Delete forgets a record whose request was refused before any effect.
func (i *IdempotencyStore) Delete(ctx context.Context, id, owner string) (bool, error) {
	res, err := i.s.idem.DeleteOne(ctx, bson.M{"_id": id, "status": string(idempotency.InProgress), "owner": owner})
	if err != nil {
		return false, translate(err)
	}
	return res.DeletedCount == 1, nil
}

// Extend is the heartbeat of a running request: it moves the lease on while
// owner still holds the record.
func (i *IdempotencyStore) Extend(ctx context.Context, id, owner string, leaseUntil, now time.Time) (bool, error) {
	res, err := i.s.idem.UpdateOne(ctx,
		bson.M{"_id": id, "status": string(idempotency.InProgress), "owner": owner},
		bson.M{"$set": bson.M{"leaseUntil": leaseUntil, "updatedAt": now}})
	if err != nil {
		return false, translate(err)
	}
	return res.MatchedCount == 1, nil
}

// Abandoned lists in-progress records whose lease ended at or before
// before. On MongoDB the {status, leaseUntil} index serves it; the embedded
// server reads the collection, which the completer does in the background,
// every COMPLETER_INTERVAL, never on a request's path.
func (i *IdempotencyStore) Abandoned(ctx context.Context, before time.Time, limit int) ([]idempotency.Record, error) {
	cur, err := i.s.idem.Find(ctx,
		bson.M{"status": string(idempotency.InProgress), "leaseUntil": bson.M{"$lte": before}},
		options.Find().SetSort(bson.D{{Key: "leaseUntil", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, translate(err)
	}
	var docs []idemDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(err)
	}
	out := make([]idempotency.Record, len(docs))
	for n, d := range docs {
		out[n] = *d.toRecord()
	}
	return out, nil
}

// sweepBatch bounds the records one read of the sweep returns.
const sweepBatch = 500

// DeleteExpired removes expired records; the TTL index does this on MongoDB.
// It finds them with a read and deletes each by _id, rather than with one
// deleteMany: on the embedded store the expiresAt filter reads the whole
// collection, and as a write it would hold the write lock that every
// request's writes wait for (seconds at 20,000 records). Each delete checks
// expiresAt again, so a key reused since the read is kept.
func (i *IdempotencyStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var deleted int64
	for {
		cur, err := i.s.idem.Find(ctx, bson.M{"expiresAt": bson.M{"$lte": now}},
			options.Find().SetProjection(bson.M{"_id": 1}).SetLimit(sweepBatch))
		if err != nil {
			return deleted, translate(err)
		}
		var ids []struct {
			ID string `bson:"_id"`
		}
		if err := cur.All(ctx, &ids); err != nil {
			return deleted, translate(err)
		}
		for _, d := range ids {
			res, err := i.s.idem.DeleteOne(ctx, bson.M{"_id": d.ID, "expiresAt": bson.M{"$lte": now}})
			if err != nil {
				return deleted, translate(err)
			}
			deleted += res.DeletedCount
		}
		if len(ids) < sweepBatch {
			return deleted, nil
		}
	}
}
