//go:build !race

// The race detector's instrumentation moves values to the heap, so these
// counts hold only without it; `make test` runs with -race, so run
// `go test ./internal/httpapi/` too after changing the middleware.

package httpapi

import (
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is a ResponseWriter that allocates nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// TestRequestLogAllocations bounds the allocations of the request log line,
// which runs on every request: the JSON handler's own, and not one per
// attribute.
func TestRequestLogAllocations(t *testing.T) {
	allocs := func(h slog.Handler) float64 {
		r := logEngine(h, false)
		req := httptest.NewRequest("POST", "/orders", nil)
		req.Header.Set("X-Request-Id", "req-abc")
		w := &discardWriter{h: http.Header{}}
		// The least of three runs: goroutines left by other tests allocate too.
		least := math.Inf(1)
		for range 3 {
			least = min(least, testing.AllocsPerRun(200, func() {
				clear(w.h)
				r.ServeHTTP(w, req)
			}))
		}
		return least
	}
	without := allocs(nil)
	on := allocs(slog.NewJSONHandler(io.Discard, nil))
	// Disabled at this level, the line is not even built.
	off := allocs(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	// One: the slog.Record's room for attributes past its first five.
	const max = 1
	if on-without > max {
		t.Errorf("the request log line makes %.0f allocations, want at most %d", on-without, max)
	}
	if off != without {
		t.Errorf("a disabled request log line makes %.0f allocations, want 0", off-without)
	}
	t.Logf("allocations per request: %.0f without logRequests, %.0f with it", without, on)
}
