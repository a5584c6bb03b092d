// Package app wires the service by hand, top to bottom: the store, the mock
// provider, fault injection, the idempotency layer, the services, the
// worker, the completer, metrics and the HTTP server. cmd/server runs it as
// a process; paymentstest runs it inside a test.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reliabledemo/payments/internal/completer"
	"github.com/reliabledemo/payments/internal/config"
	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/embedded"
	"github.com/reliabledemo/payments/internal/events"
	"github.com/reliabledemo/payments/internal/faults"
	"github.com/reliabledemo/payments/internal/httpapi"
	"github.com/reliabledemo/payments/internal/idempotency"
	"github.com/reliabledemo/payments/internal/intents"
	"github.com/reliabledemo/payments/internal/metrics"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/orders"
	"github.com/reliabledemo/payments/internal/provider"
	"github.com/reliabledemo/payments/internal/webhooks"
	"github.com/reliabledemo/payments/internal/worker"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Options are what a caller other than cmd/server may change.
type Options struct {
	// Listener serves the API; nil listens on cfg.Port on every interface.
	Listener net.Listener
	// Exit ends the process at an armed crash point (FAULTS_ENABLED); nil
	// is os.Exit, which runs no deferred cleanup, as in a real crash. Like
	// os.Exit it must not return: the code after a crash point would run.
	// paymentstest cuts the instance's connections and ends the calling
	// goroutine instead, so that one test binary can crash and restart it.
	Exit func(code int)
}

