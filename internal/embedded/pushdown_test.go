package embedded_test

// These tests pin the query pushdown patched into third_party/ferretdb (see
// its PATCHES.md): they read FerretDB's explain output, which for the SQLite
// backend carries SQLite's EXPLAIN QUERY PLAN rows and the pushdown flags.

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	_ "modernc.org/sqlite" // to plant undecodable rows next to FerretDB's

	"github.com/reliabledemo/payments/internal/embedded"
)

const pushdownDB = "pushdown_test"

// pushdownFixture is a running server with one collection, "c", and the
// directory of its data.
type pushdownFixture struct {
	dir  string
	db   *mongo.Database
	coll *mongo.Collection
}

// newPushdownFixture starts a server and fills "c" with orders-shaped
// documents whose _ids are the returned ObjectIDs, oldest first.
func newPushdownFixture(t *testing.T, n int) (*pushdownFixture, []bson.ObjectID) {
	t.Helper()

	dir := t.TempDir()
	s, err := embedded.Start(t.Context(), embedded.Options{DataDir: dir, Addr: "off", Logger: testLogger()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })

	db := connect(t, s.URI()).Database(pushdownDB)
	f := &pushdownFixture{dir: dir, db: db, coll: db.Collection("c")}

	ids := make([]bson.ObjectID, n)
	docs := make([]any, n)
	for i := range ids {
		// Distinct, increasing timestamps make the order of the ids obvious.
		ids[i] = bson.NewObjectIDFromTimestamp(orderTime(i))
		docs[i] = bson.D{
			{Key: "_id", Value: ids[i]},
			{Key: "userId", Value: fmt.Sprintf("u%d", i%3)},
			{Key: "status", Value: []string{"PAID", "PAID", "FAILED"}[i%3]},
			{Key: "owner", Value: "w1"},
		}
	}
	if n > 0 {
		if _, err := f.coll.InsertMany(t.Context(), docs); err != nil {
			t.Fatalf("InsertMany: %v", err)
		}
	}

	return f, ids
}

// orderTime is the creation time of the i-th fixture document.
func orderTime(i int) time.Time {
	return time.Unix(1_700_000_000, 0).Add(time.Duration(i) * time.Minute)
}

// plan is what FerretDB's explain reports for a find on the SQLite backend.
type plan struct {
	QueryPlanner struct {
		Plan []string `bson:"Plan"` // "id=.. parent=.. notused=.. detail=SEARCH t USING INDEX ..."
	} `bson:"queryPlanner"`
	FilterPushdown bool `bson:"filterPushdown"`
	SortPushdown   bool `bson:"sortPushdown"`
	LimitPushdown  bool `bson:"limitPushdown"`
}

func (p plan) String() string {
	return fmt.Sprintf("filter=%v sort=%v limit=%v plan=%q", p.FilterPushdown, p.SortPushdown, p.LimitPushdown, p.QueryPlanner.Plan)
}

// usesIDIndex reports whether SQLite reads the collection through its _id
// index, either to look keys up (SEARCH) or to walk them in order (SCAN ...
// USING INDEX), and never sorts in a temporary b-tree.
func (p plan) usesIDIndex() bool {
	all := strings.Join(p.QueryPlanner.Plan, "\n")
	return strings.Contains(all, "USING INDEX") && strings.Contains(all, "__id_") && !strings.Contains(all, "TEMP B-TREE")
}

// searchesIDIndex reports whether SQLite looks _id up in its index rather
// than walking every entry.
func (p plan) searchesIDIndex() bool {
	return p.usesIDIndex() && strings.Contains(strings.Join(p.QueryPlanner.Plan, "\n"), "SEARCH")
}

// explainFind runs explain on find with the given filter, sort and limit.
func (f *pushdownFixture) explainFind(t *testing.T, filter, sort bson.D, limit int64) plan {
	t.Helper()

	find := bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: filter}}
	if sort != nil {
		find = append(find, bson.E{Key: "sort", Value: sort})
	}
	if limit != 0 {
		find = append(find, bson.E{Key: "limit", Value: limit})
	}

	var p plan
	if err := f.db.RunCommand(t.Context(), bson.D{{Key: "explain", Value: find}}).Decode(&p); err != nil {
		t.Fatalf("explain %v: %v", find, err)
	}

	return p
}

