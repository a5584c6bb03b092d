package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves /metrics and net/http/pprof under /debug/pprof/. It must
// never share the public API's port: profiles and the command line are for
// operators only.
func (m *Metrics) Handler(logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry: m.reg,
		// A collector that fails (the job-age query when the store is
		// down) is logged and left out; the other series still answer.
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}))
	// Registered on this mux by hand: importing net/http/pprof also adds
	// them to http.DefaultServeMux, which nothing here serves.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Server is the metrics listener. A nil *Server (none started) may be shut
// down too.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Serve serves h on addr in the background. Binding happens before it
// returns, so the caller learns of a port in use and decides what that
// means.
//
// The server has no write timeout: a CPU profile or a trace streams for as
// long as it was asked to run (?seconds=20), and pprof refuses a duration
// beyond the server's write timeout.
func Serve(addr string, h http.Handler, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.Default()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("metrics server stopped", "err", err)
		}
	}()
	return s, nil
}

// Addr is the address the server listens on (with the port chosen, for
// port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops the server, letting scrapes in flight finish until ctx
// ends; a profile still streaming is cut then.
func (s *Server) Shutdown(ctx context.Context) error {
	if s == nil {
		return nil
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// Close stops the server at once; it is a no-op after Shutdown.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	return s.srv.Close()
}
