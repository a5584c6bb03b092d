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

func newLogTail(max int) *logTail { return &logTail{max: max} }

// dump logs the lines kept to tb.
func (l *logTail) dump(tb testing.TB) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return
	}
	tb.Logf("paymentstest: service log, last %d of %d warnings and errors:\n%s", len(l.lines), l.n, strings.Join(l.lines, "\n"))
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
