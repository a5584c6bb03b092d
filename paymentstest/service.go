package paymentstest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
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
	Admin    *client.Admin  // admin client: provider behavior, webhook faults and faults
	MongoURI string         // the store, for inspection with the MongoDB driver or mongosh
	Database string         // the database the service writes (Database)

	cfg     config.Config
	set     settings
	log     *slog.Logger
	logs    *logTail
	store   *embedded.Server
	dir     string // the store's data, removed by Close
	addr    string // the listen address, kept across restarts
	startup time.Duration

	mu      sync.Mutex
	current *instance
	closed  bool
	runs    sync.WaitGroup // every instance's app.Run, and restarts in flight
	crashes atomic.Int64
	errs    []error // of restarts, reported by Close
}

// New starts the service and its store, waits until it answers, and stops
// both when tb's test ends. It fails tb if they cannot start. If the test
// fails, the service's last warnings and errors are added to its log.
func New(tb testing.TB, opts ...Option) *Service {
	tb.Helper()
	s, err := Start(opts...)
	if err != nil {
		tb.Fatalf("paymentstest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("paymentstest: %v", err)
		}
		if tb.Failed() {
			s.logs.dump(tb)
		}
	})
	tb.Logf("paymentstest: service at %s, store at %s (database %s), up in %s",
		s.URL, s.MongoURI, s.Database, s.startup.Round(time.Millisecond))
	return s
}

// Start is New for code that has no testing.TB: a TestMain that shares one
// service among a package's tests, an example, a tool. Close stops it.
func Start(opts ...Option) (*Service, error) {
	s, err := start(opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func start(opts []Option) (_ *Service, err error) {
	began := time.Now()
	set := defaults()
	for _, o := range opts {
		o(&set)
	}
	s := &Service{set: set, logs: newLogTail(200)}
	s.log = set.log
	if s.log == nil {
		s.log = slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if s.dir, err = os.MkdirTemp("", "paymentstest-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if s.store, err = embedded.Start(ctx, embedded.Options{DataDir: s.dir, Addr: "127.0.0.1:0", Logger: s.log}); err != nil {
		return nil, fmt.Errorf("start the store: %w", err)
	}
	s.MongoURI = s.store.URI()

	set.env["MONGODB_URI"] = s.MongoURI
	set.env["PORT"] = "0"
	if s.cfg, err = config.Parse(func(k string) (string, bool) { v, ok := set.env[k]; return v, ok }); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	s.Database = s.cfg.MongoDB

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr
	s.Client = s.NewClient(set.clientOpts...)
	s.Admin = s.Client.Admin()

	inst := s.launch(ln)
	if err := s.ready(ctx, inst); err != nil {
		return nil, fmt.Errorf("the service did not start: %w", err)
	}
	if set.behavior != nil {
		if _, err := s.Admin.SetPaymentBehavior(ctx, *set.behavior); err != nil {
			return nil, fmt.Errorf("WithBehavior: %w", err)
		}
	}
	if err := s.applyStartFaults(ctx); err != nil {
		return nil, fmt.Errorf("WithDropResponseRate: %w", err)
	}
	s.startup = time.Since(began)
	return s, nil
}

// NewClient returns another client of the service, with its keys set;
// opts come after them. Use it for a client configured differently from
// Service.Client: another retry policy, an observer, a key generator.
func (s *Service) NewClient(opts ...client.Option) *client.Client {
	all := append([]client.Option{client.WithAPIKey(APIKey), client.WithAdminKey(AdminKey)}, opts...)
	c, _ := client.New(s.URL, all...) // the URL is ours: it is valid
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
		s.fail(fmt.Errorf("restart after a crash: %w", err))
		return
	}
	inst := s.launch(ln)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if inst == nil {
		return // closed meanwhile
	}
	if err := s.ready(ctx, inst); err != nil {
		s.fail(fmt.Errorf("restart after a crash: %w", err))
		return
	}
	if err := s.applyStartFaults(ctx); err != nil {
		s.log.Warn("paymentstest: faults not set again after the restart", "err", err)
	}
}

// fail records an error for Close to report.
func (s *Service) fail(err error) {
	s.log.Error("paymentstest: " + err.Error())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
}

// Close stops the service, waits for it, closes the store and removes its
// data. It reports what went wrong since the start: a failed restart, a
// service that did not stop. New calls it on t.Cleanup. It is safe to call
// twice.
func (s *Service) Close() error {
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
		s.fail(errors.New("the service did not stop"))
	}
	if s.store != nil {
		_ = s.store.Close()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := errors.Join(s.errs...)
	s.errs = nil
	return err
}
