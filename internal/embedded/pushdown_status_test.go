package embedded_test

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestPushdownStatusLookupDecodesOnlyMatches is the completer's look for
// abandoned records: {status: "IN_PROGRESS", leaseUntil: {$lte: t}}. The
// status equality goes to SQLite, so rows of any other status are never
// decoded in Go, and the look stays cheap however many completed records
// the collection holds.
func TestPushdownStatusLookupDecodesOnlyMatches(t *testing.T) {
	f, _ := newPushdownFixture(t, 30)
	f.plantUndecodable(t, "planted") // status PAID

	filter := bson.D{{Key: "status", Value: "IN_PROGRESS"}, {Key: "leaseUntil", Value: bson.D{{Key: "$lte", Value: time.Now()}}}}
	if p := f.explainFind(t, filter, nil, 0); !p.FilterPushdown {
		t.Fatalf("status lookup not pushed down: %s", p)
	}
	cur, err := f.coll.Find(t.Context(), filter)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	var got []bson.M
	if err := cur.All(t.Context(), &got); err != nil {
		t.Fatalf("the status lookup decoded a row of another status: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("found %d in-progress records, want 0", len(got))
	}
}
