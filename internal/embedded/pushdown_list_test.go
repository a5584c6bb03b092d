package embedded_test

import (
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// maxObjectID bounds a filter to ObjectIDs without excluding any of them.
var maxObjectID = bson.ObjectID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

var (
	newestFirst = bson.D{{Key: "_id", Value: -1}}
	oldestFirst = bson.D{{Key: "_id", Value: 1}}
	objectIDs   = bson.D{{Key: "$type", Value: "objectId"}}
)

func lt(id bson.ObjectID) bson.D { return bson.D{{Key: "$lt", Value: id}} }

// The shape of GET /orders: {userId?, status?, _id?} sorted by _id, limit
// N+1. SQLite walks the _id index in order only when the filter restricts
// _id to ObjectIDs; otherwise FerretDB sorts in memory as before.
func TestPushdownListShapeWalksTheIndex(t *testing.T) {
	f, ids := newPushdownFixture(t, 30)

	tests := []struct {
		name       string
		filter     bson.D
		sort       bson.D
		wantSort   bool
		wantFilter bool
	}{
		{"first page, $type", bson.D{{Key: "_id", Value: objectIDs}}, newestFirst, true, false},
		{"first page, bounded", bson.D{{Key: "_id", Value: bson.D{{Key: "$lte", Value: maxObjectID}}}}, newestFirst, true, true},
		{"starting_after", bson.D{{Key: "_id", Value: lt(ids[20])}}, newestFirst, true, true},
		{"userId and starting_after", bson.D{{Key: "userId", Value: "u1"}, {Key: "_id", Value: lt(ids[20])}}, newestFirst, true, true},
		{"status, $type, ascending", bson.D{{Key: "status", Value: "PAID"}, {Key: "_id", Value: objectIDs}}, oldestFirst, true, true},
		{"range both ways", bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: ids[2]}, {Key: "$lte", Value: ids[9]}}}}, oldestFirst, true, true},

		// Other _id types sort differently from their JSON text: no pushdown.
		{"no _id condition", bson.D{}, newestFirst, false, false},
		{"userId only", bson.D{{Key: "userId", Value: "u1"}}, newestFirst, false, true},
		{"string bound", bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: "m"}}}}, newestFirst, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.explainFind(t, tt.filter, tt.sort, 21)
			if p.SortPushdown != tt.wantSort || p.FilterPushdown != tt.wantFilter {
				t.Fatalf("explain %v sort %v: %v; want sort=%v filter=%v", tt.filter, tt.sort, p, tt.wantSort, tt.wantFilter)
			}
			if tt.wantSort && !p.usesIDIndex() {
				t.Fatalf("explain %v sort %v: %v; want the _id index walked, no temporary b-tree", tt.filter, tt.sort, p)
			}
			if p.LimitPushdown {
				t.Fatalf("explain %v: %v; a limit must not be pushed down under a filter the handler still applies", tt.filter, p)
			}
		})
	}
}

// With the sort pushed down, find returns its page without reading further:
// an undecodable row at the far end of the index is never reached.
func TestPushdownListStopsReading(t *testing.T) {
	f, ids := newPushdownFixture(t, 30)
	f.plantUndecodable(t, "000000000000000000000000") // last in newest-first order; userId u0, PAID

	tests := []struct {
		name   string
		filter bson.D
		limit  int64
		want   []bson.ObjectID
	}{
		{"first page", bson.D{{Key: "_id", Value: objectIDs}}, 3, []bson.ObjectID{ids[29], ids[28], ids[27]}},
		{"userId", bson.D{{Key: "userId", Value: "u0"}, {Key: "_id", Value: objectIDs}}, 3, []bson.ObjectID{ids[27], ids[24], ids[21]}},
		{"status, starting_after", bson.D{{Key: "status", Value: "PAID"}, {Key: "_id", Value: lt(ids[10])}}, 3, []bson.ObjectID{ids[9], ids[7], ids[6]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findIDs(t, f, tt.filter, newestFirst, tt.limit)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("find %v: %v; want %v", tt.filter, got, tt.want)
			}
		})
	}
}

