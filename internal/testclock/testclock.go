// Package testclock is a settable time source for tests, so that leases,
// grace periods and expiry are tested by moving time, not by sleeping.
package testclock

import (
	"sync"
	"time"
)

// Clock is a time source that moves only when told. It is safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock set to the current time, truncated to the
// millisecond as MongoDB stores it.
func New() *Clock {
	return &Clock{t: time.Now().UTC().Truncate(time.Millisecond)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
