package testmongo_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/testmongo"
)

func TestOpenInsertAndFind(t *testing.T) {
	db := testmongo.Open(t)
	ctx := t.Context()

	if _, err := db.Collection("things").InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 42}}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}

	var got struct {
		N int `bson:"n"`
	}
	if err := db.Collection("things").FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil {
		t.Fatalf("FindOne: %v", err)
	}

	if got.N != 42 {
		t.Fatalf("n = %d, want 42", got.N)
	}
}

func TestOpenGivesDistinctDatabases(t *testing.T) {
	a, b := testmongo.Open(t), testmongo.Open(t)

	if a.Name() == b.Name() {
		t.Fatalf("two Opens gave the same database %q", a.Name())
	}

	if !strings.HasPrefix(a.Name(), "t_") {
		t.Fatalf("database name %q, want a t_ prefix", a.Name())
	}

	// Data written to one is not visible in the other.
	ctx := t.Context()
	if _, err := a.Collection("c").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}

	n, err := b.Collection("c").CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatalf("CountDocuments: %v", err)
	}

	if n != 0 {
		t.Fatalf("second database sees %d documents of the first", n)
	}
}

func TestDatabaseDroppedAfterCleanup(t *testing.T) {
	var name string

	t.Run("uses", func(t *testing.T) {
		db := testmongo.Open(t)
		name = db.Name()

		if _, err := db.Collection("c").InsertOne(t.Context(), bson.D{{Key: "x", Value: 1}}); err != nil {
			t.Fatalf("InsertOne: %v", err)
		}

		if !slices.Contains(databaseNames(t), name) {
			t.Fatalf("database %s not listed while in use", name)
		}
	})

	if slices.Contains(databaseNames(t), name) {
		t.Fatalf("database %s still exists after the subtest's cleanup", name)
	}
}

func TestOpenWithAppliesOptions(t *testing.T) {
	var started atomic.Int64

	monitor := &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			if e.CommandName == "insert" {
				started.Add(1)
			}
		},
	}

	db := testmongo.OpenWith(t, options.Client().SetMonitor(monitor))
	if _, err := db.Collection("c").InsertOne(t.Context(), bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}

	if started.Load() != 1 {
		t.Fatalf("monitor saw %d insert commands, want 1", started.Load())
	}
}

// databaseNames lists the server's databases through a client of its own.
func databaseNames(t *testing.T) []string {
	t.Helper()

	c, err := mongo.Connect(options.Client().ApplyURI(testmongo.URI(t)))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}

	defer func() { _ = c.Disconnect(context.Background()) }()

	names, err := c.ListDatabaseNames(t.Context(), bson.D{})
	if err != nil {
		t.Fatalf("ListDatabaseNames: %v", err)
	}

	return names
}