// plantUndecodable writes a row into the SQLite table of "c" behind
// FerretDB's back: valid JSON with the given _id but without sjson's schema,
// so FerretDB fails the command that decodes it. A command that succeeds
// with such a row present never read it.
func (f *pushdownFixture) plantUndecodable(t *testing.T, id string) {
	t.Helper()

	path := filepath.Join(f.dir, pushdownDB+".sqlite")
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer conn.Close()

	var table string
	if err = conn.QueryRowContext(t.Context(), `SELECT table_name FROM _ferretdb_collections WHERE name = 'c'`).Scan(&table); err != nil {
		t.Fatalf("table of c: %v", err)
	}

	q := fmt.Sprintf(`INSERT INTO %q (_ferretdb_sjson) VALUES (?)`, table)
	if _, err = conn.ExecContext(t.Context(), q, fmt.Sprintf(`{"_id":%q,"userId":"u0","status":"PAID"}`, id)); err != nil {
		t.Fatalf("plant row: %v", err)
	}

	// Check the premise: a full scan now fails.
	if err = f.coll.FindOne(t.Context(), bson.D{{Key: "amount", Value: 1}}).Err(); err == nil || err == mongo.ErrNoDocuments {
		t.Fatalf("a full scan read the planted row without error (%v): the test proves nothing", err)
	}
}

func TestPushdownIDLookupsUseTheIndex(t *testing.T) {
	f, ids := newPushdownFixture(t, 30)
	if _, err := f.coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: "s1"}, {Key: "status", Value: "PAID"}}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}

	tests := []struct {
		name   string
		filter bson.D
	}{
		{"ObjectID", bson.D{{Key: "_id", Value: ids[7]}}},
		{"string", bson.D{{Key: "_id", Value: "s1"}}},
		{"$eq ObjectID", bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: ids[7]}}}}},
		// The shapes of the service's conditional updates and deletes.
		{"_id and status", bson.D{{Key: "_id", Value: ids[7]}, {Key: "status", Value: "PAID"}}},
		{"_id, owner and status", bson.D{{Key: "_id", Value: ids[7]}, {Key: "owner", Value: "w1"}, {Key: "status", Value: "PAID"}}},
		{"string _id and status", bson.D{{Key: "status", Value: "PAID"}, {Key: "_id", Value: "s1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.explainFind(t, tt.filter, nil, 0)
			if !p.FilterPushdown || !p.searchesIDIndex() {
				t.Errorf("explain %v: %v; want filter pushdown and SEARCH ... USING INDEX on _id", tt.filter, p)
			}
		})
	}
}

// Update, delete and findAndModify cannot be explained on FerretDB v1 (its
// explain reads only find's filter), but they call the same backend Query
// with their whole filter. With an undecodable row in the collection, each
// succeeds only if it reads nothing but the document its _id names.
func TestPushdownWritesReadOnlyTheirDocument(t *testing.T) {
	f, ids := newPushdownFixture(t, 30)
	f.plantUndecodable(t, "planted")

	ctx := t.Context()
	id := ids[4] // userId u1, status PAID

	res, err := f.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: "PAID"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "REFUNDED"}}}})
	if err != nil || res.MatchedCount != 1 {
		t.Fatalf("UpdateOne {_id, status}: %+v, %v; want 1 matched", res, err)
	}

	// The other fields still decide: the handler filters what it is given.
	res, err = f.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: "PAID"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "LOST"}}}})
	if err != nil || res.MatchedCount != 0 {
		t.Fatalf("UpdateOne {_id, stale status}: %+v, %v; want 0 matched", res, err)
	}

	var got bson.M
	err = f.coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: "w1"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: "w2"}}}}).Decode(&got)
	if err != nil || got["status"] != "REFUNDED" {
		t.Fatalf("FindOneAndUpdate {_id, owner}: %v, %v", got, err)
	}

	if err = f.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: "w2"}}).Decode(&got); err != nil {
		t.Fatalf("FindOne {_id, owner}: %v", err)
	}

	del, err := f.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: "w2"}, {Key: "status", Value: "REFUNDED"}})
	if err != nil || del.DeletedCount != 1 {
		t.Fatalf("DeleteOne {_id, owner, status}: %+v, %v; want 1 deleted", del, err)
	}

	n, err := f.coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: ids[5]}, {Key: "owner", Value: "w1"}})
	if err != nil || n != 1 {
		t.Fatalf("CountDocuments {_id, owner}: %d, %v; want 1", n, err)
	}
}
