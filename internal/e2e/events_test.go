package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/domain"
)

// storedEvent is an event as the events collection holds it, with only the
// status of its snapshot.
type storedEvent struct {
	ID         bson.ObjectID `bson:"_id"`
	Type       string        `bson:"type"`
	ObjectType string        `bson:"objectType"`
	ObjectID   string        `bson:"objectId"`
	Sequence   int64         `bson:"sequence"`
	Created    time.Time     `bson:"created"`
	Data       struct {
		Object struct {
			Status string `bson:"status"`
		} `bson:"object"`
	} `bson:"data"`
}

func (e storedEvent) String() string {
	return fmt.Sprintf("%s #%d evt_%s at %s (%s)", e.Type, e.Sequence, e.ID.Hex(),
		e.Created.UTC().Format(time.RFC3339Nano), e.Data.Object.Status)
}

// snapshotStatus is the status an object's snapshot has in each event.
var snapshotStatus = map[string]string{
	"order.paid":                "PAID",
	"order.payment_failed":      "PAYMENT_FAILED",
	"payment_intent.created":    "requires_confirmation",
	"payment_intent.processing": "processing",
	"payment_intent.succeeded":  "succeeded",
	"refund.created":            "pending",
	"refund.succeeded":          "succeeded",
	"refund.failed":             "failed",
}

// objectEvents returns the events recorded about objectID, by sequence.
func objectEvents(t *testing.T, db *mongo.Database, objectID string) []storedEvent {
	t.Helper()
	ctx := context.Background()
	cur, err := db.Collection("events").Find(ctx, bson.M{"objectId": objectID},
		options.Find().SetSort(bson.D{{Key: "sequence", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatalf("find events of %s: %v", objectID, err)
	}
	var evs []storedEvent
	if err := cur.All(ctx, &evs); err != nil {
		t.Fatalf("read events of %s: %v", objectID, err)
	}
	return evs
}

func eventTypes(evs []storedEvent) string {
	s := make([]string, len(evs))
	for i, e := range evs {
		s[i] = e.String()
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// wantEvents checks that objectID has exactly one event per change, of
// types in order: sequences 1 to n without gap or repeat, each under the id
// its (object, sequence, time) gives, with a snapshot in the status its type
// names. It waits for the last events to arrive, since the worker records
// its own just after the change the test may have seen.
func wantEvents(t *testing.T, db *mongo.Database, objectID string, types ...string) {
	t.Helper()
	var evs []storedEvent
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs = objectEvents(t, db, objectID)
		if len(evs) >= len(types) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(evs) != len(types) {
		t.Fatalf("events of %s: %s; want %v", objectID, eventTypes(evs), types)
	}
	for i, e := range evs {
		seq := int64(i + 1)
		if e.Sequence != seq || e.Type != types[i] || e.ObjectID != objectID {
			t.Fatalf("event %d of %s is %s; want %s #%d. All: %s", i, objectID, e, types[i], seq, eventTypes(evs))
		}
		if kind, _, _ := strings.Cut(e.Type, "."); e.ObjectType != kind {
			t.Fatalf("event %s has objectType %q, want %q", e, e.ObjectType, kind)
		}
		if want := snapshotStatus[e.Type]; e.Data.Object.Status != want {
			t.Fatalf("event %s: snapshot status %q, want %q", e, e.Data.Object.Status, want)
		}
		if want := domain.EventID(objectID, seq, e.Created); "evt_"+e.ID.Hex() != want {
			t.Fatalf("event %s: id is not %s, the one its object, sequence and time give", e, want)
		}
		if i > 0 && e.Created.Before(evs[i-1].Created) {
			t.Fatalf("event %s is older than the change before it: %s", e, eventTypes(evs))
		}
	}
}

// wantIntentHistory checks that the intent's own document holds the events
// of its changes, of types in order: the copy a retry records them from.
func wantIntentHistory(t *testing.T, db *mongo.Database, id string, types ...string) {
	t.Helper()
	var doc struct {
		Events []storedEvent `bson:"events"`
	}
	if err := db.Collection("paymentintents").FindOne(context.Background(), bson.M{"_id": id}).Decode(&doc); err != nil {
		t.Fatalf("read intent %s: %v", id, err)
	}
	got := make([]string, len(doc.Events))
	for i, e := range doc.Events {
		got[i] = e.Type
	}
	if strings.Join(got, " ") != strings.Join(types, " ") {
		t.Fatalf("intent %s keeps the events %s; want %v", id, eventTypes(doc.Events), types)
	}
}
