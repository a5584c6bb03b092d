// Package mongostore persists the service's state in MongoDB through the
// official Go driver. It works the same on MongoDB 7 and on the embedded
// FerretDB server: no transactions, no change streams, no $expr, and every
// hot-path read or write is keyed by _id, the one index FerretDB uses.
package mongostore

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
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
	queued   func() // see ObserveQueued
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

// ClientOptions returns the driver options for uri with the guarantees the
// service relies on, set after ApplyURI so that a URI (w=1,
// readPreference=secondary, retryWrites=false) cannot weaken them:
//
//   - writes acknowledged by a majority of the replica set and journaled, so
//     a payment confirmed to a client survives the loss of the primary;
//   - reads from the primary, so a state read before a conditional update,
//     or a replayed response, is never stale;
//   - reads and writes retried once by the driver across a failover.
//
// On a standalone server "majority" means the server itself; FerretDB
// ignores write concerns and read preferences.
func ClientOptions(uri string) *options.ClientOptions {
	journal := true
	return options.Client().ApplyURI(uri).
		SetWriteConcern(&writeconcern.WriteConcern{W: writeconcern.WCMajority, Journal: &journal}).
		SetReadPreference(readpref.Primary()).
		SetRetryWrites(true).
		SetRetryReads(true)
}

// retryAfter is what a client is told to wait after the store failed
// transiently: about how long a replica-set election or a dropped
// connection takes to clear up.
const retryAfter = 2 * time.Second

// unavailableCodes are MongoDB server error codes that say the node cannot
// serve the operation right now but another node, or this one shortly, can:
// the drivers' retryable-error list (the Retryable Writes specification,
// mongodb/specifications source/retryable-writes/retryable-writes.md; codes
// from mongodb/mongo src/mongo/base/error_codes.yml). The driver has already
// retried once when we see one, so the client is asked to retry later.
var unavailableCodes = map[int]bool{
	6:     true, // HostUnreachable
	7:     true, // HostNotFound
	89:    true, // NetworkTimeout
	91:    true, // ShutdownInProgress
	189:   true, // PrimarySteppedDown
	262:   true, // ExceededTimeLimit
	9001:  true, // SocketException
	10107: true, // NotWritablePrimary
	11600: true, // InterruptedAtShutdown
	11602: true, // InterruptedDueToReplStateChange
	13435: true, // NotPrimaryNoSecondaryOk
	13436: true, // NotPrimaryOrSecondary
}

// translate turns driver errors into the ones callers act on: a missing
// document becomes domain.ErrNotFound, and an unreachable, slow or
// failing-over server becomes a 503 with Retry-After, never a 500 with
// driver details.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, mongo.ErrNoDocuments) {
		return domain.ErrNotFound
	}
	if transient(err) {
		e := domain.Unavailable(err)
		e.RetryAfter = retryAfter
		return e
	}
	return err
}

// transient reports whether err means the store could not do the operation
// now but may shortly: a timeout, a network failure, no reachable primary,
// a replica-set state change, or a write whose durability was not
// confirmed. A retry with the same idempotency key is safe in every case:
// each write here is conditional or keyed, so one that did apply is found,
// not repeated.
func transient(err error) bool {
	var sse topology.ServerSelectionError
	if mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.As(err, &sse) ||
		errors.Is(err, mongo.ErrClientDisconnected) || errors.Is(err, context.Canceled) {
		return true
	}
	var le mongo.LabeledError
	if errors.As(err, &le) && le.HasErrorLabel("RetryableWriteError") {
		return true
	}
	// A write concern error (writeConcernError in the reply) means the write
	// was applied on the primary but not acknowledged by a majority in time,
	// or the majority could not be reached: WriteConcernFailed (64),
	// UnsatisfiableWriteConcern (100), or a node state code above. Its
	// MaxTimeMSExpired (50) is a timeout and already caught by IsTimeout.
	// See https://www.mongodb.com/docs/manual/reference/write-concern/.
	var we mongo.WriteException
	if errors.As(err, &we) && we.WriteConcernError != nil {
		return true
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError != nil {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		for _, c := range se.ErrorCodes() {
			if unavailableCodes[c] {
				return true
			}
		}
	}
	return false
}

// upsertFirst inserts doc under id unless a document with that _id exists, in
// one command, and returns the document as it was before (nil if inserted)
// or after, as ret says. Two concurrent upserts of one _id can both try the
// insert; the loser gets E11000 and simply reads again.
func upsertFirst(ctx context.Context, c *mongo.Collection, id any, doc bson.M, ret options.ReturnDocument, out any) (found bool, err error) {
	opts := upsertBefore
	if ret == options.After {
		opts = upsertAfter
	}
	filter := bson.D{{Key: "_id", Value: id}}
	update := bson.D{{Key: "$setOnInsert", Value: sortedDoc(doc)}}
	for attempt := 0; ; attempt++ {
		err = c.FindOneAndUpdate(ctx, filter, update, opts).Decode(out)
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

// The options of upsertFirst's two forms, built once: a builder only lists
// setters, which the driver applies to fresh options on every call.
var (
	upsertBefore = options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)
	upsertAfter  = options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
)

// sortedDoc turns m into a bson.D in key order. The driver encodes a bson.M
// through reflection, copying every key and value (about three times the
// allocations of a bson.D), and in random order; this runs on the claim and
// the charge of every write.
func sortedDoc(m bson.M) bson.D {
	d := make(bson.D, 0, len(m))
	for k, v := range m {
		d = append(d, bson.E{Key: k, Value: v})
	}
	slices.SortFunc(d, func(a, b bson.E) int { return strings.Compare(a.Key, b.Key) })
	return d
}