// Pushed-down conditions select a superset that the handler filters again,
// and the sort is pushed down only where SQLite's order is MongoDB's: with
// _ids and fields of several types, results are what MongoDB returns.
func TestPushdownKeepsMongoDBSemantics(t *testing.T) {
	f, ids := newPushdownFixture(t, 30)

	// A string that reads like an ObjectID between ids[7] and ids[9]. (It
	// cannot be the hex of an ObjectID in the collection: FerretDB stores both
	// as the same JSON string, so its unique _id index sees a duplicate.)
	hex := bson.NewObjectIDFromTimestamp(orderTime(8)).Hex()

	others := []any{
		bson.D{{Key: "_id", Value: hex}, {Key: "userId", Value: "u1"}},
		bson.D{{Key: "_id", Value: "s1"}, {Key: "userId", Value: bson.A{"u9", "u1"}}},
		bson.D{{Key: "_id", Value: "zzz"}, {Key: "userId", Value: "a<b"}},
		bson.D{{Key: "_id", Value: int32(5)}, {Key: "status", Value: `x"y`}},
		bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "status", Value: "PAID"}},
	}
	if _, err := f.coll.InsertMany(t.Context(), others); err != nil {
		t.Fatalf("InsertMany: %v", err)
	}

	tests := []struct {
		name   string
		filter bson.D
		sort   bson.D
		limit  int64
		want   string // fmt.Sprint of the _ids
	}{
		{"$lt ObjectID skips other types", bson.D{{Key: "_id", Value: lt(ids[10])}}, newestFirst, 3, fmt.Sprint([]any{ids[9], ids[8], ids[7]})},
		{"$gte ObjectID ascending", bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: ids[27]}}}}, oldestFirst, 0, fmt.Sprint([]any{ids[27], ids[28], ids[29]})},
		{"$type objectId", bson.D{{Key: "_id", Value: objectIDs}}, newestFirst, 2, fmt.Sprint([]any{ids[29], ids[28]})},
		{"no _id condition sorts in memory", bson.D{}, newestFirst, 3, fmt.Sprint([]any{ids[29], ids[28], ids[27]})},
		{"ObjectID equality", bson.D{{Key: "_id", Value: ids[8]}}, nil, 0, fmt.Sprint([]any{ids[8]})},
		{"string equality", bson.D{{Key: "_id", Value: hex}}, nil, 0, fmt.Sprint([]any{hex})},
		{"string field matches arrays", bson.D{{Key: "userId", Value: "u1"}, {Key: "_id", Value: bson.D{{Key: "$type", Value: "string"}}}}, nil, 0, fmt.Sprint([]any{hex, "s1"})},
		{"escaped string", bson.D{{Key: "userId", Value: "a<b"}}, nil, 0, fmt.Sprint([]any{"zzz"})},
		{"quoted string", bson.D{{Key: "status", Value: `x"y`}}, nil, 0, fmt.Sprint([]any{int32(5)})},
		{"status and range", bson.D{{Key: "status", Value: "PAID"}, {Key: "_id", Value: lt(ids[10])}}, newestFirst, 3, fmt.Sprint([]any{ids[9], ids[7], ids[6]})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmt.Sprint(findIDs(t, f, tt.filter, tt.sort, tt.limit)); got != tt.want {
				t.Fatalf("find %v sort %v limit %d: %s; want %s", tt.filter, tt.sort, tt.limit, got, tt.want)
			}
		})
	}
}

// findIDs returns the _ids find returns, in order.
func findIDs(t *testing.T, f *pushdownFixture, filter, sort bson.D, limit int64) []any {
	t.Helper()

	opts := options.Find().SetLimit(limit)
	if sort != nil {
		opts.SetSort(sort)
	}

	cur, err := f.coll.Find(t.Context(), filter, opts)
	if err != nil {
		t.Fatalf("find %v: %v", filter, err)
	}

	var docs []bson.M
	if err = cur.All(t.Context(), &docs); err != nil {
		t.Fatalf("find %v: %v", filter, err)
	}

	got := make([]any, len(docs))
	for i, d := range docs {
		got[i] = d["_id"]
	}

	return got
}
