package mongostore_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/provider"
	"github.com/reliabledemo/payments/internal/testmongo"
)

// A behavior document written by hand in mongosh, or by an older release,
// may have no version, or a null one. Updating it must not spin until the
// context ends, and must leave a versioned document behind.
func TestUpdateBehaviorOfADocumentWithoutVersion(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		doc  bson.M
	}{
		{"no version", bson.M{"_id": "payment_behavior", "failureRate": 0.5, "minDelayMs": 10, "maxDelayMs": 20}},
		{"null version", bson.M{"_id": "payment_behavior", "failureRate": 0.5, "minDelayMs": 10, "maxDelayMs": 20, "version": nil}},
		// mongosh writes numbers as doubles.
		{"double version", bson.M{"_id": "payment_behavior", "failureRate": 0.5, "minDelayMs": 10, "maxDelayMs": 20, "version": 3.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testmongo.Open(t)
			settings := db.Collection(mongostore.SettingsCollection)
			if _, err := settings.InsertOne(t.Context(), tt.doc); err != nil {
				t.Fatalf("insert by hand: %v", err)
			}
			store := quietStore(db)

			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			def := provider.Behavior{MinDelayMs: 100, MaxDelayMs: 300, TimeoutOutcome: "fail"}
			var seen provider.Behavior
			got, err := store.UpdateBehavior(ctx, def, func(b provider.Behavior) (provider.Behavior, error) {
				seen = b
				b.FailureRate = 0.25
				return b, nil
			})
			if err != nil {
				t.Fatalf("UpdateBehavior: %v", err)
			}
			if seen.FailureRate != 0.5 || seen.MinDelayMs != 10 || seen.MaxDelayMs != 20 || seen.TimeoutOutcome != "fail" {
				t.Fatalf("fn saw %+v, want the stored fields over the defaults", seen)
			}
			if got.FailureRate != 0.25 {
				t.Fatalf("UpdateBehavior returned %+v", got)
			}

			var stored struct {
				FailureRate float64 `bson:"failureRate"`
				Version     int64   `bson:"version"`
			}
			if err := settings.FindOne(t.Context(), bson.M{"_id": "payment_behavior"}).Decode(&stored); err != nil {
				t.Fatal(err)
			}
			if stored.FailureRate != 0.25 || stored.Version < 1 {
				t.Fatalf("stored %+v, want failureRate 0.25 and a version", stored)
			}

			// And the next update is an ordinary compare-and-swap.
			if _, err := store.UpdateBehavior(ctx, def, func(b provider.Behavior) (provider.Behavior, error) {
				b.FailureRate = 0.75
				return b, nil
			}); err != nil {
				t.Fatalf("second UpdateBehavior: %v", err)
			}
			b, found, err := store.LoadBehavior(t.Context(), def)
			if err != nil || !found || b.FailureRate != 0.75 {
				t.Fatalf("LoadBehavior = %+v, %v, %v", b, found, err)
			}
		})
	}
}
