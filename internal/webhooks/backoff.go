package webhooks

import "time"

// MaxAttemptsLimit bounds WEBHOOK_MAX_ATTEMPTS, so that 2^(attempts-1)
// units stay far from overflowing.
const MaxAttemptsLimit = 20

// Backoff is how long to wait after the k-th failed attempt (k from 1) of
// at most maxAttempts, given r in [0, 1).
//
// The waits double, 1, 2, 4, … units, and the unit is chosen so that the
// maxAttempts-1 waits add up to window: the last attempt comes at most
// window after the first. Each wait is then "equal jitter": half of it
// fixed and half random, so deliveries that failed together (an endpoint
// down for a while) do not all come back at once, yet every wait stays at
// least half its nominal length. With the defaults (8 attempts over 1 h) the
// nominal waits are 28 s, 57 s, 1.9 min, 3.8 min, 7.6 min, 15 min, 30 min.
func Backoff(k, maxAttempts int, window time.Duration, r float64) time.Duration {
	if maxAttempts < 2 || k < 1 {
		return 0
	}
	maxAttempts = min(maxAttempts, MaxAttemptsLimit)
	k = min(k, maxAttempts-1)
	units := int64(1)<<(maxAttempts-1) - 1
	nominal := time.Duration(float64(window) * float64(int64(1)<<(k-1)) / float64(units))
	return nominal/2 + time.Duration(r*float64(nominal/2))
}
