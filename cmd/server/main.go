// Command server runs the payments service: orders and idempotency on
// MongoDB, or on an embedded MongoDB-compatible server when no URI is set.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/reliabledemo/payments/internal/app"
	"github.com/reliabledemo/payments/internal/config"
)

func main() {
	level := new(slog.LevelVar)
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
	cfg, err := config.Load(".env")
	if err != nil {
		log.Error("invalid configuration", "err", err)
		os.Exit(2)
	}
	level.Set(cfg.LogLevel)
	// The service's own GC defaults (config.GC), or GOGC and GOMEMLIMIT.
	debug.SetGCPercent(cfg.GC.Percent)
	debug.SetMemoryLimit(cfg.GC.MemoryLimit)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, log, app.Options{}); err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}
