// Package periodic runs the service's background loops: look again every
// interval until the process stops, and log a failed round without stopping.
package periodic

import (
	"context"
	"log/slog"
	"time"
)

// Run calls f every interval until ctx ends; the first call comes one
// interval after Run starts. An error from f is logged as a warning with
// msg, unless ctx has ended (a shutdown, not a failure); the next round
// comes anyway.
func Run(ctx context.Context, every time.Duration, log *slog.Logger, msg string, f func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := f(ctx); err != nil && ctx.Err() == nil {
				log.Warn(msg, "err", err)
			}
		}
	}
}
