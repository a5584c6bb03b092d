package embedded_test

import (
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// withListIndexes gives "c" the indexes the service gives its orders:
// {userId: 1, _id: -1} and {status: 1, _id: -1}.
func (f *pushdownFixture) withListIndexes(t *testing.T) {
	t.Helper()
	_, err := f.coll.Indexes().CreateMany(t.Context(), []mongo.IndexModel{
		{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: -1}}},
	})
	if err != nil {
		t.Fatalf("CreateMany: %v", err)
	}
}

// searchesIndexOf reports whether SQLite looks the field up in an index of
// its own (FerretDB names them <table>_<field>_1__id_-1) instead of walking
// every row: the cost of a list filtered by userId or status then follows the
// page, not the collection. Sorted, it must merge the index's order, with no
// temporary b-tree for the equality's rows.
func (p plan) searchesIndexOf(field string) bool {
	all := strings.Join(p.QueryPlanner.Plan, "\n")
	return strings.Contains(all, "SEARCH") && strings.Contains(all, "_"+field+"_1__id_-1 (<expr>=?") && !strings.Contains(all, "SCAN")
}

// The list filters of GET /orders use the field's index: the equality, and
// the range of arrays (which may hold the string), each looked up in it.
func TestPushdownFieldEqualityUsesItsIndex(t *testing.T) {
	f, ids := newPushdownFixture(t, 30)
	f.withListIndexes(t)

	tests := []struct {
		name     string
		filter   bson.D
		sort     bson.D
		field    string // whose index is searched; "" for none
		wantSort bool
	}{
		{"userId, first page", bson.D{{Key: "userId", Value: "u1"}, {Key: "_id", Value: objectIDs}}, newestFirst, "userId", true},
		{"status, starting_after", bson.D{{Key: "status", Value: "FAILED"}, {Key: "_id", Value: lt(ids[20])}}, newestFirst, "status", true},
		{"status, ascending", bson.D{{Key: "status", Value: "NONE"}, {Key: "_id", Value: objectIDs}}, oldestFirst, "status", true},
		{"both: the first field's index", bson.D{{Key: "status", Value: "PAID"}, {Key: "userId", Value: "u1"}, {Key: "_id", Value: objectIDs}}, newestFirst, "status", true},
		{"unsorted", bson.D{{Key: "userId", Value: "u2"}}, nil, "userId", false},
		{"completer's look", bson.D{{Key: "status", Value: "IN_PROGRESS"}, {Key: "leaseUntil", Value: bson.D{{Key: "$lte", Value: 5}}}}, nil, "status", false},

		// An _id equality is the _id index's, whatever else the filter says.
		{"_id equality", bson.D{{Key: "_id", Value: ids[3]}, {Key: "status", Value: "PAID"}}, nil, "", false},
		// No index on owner: the filter is pushed down as before.
		{"unindexed field", bson.D{{Key: "owner", Value: "w1"}, {Key: "_id", Value: objectIDs}}, newestFirst, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.explainFind(t, tt.filter, tt.sort, 21)
			if !p.FilterPushdown || p.SortPushdown != tt.wantSort || p.LimitPushdown {
				t.Fatalf("explain %v sort %v: %v; want filter=true sort=%v limit=false", tt.filter, tt.sort, p, tt.wantSort)
			}
			if tt.field != "" && !p.searchesIndexOf(tt.field) {
				t.Fatalf("explain %v: %v; want the %s index searched, no scan", tt.filter, p, tt.field)
			}
			if tt.field == "" && !p.usesIDIndex() {
				t.Fatalf("explain %v: %v; want the _id index", tt.filter, p)
			}
			// Only the arrays (the union's right side) may be sorted.
			all := strings.Join(p.QueryPlanner.Plan, "\n")
			if right := strings.Index(all, "RIGHT"); right >= 0 && strings.Contains(all[:right], "TEMP B-TREE") {
				t.Fatalf("explain %v: %v; the equality's rows are sorted, not read in index order", tt.filter, p)
			}
		})
	}
}

// Split into its two lookups, the equality still returns what MongoDB
// returns: arrays that hold the string, in _id order among the others, pages
// that stop reading once full, nothing of another value.
func TestPushdownFieldEqualityKeepsMongoDBSemantics(t *testing.T) {
	f, ids := newPushdownFixture(t, 30)
	f.withListIndexes(t)
	f.plantUndecodable(t, "000000000000000000000000") // last newest-first; userId u0, PAID

	// ObjectIDs between the fixture's, whose userId and status are arrays.
	arr1 := bson.NewObjectIDFromTimestamp(orderTime(7).Add(30e9))
	arr2 := bson.NewObjectIDFromTimestamp(orderTime(25).Add(30e9))
	others := []any{
		bson.D{{Key: "_id", Value: arr1}, {Key: "userId", Value: bson.A{"u9", "u1"}}, {Key: "status", Value: bson.A{"FAILED"}}},
		bson.D{{Key: "_id", Value: arr2}, {Key: "userId", Value: bson.A{"u1"}}, {Key: "status", Value: bson.A{"X"}}},
		bson.D{{Key: "_id", Value: bson.NewObjectIDFromTimestamp(orderTime(26).Add(30e9))}, {Key: "userId", Value: bson.A{"u5"}}},
		bson.D{{Key: "_id", Value: bson.NewObjectIDFromTimestamp(orderTime(27).Add(30e9))}, {Key: "userId", Value: 1}},
	}
	if _, err := f.coll.InsertMany(t.Context(), others); err != nil {
		t.Fatalf("InsertMany: %v", err)
	}

	tests := []struct {
		name   string
		filter bson.D
		sort   bson.D
		limit  int64
		want   []any
	}{
		{"userId, arrays merged in order", bson.D{{Key: "userId", Value: "u1"}, {Key: "_id", Value: objectIDs}}, newestFirst, 5,
			[]any{ids[28], arr2, ids[25], ids[22], ids[19]}},
		{"userId, ascending past an array", bson.D{{Key: "userId", Value: "u1"}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: ids[3]}}}}, oldestFirst, 3,
			[]any{ids[4], ids[7], arr1}},
		{"status page ends before the planted row", bson.D{{Key: "status", Value: "PAID"}, {Key: "_id", Value: lt(ids[5])}}, newestFirst, 3,
			[]any{ids[4], ids[3], ids[1]}},
		{"status in an array", bson.D{{Key: "status", Value: "FAILED"}, {Key: "_id", Value: lt(ids[9])}}, newestFirst, 3,
			[]any{ids[8], arr1, ids[5]}},
		{"nothing matches", bson.D{{Key: "status", Value: "CREATED"}, {Key: "_id", Value: objectIDs}}, newestFirst, 20, nil},
		{"both fields", bson.D{{Key: "userId", Value: "u1"}, {Key: "status", Value: "X"}}, nil, 0, []any{arr2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := findIDs(t, f, tt.filter, tt.sort, tt.limit); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("find %v sort %v limit %d: %v; want %v", tt.filter, tt.sort, tt.limit, got, tt.want)
			}
		})
	}
}