// Run serves until ctx ends, then drains requests, lets the worker finish
// the jobs in hand and closes the store. internal/e2e runs it as a process
// through cmd/server.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) error {
	// Metrics first: the MongoDB client reports its commands to them.
	mets := metrics.New()

	// Store: the configured MongoDB, or an embedded server.
	uri := cfg.MongoURI
	if cfg.Embedded() {
		emb, err := embedded.Start(ctx, embedded.Options{DataDir: cfg.EmbeddedDataDir, Addr: cfg.EmbeddedMongoAddr, Logger: log})
		if err != nil {
			return fmt.Errorf("start embedded store: %w", err)
		}
		defer emb.Close()
		uri = emb.URI()
		log.Info("store: embedded FerretDB (SQLite)", "data_dir", cfg.EmbeddedDataDir, "mongosh", emb.Addr())
	} else {
		log.Info("store: MongoDB", "hosts", redactURI(uri))
	}
	// Majority-acknowledged, journaled writes and primary reads, whatever
	// the URI says.
	client, err := mongo.Connect(mongostore.ClientOptions(uri).
		SetServerSelectionTimeout(cfg.MongoTimeout).
		SetTimeout(2 * cfg.MongoTimeout).
		SetMonitor(mets.CommandMonitor()))
	if err != nil {
		return fmt.Errorf("connect to MongoDB: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(dctx)
	}()
	store := mongostore.New(client.Database(cfg.MongoDB), log)
	if err := store.Ping(ctx); err != nil {
		return fmt.Errorf("MongoDB at %s does not answer: %w", redactURI(uri), err)
	}
	if err := checkStore(ctx, store, cfg.UnsafeFerretDB, log); err != nil {
		return err
	}
	ttl, err := store.EnsureIndexes(ctx)
	if err != nil {
		return err
	}
	store.ObserveQueued(mets.JobQueued)
	mets.WatchJobs(store.OldestJob, nil, time.Second)

	// Services.
	prov := provider.New(store, store, provider.Behavior{
		FailureRate: cfg.PaymentFailureRate, MinDelayMs: cfg.PaymentMinDelayMs, MaxDelayMs: cfg.PaymentMaxDelayMs,
		AsyncDelayMs: int(cfg.AsyncDelay.Milliseconds()), AsyncJitterMs: int(cfg.AsyncJitter.Milliseconds()),
		IntentFailureRate: cfg.IntentFailureRate,
	}, provider.Options{Logger: log, Observe: mets.Charge})
	if err := prov.Refresh(ctx); err != nil {
		return fmt.Errorf("load payment behavior: %w", err)
	}
	go prov.Run(ctx, cfg.BehaviorRefresh)

	// Fault drills: only with FAULTS_ENABLED does any fault code run; else
	// every hook is nil.
	hook := func(faults.Point) func() { return nil }
	var faultsAPI httpapi.Faults
	if cfg.FaultsEnabled {
		exit := opts.Exit
		if exit == nil {
			exit = os.Exit
		}
		inj := faults.New(exit, log, nil)
		hook, faultsAPI = inj.Hook, inj
		log.Warn("FAULTS_ENABLED: /admin/faults can crash this process on purpose")
	}

	// Admin requests pass the idempotency layer's crash points unharmed, or
	// arming before_complete would crash the request that arms it.
	apiHook := func(p faults.Point) func(idempotency.Scope) {
		h := hook(p)
		if h == nil {
			return nil
		}
		return func(s idempotency.Scope) {
			if !strings.HasPrefix(s.Path, "/admin/") {
				h()
			}
		}
	}
	idem := idempotency.New(store.Idempotency(), idempotency.Config{
		TTL: cfg.IdempotencyTTL, Lease: cfg.IdempotencyLease, Logger: log,
		AfterClaim: apiHook(faults.AfterClaim), BeforeComplete: apiHook(faults.BeforeComplete),
		Observe: mets.Idempotency,
		// A request may take as long as its response may.
		OperationTimeout: cfg.HTTPWriteTimeout,
	})
	if !ttl {
		go idem.Sweep(ctx, cfg.SweepInterval)
	}
	// Webhooks: endpoints and delivery faults cached in memory (refreshed
	// every WEBHOOK_REFRESH), deliveries queued in MongoDB and sent by the
	// delivery workers of every instance (started with the intent worker).
	hooks := webhooks.New(store, store, webhooks.Config{
		MaxAttempts: cfg.WebhookMaxAttempts, RetryWindow: cfg.WebhookRetryWindow, Timeout: cfg.WebhookTimeout,
		AllowAllHosts: cfg.WebhookAllowAllHosts, Concurrency: cfg.WebhookConcurrency, Poll: cfg.WebhookPoll,
		Refresh: cfg.WebhookRefresh, Logger: log, Observe: mets.WebhookAttempt,
	})
	if err := hooks.Refresh(ctx); err != nil {
		return fmt.Errorf("load webhook endpoints: %w", err)
	}
	go hooks.Run(ctx)
	if cfg.WebhookAllowAllHosts {
		log.Warn("WEBHOOK_ALLOW_ALL_HOSTS: webhook endpoints may point at link-local and cloud metadata addresses")
	}

	// Events: every change records one, and hands it to the webhook fan-out.
	eventLog := events.New(store, hooks, func(e domain.Event) { mets.Event(string(e.Type)) })
	orderSvc := orders.New(store, prov, eventLog, nil, orders.Hooks{
		AfterOrderInsert: hook(faults.AfterOrderInsert), AfterCharge: hook(faults.AfterCharge),
	})
	intentSvc := intents.New(store, prov, eventLog, nil, intents.Hooks{
		AfterCharge: hook(faults.AfterCharge), AfterTransition: hook(faults.AfterTransition),
	})

	// Worker: processes confirmed intents until shutdown, then finishes the
	// jobs in hand.
	wrk := worker.New(store, intentSvc, worker.Config{
		Concurrency: cfg.WorkerConcurrency, Lease: cfg.WorkerLease, Poll: cfg.WorkerPoll,
		Grace: cfg.WorkerLease, Logger: log, AfterClaim: hook(faults.AfterJobClaim), Observe: mets.Job,
	})
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	workDone := make(chan struct{})
	go func() { wrk.Run(workCtx); close(workDone) }()
	hooksDone := make(chan struct{})
	go func() { hooks.Work(workCtx); close(hooksDone) }()

	// HTTP.
	if cfg.AdminAPIKey == "" {
		log.Warn("ADMIN_API_KEY is unset: the /admin routes answer 403 admin_disabled")
	}
	handler := httpapi.New(httpapi.Config{
		APIKey: cfg.APIKey, AdminAPIKey: cfg.AdminAPIKey,
		Orders: orderSvc, Intents: intentSvc, Events: eventLog, Webhooks: hooks, WebhookAllowAllHosts: cfg.WebhookAllowAllHosts, Idempotency: idem, Behavior: prov, Store: store,
		RateLimitRPS: cfg.RateLimitRPS, RateLimitBurst: cfg.RateLimitBurst, CORSOrigins: cfg.CORSOrigins,
		Faults: faultsAPI, Logger: log, Observe: mets.Request,
	})
	// Completer: finishes requests whose clients gave up, by sending their
	// stored copies through the same handler, as a retry would.
	comp := completer.New(store.Idempotency(), func(ctx context.Context, rec idempotency.Record) (int, error) {
		return httpapi.Recover(ctx, handler, rec)
	}, completer.Config{After: cfg.RecoveryAfter, Every: cfg.CompleterInterval, Timeout: cfg.HTTPWriteTimeout, Logger: log,
		Recovered: mets.Recovered})
	compDone := make(chan struct{})
	go func() { comp.Run(workCtx); close(compDone) }()

	// Metrics and pprof, on their own listener. A port already taken (by
	// another instance on this host, say) costs the metrics, not the
	// service: payments go on, with a warning.
	metricsSrv := serveMetrics(cfg.MetricsAddr, mets, log)
	defer metricsSrv.Close()

	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port))); err != nil {
			return fmt.Errorf("listen on port %d: %w", cfg.Port, err)
		}
	}
	srv := httpapi.NewServer(handler, httpapi.Timeouts{Read: cfg.HTTPReadTimeout, Write: cfg.HTTPWriteTimeout, Idle: cfg.HTTPIdleTimeout})
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	stopWork()
	for _, done := range []chan struct{}{workDone, hooksDone, compDone} {
		select {
		case <-done:
		case <-sctx.Done():
			log.Warn("background work did not finish in time; its leases will expire and other instances will take over")
		}
	}
	// Last, so the drain can be watched; a profile still streaming is cut.
	_ = metricsSrv.Shutdown(sctx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// serveMetrics starts the metrics listener on addr, unless addr is "off".
// It returns nil, which shuts down as a no-op, when there is none.
func serveMetrics(addr string, mets *metrics.Metrics, log *slog.Logger) *metrics.Server {
	if addr == "off" {
		return nil
	}
	s, err := metrics.Serve(addr, mets.Handler(log), log)
	if err != nil {
		log.Warn("metrics listener not started; serving without /metrics and pprof", "addr", addr, "err", err)
		return nil
	}
	log.Info("metrics listening", "addr", s.Addr(), "paths", "/metrics /debug/pprof/")
	return s
}

// checkStore logs what the store is (standalone, replica set or sharded;
// MongoDB or FerretDB) and refuses a FerretDB whose conditional updates are
// not atomic, unless allowUnsafe (MONGODB_UNSAFE_FERRETDB) says otherwise.
func checkStore(ctx context.Context, store *mongostore.Store, allowUnsafe bool, log *slog.Logger) error {
	topo, err := store.Topology(ctx)
	if err != nil {
		return fmt.Errorf("inspect the store: %w", err)
	}
	log.Info("store topology", "topology", topo)
	if err := topo.CheckAtomicUpdates(); err != nil {
		if !allowUnsafe {
			return fmt.Errorf("refusing to start: %w (MONGODB_UNSAFE_FERRETDB=true starts anyway, for experiments only)", err)
		}
		log.Warn("MONGODB_UNSAFE_FERRETDB=true: starting on a store whose conditional updates are not atomic; "+
			"concurrent requests can charge or refund twice", "err", err)
	}
	return nil
}

// redactURI keeps only the hosts of a MongoDB URI: credentials never reach
// the logs.
func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparseable URI)"
	}
	return u.Host
}
