package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// startStore runs cmd/embedded-mongo, the standalone store several
// instances share, on addr with its data in dir.
func startStore(t *testing.T, addr, dir string) *proc {
	t.Helper()
	p := start(t, "embedded-mongo", binary(t, "embedded-mongo"), []string{"-addr", addr, "-data", dir}, nil, dir)
	db := connect(t, "mongodb://"+addr)
	waitUntil(t, 20*time.Second, "store answers", func() bool {
		return db.Client().Ping(t.Context(), nil) == nil
	})
	return p
}

// TestStoreOutage stops the store under load: requests must fail fast with
// 503 in the error format, the service must recover by itself once the
// store is back, and every key touched during the outage must end with
// exactly one order and one charge.
func TestStoreOutage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	store := startStore(t, addr, dir)
	s := startServer(t, "server-outage", dir, []string{
		"MONGODB_URI=mongodb://" + addr, "MONGODB_TIMEOUT=1s", "IDEMPOTENCY_LEASE=2s",
		"PAYMENT_MIN_DELAY_MS=0", "PAYMENT_MAX_DELAY_MS=20",
	})

	type result struct {
		status  int
		code    string
		latency time.Duration
		err     error
	}
	var (
		mu      sync.Mutex
		results []result
		keys    []int
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	next := make(chan int)
	go func() {
		for i := 0; ; i++ {
			select {
			case next <- i:
			case <-stop:
				close(next)
				return
			}
		}
	}()
	body := func(i int) string {
		return fmt.Sprintf(`{"userId":"outage-%d","amount":%d,"currency":"USD"}`, i, 100+i)
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				begin := time.Now()
				r := s.call("POST", "/orders", "outage-"+strconv.Itoa(i), apiKey, body(i))
				res := result{status: r.status, latency: time.Since(begin), err: r.err}
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				_ = json.Unmarshal(r.body, &e)
				res.code = e.Error.Code
				mu.Lock()
				results, keys = append(results, res), append(keys, i)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}

	time.Sleep(time.Second)
	store.kill()
	time.Sleep(3 * time.Second)
	if h := s.call("GET", "/health", "", "", ""); h.status != http.StatusServiceUnavailable {
		t.Errorf("health during outage: %d %s", h.status, h.body)
	}
	startStore(t, addr, dir)
	waitUntil(t, 30*time.Second, "service healthy again without a restart", func() bool {
		return s.call("GET", "/health", "", "", "").status == http.StatusOK
	})
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	var unavailable int
	for _, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("transport error during outage: %v", r.err)
		case r.latency > 10*time.Second:
			t.Errorf("request took %v, past the deadline", r.latency)
		case r.status == http.StatusServiceUnavailable && r.code == "service_unavailable":
			unavailable++
		case r.status == http.StatusCreated || (r.status == http.StatusConflict && r.code == "idempotency_key_in_use"):
		default:
			t.Errorf("unexpected answer %d %q", r.status, r.code)
		}
	}
	if unavailable == 0 {
		t.Fatalf("no request saw the outage (%d requests)", len(results))
	}
	t.Logf("%d requests, %d answered 503 during the outage", len(results), unavailable)

	// Every key touched ends consistent: retried with its key, each gets
	// its one order, charged once.
	time.Sleep(2100 * time.Millisecond) // leases of requests cut off by the outage
	for _, i := range keys {
		r := s.call("POST", "/orders", "outage-"+strconv.Itoa(i), apiKey, body(i))
		if r.status != http.StatusCreated {
			t.Fatalf("key %d after recovery: %v %d %s", i, r.err, r.status, r.body)
		}
	}
	db := connect(t, "mongodb://"+addr)
	for _, i := range keys {
		if n := count(t, db, "orders", bson.M{"userId": fmt.Sprintf("outage-%d", i)}); n != 1 {
			t.Errorf("key %d: %d orders, want 1", i, n)
		}
	}
	if n := count(t, db, "charges", bson.M{}); n != int64(len(keys)) {
		t.Errorf("charges = %d, want %d (one per key)", n, len(keys))
	}
	if n := count(t, db, "idempotencykeys", bson.M{"status": "IN_PROGRESS"}); n != 0 {
		t.Errorf("%d idempotency records still in progress", n)
	}
}
