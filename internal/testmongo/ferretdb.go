package testmongo

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferretMu serialises ferretdb.New calls made here: it writes a package
// variable, so two starts at once would race (internal/embedded guards its
// own calls the same way).
var ferretMu sync.Mutex

// PlainFerretDB starts a FerretDB server of its own, without the write lock
// of internal/embedded in front of it, and returns its URI; it stops when tb
// ends. Its conditional updates are not atomic: it exists for tests that
// check the service refuses such a server.
func PlainFerretDB(tb testing.TB) string {
	tb.Helper()

	// The shared server first: the embedded one calls ferretdb.New too.
	get(tb)

	dir := tb.TempDir()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	ferretMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: dir + "/"}).String(),
	})
	ferretMu.Unlock()

	if err != nil {
		tb.Fatalf("testmongo: start plain FerretDB: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})

	go func() {
		defer close(done)

		_ = f.Run(ctx)
	}()

	// Registered after TempDir's cleanup, so it runs before it.
	tb.Cleanup(func() {
		cancel()
		<-done
	})

	return f.MongoDBURI() // blocks until the listener is bound
}
