package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/embedded"
	"github.com/reliabledemo/payments/internal/events"
	"github.com/reliabledemo/payments/internal/httpapi"
	"github.com/reliabledemo/payments/internal/idempotency"
	"github.com/reliabledemo/payments/internal/intents"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/orders"
	"github.com/reliabledemo/payments/internal/provider"
)

// The benchmarks drive the real router over the real embedded store (its own
// data directory and Unix socket), wired as cmd/server wires it, with the
// provider's delay and failure rate at 0 and no rate limit. They measure one
// request's whole cost in this process: handler, idempotency, store client
// and the embedded FerretDB. They assert answers, never speed.

const benchKey = "bench_api_key"

// benchHandler returns the service's handler on a fresh embedded store.
func benchHandler(b *testing.B) http.Handler {
	b.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	emb, err := embedded.Start(ctx, embedded.Options{DataDir: b.TempDir(), Addr: "off", Logger: log})
	if err != nil {
		b.Fatalf("start the embedded store: %v", err)
	}
	b.Cleanup(func() { _ = emb.Close() })
	client, err := mongo.Connect(options.Client().ApplyURI(emb.URI()).SetTimeout(30 * time.Second))
	if err != nil {
		b.Fatalf("connect: %v", err)
	}
	b.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	store := mongostore.New(client.Database("bench"), log)
	if _, err := store.EnsureIndexes(ctx); err != nil {
		b.Fatalf("EnsureIndexes: %v", err)
	}
	prov := provider.New(store, store, provider.Behavior{}, provider.Options{Logger: log})
	if err := prov.Refresh(ctx); err != nil {
		b.Fatalf("Refresh: %v", err)
	}
	idem := idempotency.New(store.Idempotency(), idempotency.Config{TTL: 24 * time.Hour, Lease: 30 * time.Second, Logger: log})
	evlog := events.New(store, nil, nil)
	return httpapi.New(httpapi.Config{
		APIKey: benchKey, Orders: orders.New(store, prov, evlog, nil, orders.Hooks{}), Events: evlog,
		Intents: intents.New(store, prov, evlog, nil, intents.Hooks{}), Idempotency: idem, Behavior: prov, Store: store,
		Logger: log,
	})
}

// benchPost sends POST /orders with key and returns the answer.
func benchPost(h http.Handler, key string, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/orders", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+benchKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const benchOrder = `{"userId":"u1","amount":500,"currency":"USD"}`

// Both benchmarks run serially and in parallel; parallel keeps 8 requests per
// CPU in flight, as the load test's c=16 does on two cores.

// BenchmarkCreateOrder measures first requests: each with a fresh key, so
// each claims a key, charges, stores the order and completes the key.
func BenchmarkCreateOrder(b *testing.B) {
	h := benchHandler(b)
	var n atomic.Int64
	create := func() error {
		rec := benchPost(h, fmt.Sprintf("create-%d", n.Add(1)), benchOrder)
		if rec.Code != http.StatusCreated {
			return fmt.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		return nil
	}
	serialAndParallel(b, create)
}

// BenchmarkReplayOrder measures retries of a completed request: one read of
// the key's record and the stored answer sent back.
func BenchmarkReplayOrder(b *testing.B) {
	h := benchHandler(b)
	if rec := benchPost(h, "replay", benchOrder); rec.Code != http.StatusCreated {
		b.Fatalf("first request: status %d: %s", rec.Code, rec.Body)
	}
	replay := func() error {
		rec := benchPost(h, "replay", benchOrder)
		if rec.Code != http.StatusCreated || rec.Header().Get("Idempotent-Replayed") != "true" {
			return fmt.Errorf("status %d, replayed %q: %s", rec.Code, rec.Header().Get("Idempotent-Replayed"), rec.Body)
		}
		return nil
	}
	serialAndParallel(b, replay)
}

// serialAndParallel runs one request as a serial and as a parallel
// sub-benchmark.
func serialAndParallel(b *testing.B, request func() error) {
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := request(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := request(); err != nil {
					b.Error(err) // Fatal may not be called from these goroutines
					return
				}
			}
		})
	})
}
