// Package mongostore persists the service's state in MongoDB through the
// official Go driver. It works the same on MongoDB 7 and on the embedded
// FerretDB server: no transactions, no change streams, no $expr, and every
// hot-path read or write is keyed by _id, the one index FerretDB uses.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/reliabledemo/payments/internal/domain"
)

// Collection names, as in the seed design so its mongosh queries still work.
const (
	OrdersCollection      = "orders"
	IdempotencyCollection = "idempotencykeys"
	ChargesCollection     = "charges"
	SettingsCollection    = "settings"
)

// Store is the MongoDB-backed store of every entity.
type Store struct {
	db       *mongo.Database
	orders   *mongo.Collection
	idem     *mongo.Collection
	charges  *mongo.Collection
	settings *mongo.Collection
	log      *slog.Logger
}

// New returns a store over db. Call EnsureIndexes before serving.
func New(db *mongo.Database, log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	return &Store{
		db:       db,
		orders:   db.Collection(OrdersCollection),
		idem:     db.Collection(IdempotencyCollection),
		charges:  db.Collection(ChargesCollection),
		settings: db.Collection(SettingsCollection),
		log:      log,
	}
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	return translate(s.db.Client().Ping(ctx, nil))
}

// EnsureIndexes creates the indexes the service relies on. It is safe to run
// on every start and from several instances at once. ttl reports whether the
// server supports TTL indexes; where it does not, the caller must sweep
// expired idempotency records itself.
func (s *Store) EnsureIndexes(ctx context.Context) (ttl bool, err error) {
	// The unique scope index is the seed design's guard against duplicate
	// keys. Records are addressed by an _id derived from the same scope, so
	// this index is a second line of defence, and what mongosh users expect.
	_, err = s.idem.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "key", Value: 1}, {Key: "method", Value: 1}, {Key: "path", Value: 1}, {Key: "userId", Value: 1}},
		Options: options.Index().SetUnique(true),
	})
	if err != nil {
		return false, fmt.Errorf("create idempotency scope index: %w", translate(err))
	}
	_, err = s.idem.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "expiresAt", Value: 1}},
		Options: options.Index().SetExpireAfterSeconds(0),
	})
	if err != nil {
		var se mongo.ServerError
		if errors.As(err, &se) {
			// FerretDB v1 answers NotImplemented: fall back to sweeping.
			s.log.Info("TTL indexes not supported by this server; expired idempotency records will be swept", "reason", se.Error())
			return false, nil
		}
		return false, fmt.Errorf("create idempotency TTL index: %w", translate(err))
	}
	return true, nil
}

// translate turns driver errors into the ones callers act on: a missing
// document becomes domain.ErrNotFound, and an unreachable or slow server
// becomes a 503, never a 500 with driver details.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, mongo.ErrNoDocuments) {
		return domain.ErrNotFound
	}
	var sse topology.ServerSelectionError
	if mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.As(err, &sse) ||
		errors.Is(err, mongo.ErrClientDisconnected) || errors.Is(err, context.Canceled) {
		return domain.Unavailable(err)
	}
	return err
}

// upsertFirst inserts doc under id unless a document with that _id exists, in
// one command, and returns the document as it was before (nil if inserted)
// or after, as ret says. Two concurrent upserts of one _id can both try the
// insert; the loser gets E11000 and simply reads again.
func upsertFirst(ctx context.Context, c *mongo.Collection, id any, doc bson.M, ret options.ReturnDocument, out any) (found bool, err error) {
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(ret)
	for attempt := 0; ; attempt++ {
		err = c.FindOneAndUpdate(ctx, bson.M{"_id": id}, bson.M{"$setOnInsert": doc}, opts).Decode(out)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, mongo.ErrNoDocuments):
			return false, nil
		case mongo.IsDuplicateKeyError(err) && attempt < 3:
			continue
		default:
			return false, translate(err)
		}
	}
}
