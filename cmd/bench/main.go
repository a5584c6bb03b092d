// Command bench measures the payments service under load: first requests
// (unique keys), replays, racing requests, listing, and the raw ceiling of
// its store for the same command pattern, with the server's CPU time per
// request and peak RSS when it knows the server's PID.
//
//	bench -start-server -prefill 5000 -mode list,raw,unique,replay
//	bench -url http://127.0.0.1:3000 -pid $(pgrep -n server) -mode unique -n 5000
//	bench -table results.jsonl     # a markdown table of earlier -json output
//
// Exit status: 0 ok, 1 a mode met errors, unexpected answers or race
// violations, 2 bad flags or the run could not be made, 130 interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/reliabledemo/payments/internal/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if opts.table != "" {
		return table(opts.table, stdout, stderr)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results, err := bench.Run(ctx, cfg, bench.Output{W: stdout, Log: stderr, JSON: opts.json})
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "bench: interrupted")
		return 130
	case err != nil:
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	for _, r := range results {
		if r.Failed() {
			fmt.Fprintf(stderr, "bench: %s: %d errors, %d unexpected answers, %d race violations\n", r.Mode, r.Errors, r.Unexpected, r.Violations)
			return 1
		}
	}
	return 0
}

// options are the flags that choose what the command does, not how the
// bench runs.
type options struct {
	json  bool
	table string
}

// parseFlags reads the flags into a validated Config.
func parseFlags(args []string, stderr io.Writer) (bench.Config, options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	apiKey := envOr("API_KEY", "test_key")
	adminKey := envOr("ADMIN_API_KEY", "admin_key")
	var o options
	mode := fs.String("mode", "unique", "comma-separated modes: unique, replay, race, list, raw, or all")
	c := fs.Int("c", bench.DefaultConcurrency, "requests in flight at once")
	n := fs.Int("n", bench.DefaultN, "requests per mode (list: split over its five queries)")
	url := fs.String("url", bench.DefaultURL, "base URL of the service (ignored with -start-server)")
	key := fs.String("api-key", apiKey, "API key (default: $API_KEY, else test_key)")
	admin := fs.String("admin-key", adminKey, "admin API key, to zero the provider's delay (default: $ADMIN_API_KEY, else admin_key)")
	prefill := fs.Int("prefill", 0, "orders to store before measuring: straight into the store with -mongo-uri or -start-server, else through the API")
	pid := fs.Int("pid", 0, "the server's PID, to report its CPU time per request and peak RSS")
	start := fs.Bool("start-server", false, "run -server-bin on free ports with a fresh data dir, no provider delay and no rate limit; measures it too")
	bin := fs.String("server-bin", "bin/server", "the server binary for -start-server (built from ./cmd/server if missing)")
	mongoURI := fs.String("mongo-uri", "", "MongoDB for raw mode and a fast prefill; with -start-server, the server's store (else its embedded one)")
	db := fs.String("db", bench.DefaultDB, "database name (-start-server with -mongo-uri uses a fresh one and drops it)")
	keep := fs.Bool("keep-behavior", false, "leave the provider's delay and failure rate as they are")
	group := fs.Int("group", bench.DefaultGroup, "race mode: concurrent requests per key")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of one request")
	unsafeFerretDB := fs.Bool("unsafe-ferretdb", os.Getenv("MONGODB_UNSAFE_FERRETDB") == "true",
		"with -start-server -mongo-uri: start the server with MONGODB_UNSAFE_FERRETDB=true, so it accepts a FerretDB reached directly (default: true if $MONGODB_UNSAFE_FERRETDB is true)")
	label := fs.String("label", "", "the store's name in the results (default: embedded, mongodb or external)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per result line, for scripts")
	fs.StringVar(&o.table, "table", "", "print a markdown table of the -json results in this file ('-' for stdin), and nothing else")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench [flags]\n\nMeasures the payments service under load.\nExit status: 0 ok, 1 errors or unexpected answers, 2 usage or set-up, 130 interrupted.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return bench.Config{}, o, err
	}
	if fs.NArg() > 0 {
		return bench.Config{}, o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.table != "" {
		return bench.Config{}, o, nil
	}
	modes, err := bench.ParseModes(*mode)
	if err != nil {
		return bench.Config{}, o, err
	}
	cfg := bench.Config{
		Modes: modes, Concurrency: *c, N: *n, URL: *url, APIKey: *key, AdminKey: *admin,
		Prefill: *prefill, PID: *pid, StartServer: *start, ServerBin: *bin, MongoURI: *mongoURI, DB: *db,
		KeepBehavior: *keep, Group: *group, Timeout: *timeout, Label: *label, UnsafeFerretDB: *unsafeFerretDB,
	}
	return cfg, o, cfg.Validate()
}

// table prints the markdown table of the results in path.
func table(path string, stdout, stderr io.Writer) int {
	var rd io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 2
		}
		defer f.Close()
		rd = f
	}
	rs, err := bench.ReadResults(rd)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %s: %v\n", path, err)
		return 2
	}
	bench.WriteTable(stdout, rs)
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
