package embedded_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/embedded"
)

// testLogger keeps our Info lines out of the test output; FerretDB's errors still show.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func start(t *testing.T, addr string) *embedded.Server {
	t.Helper()

	s, err := embedded.Start(t.Context(), embedded.Options{DataDir: t.TempDir(), Addr: addr, Logger: testLogger()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}

	t.Cleanup(func() { _ = s.Close() })

	return s
}

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()

	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()

		_ = c.Disconnect(ctx)
	})

	return c
}

func TestStartInsertFindUniqueIndex(t *testing.T) {
	s := start(t, "127.0.0.1:0")

	if _, port, err := net.SplitHostPort(s.Addr()); err != nil || port == "0" {
		t.Fatalf("Addr() = %q, want a bound loopback address", s.Addr())
	}

	if !strings.HasPrefix(s.URI(), "mongodb://") {
		t.Fatalf("URI() = %q", s.URI())
	}

	ctx := t.Context()
	client := connect(t, s.URI())
	coll := client.Database("embedded_test").Collection("payments")

	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "p1"}, {Key: "key", Value: "k1"}, {Key: "amount", Value: 100}}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}

	var got struct {
		Amount int `bson:"amount"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "p1"}}).Decode(&got); err != nil {
		t.Fatalf("FindOne: %v", err)
	}

	if got.Amount != 100 {
		t.Fatalf("amount = %d, want 100", got.Amount)
	}

	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "key", Value: 1}},
		Options: options.Index().SetUnique(true),
	}); err != nil {
		t.Fatalf("CreateOne unique index: %v", err)
	}

	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "p2"}, {Key: "key", Value: "k1"}})
	if !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("duplicate insert: err = %v, want a duplicate key error", err)
	}

	// Disconnect first: Close gives connected clients 3 s to leave.
	if err := client.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// After Close nothing listens any more.
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatalf("still accepting connections on %s after Close", s.Addr())
	}
}

func TestAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	_, err = embedded.Start(t.Context(), embedded.Options{DataDir: t.TempDir(), Addr: l.Addr().String(), Logger: testLogger()})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Start on a taken address: err = %v, want EADDRINUSE", err)
	}
}

func TestAddrOffUsesUnixSocket(t *testing.T) {
	// t.TempDir() paths can exceed the Unix socket path limit, so use a short one.
	dir, err := os.MkdirTemp("", "emb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	s, err := embedded.Start(t.Context(), embedded.Options{DataDir: filepath.Join(dir, "data"), Addr: "off", Logger: testLogger()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })

	if s.Addr() != "" {
		t.Fatalf("Addr() = %q, want empty for a Unix socket", s.Addr())
	}

	if err := connect(t, s.URI()).Ping(t.Context(), nil); err != nil {
		t.Fatalf("Ping over %s: %v", s.URI(), err)
	}
}

// TestConditionalUpdatesAreAtomic races compare-and-swap updates, guarded
// increments and find-and-modify claims on one document. On MongoDB each is
// atomic; FerretDB alone lets several of them match the same state, which
// the write lock prevents.
func TestConditionalUpdatesAreAtomic(t *testing.T) {
	s := start(t, "127.0.0.1:0")
	coll := connect(t, s.URI()).Database("atomic").Collection("docs")
	ctx := t.Context()
	const n = 24

	race := func(f func(i int) bool) int {
		var wins atomic.Int32
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				if f(i) {
					wins.Add(1)
				}
			}()
		}
		close(gate)
		wg.Wait()
		return int(wins.Load())
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	for round := range 5 {
		id := fmt.Sprintf("cas-%d", round)
		_, err := coll.InsertOne(ctx, bson.M{"_id": id, "status": "new", "balance": 10, "owner": ""})
		must(err)

		if wins := race(func(i int) bool {
			res, err := coll.UpdateOne(ctx, bson.M{"_id": id, "status": "new"}, bson.M{"$set": bson.M{"status": fmt.Sprint("won-", i)}})
			must(err)
			return res.MatchedCount == 1
		}); wins != 1 {
			t.Fatalf("round %d: %d compare-and-swaps won, want 1", round, wins)
		}

		if wins := race(func(int) bool {
			res, err := coll.UpdateOne(ctx, bson.M{"_id": id, "balance": bson.M{"$gte": 3}}, bson.M{"$inc": bson.M{"balance": -3}})
			must(err)
			return res.MatchedCount == 1
		}); wins != 3 {
			t.Fatalf("round %d: %d guarded decrements of 3 from 10 won, want 3", round, wins)
		}

		if wins := race(func(i int) bool {
			err := coll.FindOneAndUpdate(ctx, bson.M{"_id": id, "owner": ""}, bson.M{"$set": bson.M{"owner": fmt.Sprint(i)}}).Err()
			if errors.Is(err, mongo.ErrNoDocuments) {
				return false
			}
			must(err)
			return true
		}); wins != 1 {
			t.Fatalf("round %d: %d find-and-modify claims won, want 1", round, wins)
		}

		var doc struct {
			Balance int `bson:"balance"`
		}
		must(coll.FindOne(ctx, bson.M{"_id": id}).Decode(&doc))
		if doc.Balance != 1 {
			t.Fatalf("round %d: balance %d, want 1", round, doc.Balance)
		}
	}
}

// TestAbandonedWritesDoNotInterleave sends writes whose clients hang up
// before the reply, as a killed process or a timed-out driver does, while
// other clients push acknowledged values into the same document. FerretDB
// may still be running an abandoned write when its connection closes; if
// the write lock were released then, the next write would interleave with
// it and an acknowledged push could be lost.
func TestAbandonedWritesDoNotInterleave(t *testing.T) {
	s := start(t, "127.0.0.1:0")
	coll := connect(t, s.URI()).Database("abandon").Collection("docs")
	ctx := t.Context()
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "doc", "acked": bson.A{}, "junk": bson.A{}}); err != nil {
		t.Fatal(err)
	}
	var abandoners sync.WaitGroup
	for g := range 8 {
		abandoners.Add(1)
		go func() {
			defer abandoners.Done()
			for i := range 25 {
				abandonWrite(t, s.Addr(), bson.D{
					{Key: "update", Value: "docs"},
					{Key: "updates", Value: bson.A{bson.D{
						{Key: "q", Value: bson.D{{Key: "_id", Value: "doc"}}},
						{Key: "u", Value: bson.D{{Key: "$push", Value: bson.D{{Key: "junk", Value: fmt.Sprint(g, "-", i)}}}}},
					}}},
					{Key: "$db", Value: "abandon"},
				})
			}
		}()
	}
	var pushers sync.WaitGroup
	for g := range 8 {
		pushers.Add(1)
		go func() {
			defer pushers.Done()
			for i := range 25 {
				if _, err := coll.UpdateOne(ctx, bson.M{"_id": "doc"}, bson.M{"$push": bson.M{"acked": fmt.Sprint(g, "-", i)}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	pushers.Wait()
	abandoners.Wait()
	var doc struct {
		Acked []string `bson:"acked"`
	}
	if err := coll.FindOne(ctx, bson.M{"_id": "doc"}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Acked) != 8*25 {
		t.Fatalf("%d acknowledged pushes stored, want %d: writes interleaved", len(doc.Acked), 8*25)
	}
}

// abandonWrite sends cmd as an OP_MSG and hangs up without reading the reply.
func abandonWrite(t *testing.T, addr string, cmd bson.D) {
	doc, err := bson.Marshal(cmd)
	if err != nil {
		t.Error(err)
		return
	}
	msg := make([]byte, 16+4+1, 16+4+1+len(doc))
	msg = append(msg, doc...)
	binary.LittleEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.LittleEndian.PutUint32(msg[4:], 1)     // requestID
	binary.LittleEndian.PutUint32(msg[12:], 2013) // OP_MSG
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return
	}
	_, _ = c.Write(msg)
	c.Close()
}
