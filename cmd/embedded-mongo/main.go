// Command embedded-mongo runs only the embedded MongoDB-compatible server
// (FerretDB with SQLite, see internal/embedded), so that several service
// instances, or tests in containers, can share one store without a real MongoDB.
//
// Usage:
//
//	embedded-mongo [-addr 127.0.0.1:27017] [-data ./data]
//
// It stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/reliabledemo/payments/internal/embedded"
)

func main() {
	// JSON, because this mostly runs in containers where logs are collected.
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], logger); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: usage already printed
		}

		logger.Error("embedded-mongo failed", "error", err)
		os.Exit(1)
	}
}

// run starts the server and serves until ctx is canceled.
func run(ctx context.Context, args []string, logger *slog.Logger) error {
	fs := flag.NewFlagSet("embedded-mongo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:27017", `TCP listen address; "off" for a Unix socket in the data directory only`)
	data := fs.String("data", "./data", "SQLite data directory (created if missing)")

	if err := fs.Parse(args); err != nil {
		return err
	}

	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	srv, err := embedded.Start(ctx, embedded.Options{DataDir: *data, Addr: *addr, Logger: logger})
	if err != nil {
		return err
	}

	listening := srv.Addr()
	if listening == "" {
		listening = srv.URI() // Unix socket
	}

	logger.Info("embedded MongoDB-compatible server listening", "addr", listening, "data", *data)

	<-ctx.Done()
	logger.Info("shutting down", "cause", context.Cause(ctx))

	return srv.Close()
}
