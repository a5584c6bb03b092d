package mongostore_test

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/testmongo"
)

var scopeKeys = bson.D{{Key: "key", Value: 1}, {Key: "method", Value: 1}, {Key: "path", Value: 1}, {Key: "userId", Value: 1}}

func quietStore(db *mongo.Database) *mongostore.Store {
	return mongostore.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// indexKeys lists coll's indexes as name → keys rendered as a string.
func indexKeys(t *testing.T, db *mongo.Database, coll string) map[string]string {
	t.Helper()
	specs, err := db.Collection(coll).Indexes().ListSpecifications(t.Context())
	if err != nil {
		t.Fatalf("list indexes of %s: %v", coll, err)
	}
	out := map[string]string{}
	for _, s := range specs {
		out[s.Name] = s.KeysDocument.String()
	}
	return out
}

// countKeys counts the indexes of coll whose keys are keys.
func countKeys(t *testing.T, db *mongo.Database, coll string, keys bson.D) int {
	t.Helper()
	raw, err := bson.Marshal(keys)
	if err != nil {
		t.Fatal(err)
	}
	want := bson.Raw(raw).String()
	n := 0
	for _, k := range indexKeys(t, db, coll) {
		// Directions come back as int32 from the server and as int64 from
		// bson.Marshal of a Go int: compare the key names and signs.
		if normalise(k) == normalise(want) {
			n++
		}
	}
	return n
}

func normalise(ext string) string {
	r := strings.NewReplacer(`{"$numberInt":"1"}`, "1", `{"$numberLong":"1"}`, "1", `{"$numberDouble":"1.0"}`, "1",
		`{"$numberInt":"-1"}`, "-1", `{"$numberLong":"-1"}`, "-1", `{"$numberDouble":"-1.0"}`, "-1")
	return r.Replace(ext)
}

func TestEnsureIndexesCreatesEachIndexOnce(t *testing.T) {
	t.Parallel()
	db := testmongo.Open(t)
	store := quietStore(db)

	ttl, err := store.EnsureIndexes(t.Context())
	if err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	// Again, as every restart does.
	ttl2, err := store.EnsureIndexes(t.Context())
	if err != nil {
		t.Fatalf("second EnsureIndexes: %v", err)
	}
	if ttl != ttl2 {
		t.Fatalf("ttl %v then %v", ttl, ttl2)
	}

	want := []struct {
		coll string
		keys bson.D
	}{
		{mongostore.IdempotencyCollection, scopeKeys},
		{mongostore.JobsCollection, bson.D{{Key: "availableAt", Value: 1}}},
		{mongostore.WebhookQueueCollection, bson.D{{Key: "availableAt", Value: 1}}},
		{mongostore.WebhookDeliveriesCollection, bson.D{{Key: "endpointId", Value: 1}, {Key: "_id", Value: -1}}},
		{mongostore.OrdersCollection, bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: -1}}},
		{mongostore.OrdersCollection, bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: -1}}},
	}
	if ttl {
		want = append(want, struct {
			coll string
			keys bson.D
		}{mongostore.IdempotencyCollection, bson.D{{Key: "expiresAt", Value: 1}}})
	}
	for _, w := range want {
		if n := countKeys(t, db, w.coll, w.keys); n != 1 {
			t.Errorf("%s: %d indexes on %v, want 1 (have %v)", w.coll, n, w.keys, indexKeys(t, db, w.coll))
		}
	}
}

// FerretDB v1 has no TTL indexes: it answers NotImplemented, and the store
// must fall back to sweeping rather than fail.
func TestEnsureIndexesFallsBackWithoutTTL(t *testing.T) {
	t.Parallel()
	db := testmongo.Open(t)
	topo, err := quietStore(db).Topology(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	ttl, err := quietStore(db).EnsureIndexes(t.Context())
	if err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	if topo.FerretDB != "" && ttl {
		t.Fatalf("FerretDB %s reported TTL indexes", topo.FerretDB)
	}
	if topo.FerretDB == "" && !ttl {
		t.Fatalf("MongoDB %s reported no TTL indexes", topo.Version)
	}
}

// The seed's Node app, or someone in mongosh, may have made the scope index
// under another name: it is accepted, not duplicated.
func TestEnsureIndexesAcceptsAnEquivalentIndexUnderAnotherName(t *testing.T) {
	t.Parallel()
	db := testmongo.Open(t)
	idem := db.Collection(mongostore.IdempotencyCollection)
	if _, err := idem.Indexes().CreateOne(t.Context(), mongo.IndexModel{
		Keys: scopeKeys, Options: options.Index().SetUnique(true).SetName("seed_scope_unique"),
	}); err != nil {
		t.Fatalf("create the seed's index: %v", err)
	}

	var logs bytes.Buffer
	store := mongostore.New(db, slog.New(slog.NewTextHandler(&logs, nil)))
	if _, err := store.EnsureIndexes(t.Context()); err != nil {
		t.Fatalf("EnsureIndexes with the seed's index present: %v", err)
	}
	if n := countKeys(t, db, mongostore.IdempotencyCollection, scopeKeys); n != 1 {
		t.Fatalf("%d scope indexes, want 1: %v", n, indexKeys(t, db, mongostore.IdempotencyCollection))
	}
	if _, ok := indexKeys(t, db, mongostore.IdempotencyCollection)["seed_scope_unique"]; !ok {
		t.Fatal("the seed's index is gone")
	}
	if !strings.Contains(logs.String(), "seed_scope_unique") {
		t.Fatalf("no log line names the index in use: %s", logs.String())
	}
}

// An index on the same keys that is not unique does not enforce what the
// service needs: start-up fails, naming the index.
func TestEnsureIndexesRefusesANonEquivalentIndex(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		opts *options.IndexOptionsBuilder
	}{
		{"same keys, another name, not unique", options.Index().SetName("seed_scope")},
		{"our name, not unique", options.Index().SetName("key_1_method_1_path_1_userId_1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testmongo.Open(t)
			if _, err := db.Collection(mongostore.IdempotencyCollection).Indexes().CreateOne(t.Context(),
				mongo.IndexModel{Keys: scopeKeys, Options: tt.opts}); err != nil {
				t.Fatalf("create the conflicting index: %v", err)
			}

			_, err := quietStore(db).EnsureIndexes(t.Context())
			if err == nil {
				t.Fatal("EnsureIndexes accepted a scope index that is not unique")
			}
			if msg := err.Error(); !strings.Contains(msg, "key_1_method_1_path_1_userId_1") || !strings.Contains(msg, mongostore.IdempotencyCollection) {
				t.Fatalf("error does not name the index and collection: %v", err)
			}
			t.Logf("refused: %v", err)
		})
	}
}
