package mongostore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/internal/idempotency"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/testmongo"
)

// TestDeleteExpiredKeepsLiveRecords sweeps more expired records than one
// read returns, next to live ones: every expired record goes, every live
// one stays.
func TestDeleteExpiredKeepsLiveRecords(t *testing.T) {
	t.Parallel()
	db := testmongo.Open(t)
	store := mongostore.New(db, slog.New(slog.NewTextHandler(io.Discard, nil))).Idempotency()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)

	const expired, live = 520, 7 // more than one batch of the sweep
	docs := make([]any, 0, expired+live)
	for i := range expired + live {
		at := now.Add(-time.Minute)
		if i >= expired {
			at = now.Add(time.Hour)
		}
		docs = append(docs, bson.M{"_id": fmt.Sprintf("rec-%04d", i), "key": fmt.Sprintf("k-%d", i), "method": "POST",
			"path": "/orders", "userId": "u", "status": string(idempotency.Completed), "expiresAt": at})
	}
	if _, err := db.Collection("idempotencykeys").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	n, err := store.DeleteExpired(ctx, now)
	if err != nil || n != expired {
		t.Fatalf("DeleteExpired = %d, %v; want %d", n, err, expired)
	}
	left, err := db.Collection("idempotencykeys").CountDocuments(ctx, bson.M{})
	if err != nil || left != live {
		t.Fatalf("%d records left (%v), want the %d live ones", left, err, live)
	}
}
