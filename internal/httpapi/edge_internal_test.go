package httpapi

import (
	"fmt"
	"testing"
	"time"
)

// TestRateLimiterEvictsIdleBuckets checks memory stays bounded by recent
// clients: buckets idle past idleTTL are dropped.
func TestRateLimiterEvictsIdleBuckets(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newRateLimiter(10, 10, func() time.Time { return now })
	for i := range 1000 {
		if ok, _ := l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256)); !ok {
			t.Fatalf("first request of client %d refused", i)
		}
	}
	if n := l.size(); n != 1000 {
		t.Fatalf("%d buckets, want 1000", n)
	}
	now = now.Add(idleTTL / 2)
	l.allow("10.9.9.9")
	if n := l.size(); n != 1001 {
		t.Fatalf("%d buckets before the idle time, want 1001", n)
	}
	now = now.Add(idleTTL/2 + time.Second)
	l.allow("10.9.9.8")
	if n := l.size(); n != 2 {
		t.Fatalf("%d buckets after the idle time, want 2 (the recent ones)", n)
	}
}
