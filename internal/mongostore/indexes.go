package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// indexSpec is one index the service needs.
type indexSpec struct {
	coll   string
	keys   bson.D
	unique bool
	// ttl makes it a TTL index (expireAfterSeconds 0 on a date field). A
	// server without TTL indexes skips it, and the caller sweeps instead.
	ttl bool
}

// indexes is every index the service creates at start-up. They keep the
// queries that are not keyed by _id off collection scans: on MongoDB, and on
// the embedded store for a string equality on an index's first field (patch 5
// in third_party/ferretdb/PATCHES.md), such as a list's userId or status.
var indexes = []indexSpec{
	// The seed design's guard against duplicate idempotency keys. Records are
	// addressed by an _id derived from the same scope, so this is a second
	// line of defence, and what mongosh users expect.
	{coll: IdempotencyCollection, unique: true,
		keys: bson.D{{Key: "key", Value: 1}, {Key: "method", Value: 1}, {Key: "path", Value: 1}, {Key: "userId", Value: 1}}},
	// Expiry: MongoDB deletes expired records itself.
	{coll: IdempotencyCollection, ttl: true, keys: bson.D{{Key: "expiresAt", Value: 1}}},
	// Abandoned (the completer): in-progress records by lease end.
	{coll: IdempotencyCollection, keys: bson.D{{Key: "status", Value: 1}, {Key: "leaseUntil", Value: 1}}},
	// ClaimJob: {availableAt: {$lte: now}} sorted by availableAt.
	{coll: JobsCollection, keys: bson.D{{Key: "availableAt", Value: 1}}},
	// ClaimDelivery: {availableAt: {$lte: now}} sorted by availableAt.
	{coll: WebhookQueueCollection, keys: bson.D{{Key: "availableAt", Value: 1}}},
	// ListDeliveries: one endpoint's deliveries, newest (_id) first.
	{coll: WebhookDeliveriesCollection, keys: bson.D{{Key: "endpointId", Value: 1}, {Key: "_id", Value: -1}}},
	// ListOrders: filtered by userId or status, newest (_id) first.
	{coll: OrdersCollection, keys: bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: -1}}},
	{coll: OrdersCollection, keys: bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: -1}}},
	// ListEvents: filtered by object_id or type, newest (_id) first.
	{coll: EventsCollection, keys: bson.D{{Key: "objectId", Value: 1}, {Key: "_id", Value: -1}}},
	{coll: EventsCollection, keys: bson.D{{Key: "type", Value: 1}, {Key: "_id", Value: -1}}},
}

// EnsureIndexes creates the indexes the service relies on. It is safe to run
// on every start and from several instances at once. An index that already
// exists with the same keys and options is accepted whatever its name (one
// created in mongosh, or by the seed's Node app on the same database). ttl
// reports whether the server supports TTL indexes; where it does not, the
// caller must sweep expired idempotency records itself.
func (s *Store) EnsureIndexes(ctx context.Context) (ttl bool, err error) {
	ttl = true
	// On a sharded cluster MongoDB refuses a unique index that is not
	// prefixed by the shard key (createIndexes and shardCollection fail;
	// https://www.mongodb.com/docs/manual/tutorial/shard-collection-with-unique-index/),
	// and the scope index cannot be: it is left out there. Nothing is lost:
	// a record's _id is derived from the same scope, and two requests of one
	// scope meet on one _id, which routes to one shard (docs/scaling.md).
	// A hello that fails leaves the index in: creating it then says why.
	hello, _ := s.hello(ctx)
	sharded := hello.mongos()
	listed := map[string][]existingIndex{}
	for _, spec := range indexes {
		if sharded && spec.unique {
			s.log.Info("sharded cluster: the unique scope index is left out; the scope-derived _id keeps keys unique",
				"collection", spec.coll, "keys", keysString(spec.keys))
			continue
		}
		name := spec.name()
		have, ok := listed[spec.coll]
		if !ok {
			if have, err = s.listIndexes(ctx, spec.coll); err != nil {
				return false, fmt.Errorf("list the indexes of %s: %w", spec.coll, err)
			}
			listed[spec.coll] = have
		}
		if other, found, err := spec.match(have); err != nil {
			return false, err
		} else if found {
			if other != name {
				s.log.Info("index already exists under another name; using it", "collection", spec.coll, "index", other, "keys", keysString(spec.keys))
			}
			continue
		}
		opts := options.Index().SetName(name)
		if spec.unique {
			opts.SetUnique(true)
		}
		if spec.ttl {
			opts.SetExpireAfterSeconds(0)
		}
		_, err := s.db.Collection(spec.coll).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: spec.keys, Options: opts})
		switch {
		case err == nil:
		case spec.ttl && ttlUnsupported(err):
			s.log.Info("TTL indexes not supported by this server; expired idempotency records will be swept", "reason", err.Error())
			ttl = false
		default:
			return false, indexError(spec, name, err)
		}
	}
	return ttl, nil
}

