// Command drill runs a failure drill against the payments service: N
// logical payments, each retried with its one Idempotency-Key until it gets a
// final answer, then invariant checks read straight from MongoDB.
//
// Exit status: 0 no violation, 1 violations, 2 bad flags or the service or
// MongoDB unreachable, 130 interrupted (without violations among the
// payments that finished).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/reliabledemo/payments/internal/drill"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, reportPath, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "drill:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first Ctrl-C stops the drill and still checks; a second one
		// kills it the usual way.
		<-ctx.Done()
		stop()
	}()

	rep, err := drill.Run(ctx, cfg, stdout, stderr)
	code := 0
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "drill:", err)
		code = 2
	case len(rep.Violations) > 0:
		code = 1
	case rep.Interrupted:
		code = 130
	}
	// A run that failed after sending payments still gets its report: that
	// is when one is most needed. The exit status stays the run's.
	if reportPath != "" && (err == nil || len(rep.Results) > 0) {
		if err := writeReport(reportPath, rep, cfg, code); err != nil {
			fmt.Fprintln(stderr, "drill: -report:", err)
		} else {
			fmt.Fprintln(stderr, "drill: report written to", reportPath)
		}
	}
	return code
}

// writeReport writes the HTML report of rep to path.
func writeReport(path string, rep drill.Report, cfg drill.Config, code int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := drill.WriteReport(f, rep, cfg, code); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// parseFlags reads the flags into a validated Config, and the path of the
// HTML report ("": none).
func parseFlags(args []string, stderr io.Writer) (drill.Config, string, error) {
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	apiKey := os.Getenv("API_KEY")
	if apiKey == "" {
		apiKey = "test_key"
	}
	urls := fs.String("urls", drill.DefaultURL, "comma-separated base URLs of the service; attempts go round them")
	n := fs.Int("n", 200, "logical payments")
	runFor := fs.Duration("for", 0, "stop starting payments after this long, and finish those in flight (0: send all -n)")
	c := fs.Int("c", 16, "payments in flight at once")
	mix := fs.Float64("mix", 0.5, "fraction of payments that are payment intents rather than orders, 0..1")
	mongoURI := fs.String("mongodb-uri", drill.DefaultMongoURI, "MongoDB to check the invariants in; empty: skip those checks")
	db := fs.String("db", drill.DefaultDB, "database name")
	key := fs.String("api-key", apiKey, "API key (default: $API_KEY, else test_key)")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout of one HTTP attempt")
	deadline := fs.Duration("deadline", 2*time.Minute, "overall deadline of one payment, retries included")
	refunds := fs.Bool("refunds", true, "refund succeeded intents with 1-3 concurrent partial refunds")
	seed := fs.Uint64("seed", 0, "seed of the run's random choices; 0: a random one (printed in the summary)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	abandon := fs.Float64("abandon", 0, "share of clients, 0..1, that send each write once and give up without a final answer")
	report := fs.String("report", "", "write an HTML report of the run (charts, summary, checks) to this file")
	recoveryWait := fs.Duration("recovery-wait", 2*time.Minute, "with -abandon: how long to wait for the service's completer to finish what they left, before checking")
	webhooks := fs.Bool("webhooks", false, "run a webhook consumer on a loopback port, registered for every event, and check what it received")
	adminKey := fs.String("admin-key", os.Getenv("ADMIN_API_KEY"), "admin key, to set the webhook faults (default: $ADMIN_API_KEY)")
	whDup := fs.Float64("webhook-duplicate", 0, "with -webhooks: share of delivery attempts sent twice, 0..1")
	whFail := fs.Float64("webhook-fail", 0, "with -webhooks: share of delivery attempts that act as timeouts, 0..1")
	whForged := fs.Float64("webhook-forged", 0, "with -webhooks: share of delivery attempts that also send a copy with an invalid signature, 0..1")
	whReorder := fs.Duration("webhook-reorder", 0, "with -webhooks: hold each new delivery up to this long, so deliveries arrive shuffled")
	whDelay := fs.Duration("webhook-delay", 0, "with -webhooks: delay of every delivery attempt")
	whJitter := fs.Duration("webhook-jitter", 0, "with -webhooks: extra random delay of every delivery attempt, up to this")
	whWait := fs.Duration("webhook-wait", 2*time.Minute, "with -webhooks: how long deliveries may take to arrive after the payments, before checking")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: drill [flags]\n\nSends payments with retries, then checks invariants in MongoDB.\nExit status: 0 ok, 1 violations, 2 usage or unreachable, 130 interrupted.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return drill.Config{}, "", err
	}
	if fs.NArg() > 0 {
		return drill.Config{}, "", fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg := drill.Config{
		URLs: drill.ParseURLs(*urls), N: *n, For: *runFor, Concurrency: *c, Mix: *mix,
		MongoURI: *mongoURI, DB: *db, APIKey: *key, Timeout: *timeout, Deadline: *deadline,
		Refunds: *refunds, Seed: *seed, Progress: !*quiet && isTerminal(os.Stderr),
		Abandon: *abandon, RecoveryWait: *recoveryWait,
		Webhooks: *webhooks, WebhookWait: *whWait, AdminKey: *adminKey,
	}
	faults := drill.WebhookFaults{DuplicateRate: *whDup, FailRate: *whFail, ForgedRate: *whForged,
		ReorderWindowMs: int(whReorder.Milliseconds()), DelayMs: int(whDelay.Milliseconds()), JitterMs: int(whJitter.Milliseconds())}
	if *webhooks && faults != (drill.WebhookFaults{}) {
		cfg.WebhookFaults = &faults
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	return cfg, *report, cfg.Validate()
}

// isTerminal reports whether f is a character device: a bar of carriage
// returns is noise in a log file.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
