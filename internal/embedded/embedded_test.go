package embedded_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
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
