package paymentstest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reliabledemo/payments/client"
	"github.com/reliabledemo/payments/internal/config"
	"github.com/reliabledemo/payments/internal/embedded"
)

// Keys and database of every Service.
const (
	APIKey   = "test_key"  // API_KEY: Service.Client sends it
	AdminKey = "admin_key" // ADMIN_API_KEY: Service.Admin sends it
	Database = "payments"  // MONGODB_DB
)

// startTimeout bounds New: the store, the service, and its first health check.
const startTimeout = 30 * time.Second

// Service is the payments service running inside the test, on a loopback
// port, with its own embedded MongoDB-compatible store. Its fields are set
// by New and must not be changed.
type Service struct {
	URL      string         // base URL, http://127.0.0.1:<port>
	Client   *client.Client // API client: retries with one Idempotency-Key per call
	Admin    *client.Admin  // admin client: provider behavior and faults
	MongoURI string         // the store, for inspection with the MongoDB driver or mongosh
	Database string         // the database the service writes (Database)

	tb    testing.TB
	cfg   config.Config
	set   settings
	log   *slog.Logger
	store *embedded.Server
	addr  string // the listen address, kept across restarts

	mu      sync.Mutex
	current *instance
	closed  bool
	runs    sync.WaitGroup // every instance's app.Run, and restarts in flight
	crashes atomic.Int64
}

// New starts the service and its store, waits until it answers, and stops
// both when tb's test ends. It fails tb if they cannot start.
func New(tb testing.TB, opts ...Option) *Service {
	tb.Helper()
	began := time.Now()
	set := defaults()
	for _, o := range opts {
		o(&set)
	}
	logs := newLogTail(tb, 200)
	log := set.log
	if log == nil {
		log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	store, err := embedded.Start(ctx, embedded.Options{DataDir: tb.TempDir(), Addr: "127.0.0.1:0", Logger: log})
	if err != nil {
		tb.Fatalf("paymentstest: start the store: %v", err)
	}
	s := &Service{tb: tb, set: set, log: log, store: store, MongoURI: store.URI()}
	tb.Cleanup(s.stop)

	set.env["MONGODB_URI"] = store.URI()
	set.env["PORT"] = "0"
	if s.cfg, err = config.Parse(func(k string) (string, bool) { v, ok := set.env[k]; return v, ok }); err != nil {
		tb.Fatalf("paymentstest: configuration: %v", err)
	}
	s.Database = s.cfg.MongoDB

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("paymentstest: listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr
	s.Client = s.NewClient(set.clientOpts...)
	s.Admin = s.Client.Admin()

	inst := s.launch(ln)
	if err := s.ready(ctx, inst); err != nil {
		tb.Fatalf("paymentstest: the service did not start: %v", err)
	}
	if set.behavior != nil {
		if _, err := s.Admin.SetPaymentBehavior(ctx, *set.behavior); err != nil {
			tb.Fatalf("paymentstest: WithBehavior: %v", err)
		}
	}
	if err := s.applyStartFaults(ctx); err != nil {
		tb.Fatalf("paymentstest: WithDropResponseRate: %v", err)
	}
	tb.Logf("paymentstest: service at %s, store at %s (database %s), up in %s",
		s.URL, s.MongoURI, s.Database, time.Since(began).Round(time.Millisecond))
	return s
}

// NewClient returns another client of the service, with its keys set;
// opts come after them. Use it for a client configured differently from
// Service.Client: another retry policy, an observer, a key generator.
func (s *Service) NewClient(opts ...client.Option) *client.Client {
	all := append([]client.Option{client.WithAPIKey(APIKey), client.WithAdminKey(AdminKey)}, opts...)
	c, err := client.New(s.URL, all...)
	if err != nil { // the URL is ours: this cannot happen
		s.tb.Fatalf("paymentstest: %v", err)
	}
	return c
}

// Crashes reports how many times the service has crashed: at an armed
// crash point, or through Crash.
func (s *Service) Crashes() int { return int(s.crashes.Load()) }

// Crash crashes the service now, as a kill -9 would at a random moment,
// and starts it again after the restart delay. See the package doc for what
// an in-process crash models.
func (s *Service) Crash() {
	s.mu.Lock()
	inst := s.current
	s.mu.Unlock()
	if inst != nil {
		inst.crash()
	}
}

// ready waits until the instance answers GET /health with 200, or fails if
// its app.Run ends first.
func (s *Service) ready(ctx context.Context, inst *instance) error {
	for {
		hctx, cancel := context.WithTimeout(ctx, time.Second)
		h, err := s.Client.Health(hctx)
		cancel()
		if err == nil && h.Status == "ok" {
			return nil
		}
		select {
		case err := <-inst.exited:
			return fmt.Errorf("app.Run returned: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("no healthy answer within %s (last: %v)", startTimeout, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// applyStartFaults sets the faults that hold for every start.
func (s *Service) applyStartFaults(ctx context.Context) error {
	if s.set.dropRate == nil {
		return nil
	}
	_, err := s.Admin.SetFaults(ctx, client.FaultSettings{DropResponseRate: s.set.dropRate})
	return err
}

// restart starts a new instance on the same address after a crash.
func (s *Service) restart() {
	defer s.runs.Done()
	time.Sleep(s.set.restartDelay)
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		// The port was taken while the service was down: nothing listens
		// there now, and every later call fails.
		s.tb.Errorf("paymentstest: restart after a crash: %v", err)
		return
	}
	inst := s.launch(ln)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.ready(ctx, inst); err != nil {
		s.tb.Errorf("paymentstest: restart after a crash: %v", err)
		return
	}
	if err := s.applyStartFaults(ctx); err != nil {
		s.log.Warn("paymentstest: faults not set again after the restart", "err", err)
	}
}

// stop ends the service, waits for it, and closes the store.
func (s *Service) stop() {
	s.mu.Lock()
	s.closed = true
	inst := s.current
	s.mu.Unlock()
	if inst != nil {
		inst.cancel()
	}
	done := make(chan struct{})
	go func() { s.runs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.ShutdownTimeout + 10*time.Second):
		s.tb.Errorf("paymentstest: the service did not stop")
	}
	_ = s.store.Close()
}
