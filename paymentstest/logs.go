package paymentstest

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// logTail keeps the last lines the service logged, and prints them if the
// test fails: a quiet log for passing tests, the context for failing ones.
type logTail struct {
	mu    sync.Mutex
	lines []string
	max   int
	n     int // lines seen in all
}

func newLogTail(tb testing.TB, max int) *logTail {
	l := &logTail{max: max}
	tb.Cleanup(func() {
		if !tb.Failed() {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.n > len(l.lines) {
			tb.Logf("paymentstest: service log, last %d of %d lines:", len(l.lines), l.n)
		}
		tb.Log("paymentstest: service log (warnings and errors):\n" + strings.Join(l.lines, "\n"))
	})
	return l
}

// Write takes whole lines, as slog's handlers write them.
func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		l.n++
		l.lines = append(l.lines, string(line))
		if len(l.lines) > l.max {
			l.lines = l.lines[1:]
		}
	}
	return len(p), nil
}