// name is the name the driver gives the index: keys and directions joined
// by "_", as MongoDB's shell does.
func (spec indexSpec) name() string {
	parts := make([]string, 0, 2*len(spec.keys))
	for _, k := range spec.keys {
		parts = append(parts, k.Key, fmt.Sprint(k.Value))
	}
	return strings.Join(parts, "_")
}

// existingIndex is an entry of listIndexes, with the options that change
// what an index means.
type existingIndex struct {
	Name                    string   `bson:"name"`
	Key                     bson.Raw `bson:"key"`
	Unique                  bool     `bson:"unique"`
	ExpireAfterSeconds      *float64 `bson:"expireAfterSeconds"`
	Sparse                  bool     `bson:"sparse"`
	PartialFilterExpression bson.Raw `bson:"partialFilterExpression"`
	Collation               bson.Raw `bson:"collation"`
}

// listIndexes lists coll's indexes; a missing collection has none.
func (s *Store) listIndexes(ctx context.Context, coll string) ([]existingIndex, error) {
	cur, err := s.db.Collection(coll).Indexes().List(ctx)
	if err != nil {
		return nil, err
	}
	var out []existingIndex
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// match finds an index equivalent to spec among have and returns its name.
// An index that has spec's name but other keys or options is an error:
// MongoDB would refuse to create spec (IndexKeySpecsConflict, 86, or
// IndexOptionsConflict, 85), and FerretDB v1 would silently keep the old one.
func (spec indexSpec) match(have []existingIndex) (name string, found bool, err error) {
	for _, ix := range have {
		if spec.equivalent(ix) {
			return ix.Name, true, nil
		}
	}
	for _, ix := range have {
		if ix.Name == spec.name() {
			return "", false, fmt.Errorf("index %s on %s exists with other keys or options than the service needs (%s%s): "+
				"drop it (db.%s.dropIndex(%q)) and restart, and the service creates it as needed",
				ix.Name, spec.coll, keysString(spec.keys), spec.optionsString(), spec.coll, ix.Name)
		}
	}
	return "", false, nil
}

// equivalent reports whether ix enforces and serves what spec does: the same
// keys in the same order and directions, the same uniqueness and expiry, and
// no filter or collation that would narrow it.
func (spec indexSpec) equivalent(ix existingIndex) bool {
	if ix.Unique != spec.unique || ix.Sparse || len(ix.PartialFilterExpression) > 0 || len(ix.Collation) > 0 {
		return false
	}
	if (ix.ExpireAfterSeconds != nil) != spec.ttl || (spec.ttl && *ix.ExpireAfterSeconds != 0) {
		return false
	}
	elems, err := ix.Key.Elements()
	if err != nil || len(elems) != len(spec.keys) {
		return false
	}
	for i, e := range elems {
		want, ok := spec.keys[i].Value.(int)
		if !ok || e.Key() != spec.keys[i].Key {
			return false
		}
		// Directions may be stored as int32, int64 or double (mongosh).
		got, ok := e.Value().AsFloat64OK()
		if !ok || got != float64(want) {
			return false
		}
	}
	return true
}

// ttlUnsupported reports whether err is a server saying it has no TTL
// indexes: NotImplemented (238), which FerretDB v1 answers for the
// expireAfterSeconds option, or CommandNotSupported (115). Anything else
// (a conflict, missing privileges, a timeout) is a real failure.
func ttlUnsupported(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && (se.HasErrorCode(238) || se.HasErrorCode(115))
}

// indexError names the index that could not be created and, for the
// failures an operator can fix, says how.
func indexError(spec indexSpec, name string, err error) error {
	var hint string
	var se mongo.ServerError
	switch {
	case errors.As(err, &se) && (se.HasErrorCode(85) || se.HasErrorCode(86)):
		// IndexOptionsConflict, IndexKeySpecsConflict: an index with this
		// name, or with these keys, exists with other options.
		hint = "; an index with this name or these keys already exists with other options: drop it and restart"
	case errors.As(err, &se) && se.HasErrorCode(13):
		// Unauthorized.
		hint = "; the MongoDB user may not create indexes (it needs the createIndex action, part of the readWrite role)"
	case mongo.IsTimeout(err) || transient(err):
		hint = "; the server did not answer in time or has no primary"
	}
	return fmt.Errorf("create index %s on %s (%s%s)%s: %w", name, spec.coll, keysString(spec.keys), spec.optionsString(), hint, err)
}

func (spec indexSpec) optionsString() string {
	switch {
	case spec.unique:
		return ", unique"
	case spec.ttl:
		return ", expireAfterSeconds 0"
	}
	return ""
}

// keysString renders keys as mongosh shows them: {key: 1, _id: -1}.
func keysString(keys bson.D) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %v", k.Key, k.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
