package embedded_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestCancelledCommandsLoseNoUpdate: clients that give up on their commands
// (a driver timeout, a killed process, maxTimeMS) must not make the store
// lose another client's update. Guarded $inc/$push updates of one document
// race with reads and updates whose contexts end after a few milliseconds;
// every update that reported success must be in the document afterwards.
//
// Before patch 6 of third_party/ferretdb/PATCHES.md, a cancelled command
// interrupted SQLite in the middle of a statement, and later reads on that
// connection could return the document as it was before: an update then
// wrote that old version back, with its own change, and erased the ones in
// between. In the service that lost refunds: succeeded, but not in the
// intent's balance.
func TestCancelledCommandsLoseNoUpdate(t *testing.T) {
	s := start(t, "127.0.0.1:0")
	coll := connect(t, s.URI()).Database("cancel").Collection("c")
	ctx := t.Context()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "doc"}, {Key: "n", Value: 0}, {Key: "ids", Value: bson.A{}}}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}

	const writers, perWriter = 8, 30
	var (
		mu        sync.Mutex
		confirmed []string // updates whose success the client saw
		stop      atomic.Bool
		wg        sync.WaitGroup
	)
	push := func(ctx context.Context, id string) (bool, error) {
		res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "doc"}, {Key: "ids", Value: bson.D{{Key: "$ne", Value: id}}}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}, {Key: "$push", Value: bson.D{{Key: "ids", Value: id}}}})
		return err == nil && res.MatchedCount == 1, err
	}
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%d", w, i)
				// An impatient attempt first, as a client with a short
				// timeout makes; then patient ones until one is answered.
				short, cancel := context.WithTimeout(ctx, time.Duration(r.IntN(3000))*time.Microsecond)
				ok, err := push(short, id)
				cancel()
				for err != nil && ctx.Err() == nil {
					ok, err = push(ctx, id)
				}
				if ok {
					mu.Lock()
					confirmed = append(confirmed, id)
					mu.Unlock()
				}
			}
		})
	}
	var readers sync.WaitGroup
	for r := range 8 {
		readers.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(r), 2))
			for !stop.Load() {
				short, cancel := context.WithTimeout(ctx, time.Duration(rnd.IntN(3000))*time.Microsecond)
				_ = coll.FindOne(short, bson.D{{Key: "_id", Value: "doc"}}).Err()
				cancel()
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()

	var doc struct {
		N   int      `bson:"n"`
		IDs []string `bson:"ids"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "doc"}}).Decode(&doc); err != nil {
		t.Fatalf("FindOne: %v", err)
	}
	var lost []string
	for _, id := range confirmed {
		if !slices.Contains(doc.IDs, id) {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 || doc.N != len(doc.IDs) {
		t.Fatalf("%d of %d confirmed updates lost (%v…); n = %d with %d ids", len(lost), len(confirmed), lost[:min(len(lost), 5)], doc.N, len(doc.IDs))
	}
	t.Logf("%d updates confirmed, all kept; n = %d", len(confirmed), doc.N)
}
