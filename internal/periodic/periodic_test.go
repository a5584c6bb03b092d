package periodic_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reliabledemo/payments/internal/periodic"
)

// lockedBuffer is a log destination safe for the loop's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		wantLogs int // warnings for the rounds before the one that ends ctx
	}{
		{"rounds that succeed log nothing", nil, 0},
		{"a failed round is logged and the next one comes", errors.New("store down"), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs lockedBuffer
			ctx, cancel := context.WithCancel(context.Background())
			rounds := 0
			done := make(chan struct{})
			go func() {
				defer close(done)
				periodic.Run(ctx, time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)), "refresh failed", func(ctx context.Context) error {
					rounds++
					if rounds == 3 {
						cancel() // a round that fails because of the shutdown is not a failure
						return errors.Join(tt.err, ctx.Err())
					}
					return tt.err
				})
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after its context ended")
			}
			if rounds != 3 {
				t.Fatalf("%d rounds, want 3", rounds)
			}
			if n := strings.Count(logs.String(), "refresh failed"); n != tt.wantLogs {
				t.Fatalf("%d warnings, want %d:\n%s", n, tt.wantLogs, logs.String())
			}
		})
	}
}
