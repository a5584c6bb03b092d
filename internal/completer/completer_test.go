package completer_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/reliabledemo/payments/internal/completer"
	"github.com/reliabledemo/payments/internal/idempotency"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/testclock"
	"github.com/reliabledemo/payments/internal/testmongo"
)

// TestOnceResendsOnlyAbandonedRecords stores records in every state on a
// real store and checks which ones the completer sends again.
func TestOnceResendsOnlyAbandonedRecords(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := mongostore.New(testmongo.Open(t), log).Idempotency()
	clk := testclock.New()
	now := clk.Now().UTC()
	const after = time.Minute

	records := []struct {
		key        string
		leaseUntil time.Time
		completed  bool
		abandoned  bool
	}{
		{"lease ended long ago", now.Add(-after - time.Second), false, true},
		{"lease ended just long enough ago", now.Add(-after), false, true},
		{"lease ended, client may still retry", now.Add(-after + time.Second), false, false},
		{"still running", now.Add(time.Minute), false, false},
		{"completed long ago", now.Add(-time.Hour), true, false},
	}
	ctx := context.Background()
	for i, r := range records {
		rec := idempotency.Record{
			ID: "rec-" + r.key, Scope: idempotency.Scope{Key: r.key, Method: "POST", Path: "/orders", UserID: "u"},
			Fingerprint: "fp", Status: idempotency.InProgress, Owner: "own", LeaseUntil: r.leaseUntil,
			ResourceID: "res", CreatedAt: now.Add(-time.Duration(i) * time.Hour), ExpiresAt: now.Add(time.Hour),
			Request: idempotency.StoredRequest{URI: "/orders", Body: []byte(`{"userId":"u"}`), Principal: "api_1"},
		}
		if existing, err := store.Claim(ctx, rec); err != nil || existing != nil {
			t.Fatalf("claim %s: %v %v", r.key, existing, err)
		}
		if r.completed {
			if ok, err := store.Complete(ctx, rec.ID, "own", idempotency.Response{Status: 201, Body: []byte("{}")}, now); !ok || err != nil {
				t.Fatalf("complete %s: %v %v", r.key, ok, err)
			}
		}
	}

	var mu sync.Mutex
	var sent []idempotency.Record
	resend := func(_ context.Context, rec idempotency.Record) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, rec)
		if rec.Scope.Key == "lease ended just long enough ago" {
			return 409, nil // someone else took it first
		}
		return 201, nil
	}
	c := completer.New(store, resend, completer.Config{After: after, Every: time.Hour, Now: clk.Now, Logger: log})
	done, err := c.Once(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, rec := range sent {
		keys = append(keys, rec.Scope.Key)
		if string(rec.Request.Body) != `{"userId":"u"}` || rec.Request.URI != "/orders" || rec.Request.Principal != "api_1" {
			t.Errorf("%s: stored request came back as %+v", rec.Scope.Key, rec.Request)
		}
	}
	want := []string{"lease ended long ago", "lease ended just long enough ago"}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("resent %q, want %q", keys, want)
	}
	if done != 1 {
		t.Fatalf("finished %d, want 1 (the other answered 409)", done)
	}
}
