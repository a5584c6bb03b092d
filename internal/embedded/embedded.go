// Package embedded runs a MongoDB-wire-compatible server (FerretDB v1 with its
// SQLite backend) inside the current process.
//
// It exists so that the service and its tests can run without a real MongoDB:
// one binary, no cgo, data in a plain directory. FerretDB v1 is not MongoDB,
// and code that targets it must stay within what it supports. Measured with
// v1.24.0: unique indexes (E11000) and findOneAndUpdate upserts work; TTL
// indexes, transactions, change streams and $expr do not; and no index other
// than _id is used for queries.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Options configure the embedded server.
type Options struct {
	DataDir string       // SQLite data directory; created if missing
	Addr    string       // TCP listen address such as "127.0.0.1:27017"; "off" means no TCP listener reachable by others (a Unix socket in DataDir)
	Logger  *slog.Logger // where our own lines go; nil means slog.Default()
}

// Server is a running embedded server.
type Server struct {
	uri    string
	addr   string
	cancel context.CancelFunc
	done   chan struct{} // closed when FerretDB's Run has returned
	once   sync.Once
	log    *slog.Logger
}

// socketName ends in "sock" because that is how the Go driver tells a Unix
// socket host from host:port.
const socketName = "mongodb.sock"

// maxSocketPath is below sun_path's 108 bytes on Linux (104 on macOS): a longer
// path cannot be bound, so we fall back to a loopback port instead.
const maxSocketPath = 100

// newMu serialises ferretdb.New: it writes a package-level variable
// (version.Get().Package), which would race if two servers started at once.
var newMu sync.Mutex

// Start starts the server and returns once its listener is bound; connections
// made after that are queued by the kernel and served. ctx bounds startup
// only: the server runs until Close.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}

	if opts.DataDir == "" {
		return nil, errors.New("embedded: DataDir is required")
	}

	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("embedded: data dir: %w", err)
	}

	if err = os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: create data dir: %w", err)
	}

	var lc ferretdb.ListenerConfig

	switch addr := opts.Addr; {
	case addr == "":
		return nil, errors.New(`embedded: Addr is required (use "off" for no TCP listener)`)

	case addr == "off":
		sock := filepath.Join(dir, socketName)
		if len(sock) > maxSocketPath {
			// A random loopback port is the next best thing to "not reachable by others".
			logger.Warn("data dir path too long for a Unix socket; using a random loopback port", "socket", sock)
			lc.TCP = "127.0.0.1:0"

			break
		}

		// A socket file left by a crashed run would make the bind fail; remove it
		// unless someone is still listening on it.
		if c, derr := net.Dial("unix", sock); derr == nil {
			c.Close()
			return nil, fmt.Errorf("embedded: socket %s is in use by another server", sock)
		}

		_ = os.Remove(sock)
		lc.Unix = sock

	default:
		// FerretDB flattens its listen error into a string; bind once ourselves
		// first so that "address already in use" comes back as a clear, wrapped error.
		if _, port, serr := net.SplitHostPort(addr); serr == nil && port != "0" {
			l, lerr := net.Listen("tcp", addr)
			if lerr != nil {
				return nil, fmt.Errorf("embedded: cannot listen on %s (is another server running there?): %w", addr, lerr)
			}

			l.Close()
		}

		lc.TCP = addr
	}

	// FerretDB logs every failed command (duplicate keys included) at WARN;
	// only its errors are worth our log.
	fdbLogger := slog.New(minLevel{h: logger.Handler(), min: slog.LevelError}).With("component", "ferretdb")

	// A file: URL with an absolute path and the trailing slash FerretDB requires.
	sqliteURL := (&url.URL{Scheme: "file", Path: dir + "/"}).String()

	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  lc,
		Logger:    fdbLogger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	newMu.Unlock()

	if err != nil {
		return nil, fmt.Errorf("embedded: start FerretDB: %w", err)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cancel: cancel,
		done:   make(chan struct{}),
		log:    logger,
	}

	go func() {
		defer close(s.done)

		_ = f.Run(runCtx) // always nil; it returns once runCtx is canceled
	}()

	// MongoDBURI blocks until the listener is bound, which New already did.
	if lc.Unix != "" {
		// The driver wants the socket path percent-encoded in the host part.
		s.uri = "mongodb://" + url.QueryEscape(lc.Unix) + "/"
	} else {
		u, perr := url.Parse(f.MongoDBURI())
		if perr != nil {
			s.Close()
			return nil, fmt.Errorf("embedded: parse FerretDB URI: %w", perr)
		}

		s.addr = u.Host

		// A wildcard listen address ("0.0.0.0", reported as "[::]") is not
		// something to dial: point the URI at loopback, which it includes.
		if host, port, serr := net.SplitHostPort(u.Host); serr == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
				u.Host = net.JoinHostPort("127.0.0.1", port)
			}
		}

		s.uri = u.String()
	}

	logger.Debug("embedded FerretDB started", "uri", s.uri, "data_dir", dir)

	return s, nil
}

// URI returns a mongodb:// URI the Go driver can use to reach the server.
func (s *Server) URI() string { return s.uri }

// Addr returns the TCP address actually listened on, or "" for a Unix socket.
func (s *Server) Addr() string { return s.addr }

// Close stops the server and waits for it to exit. FerretDB gives connected
// clients up to 3 seconds to disconnect before closing them. Safe to call twice.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.cancel()
		<-s.done
		s.log.Info("embedded FerretDB stopped", "uri", s.uri)
	})

	return nil
}

// minLevel is a slog.Handler that drops records below min before they reach h.
type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}

func (m minLevel) Handle(ctx context.Context, r slog.Record) error { return m.h.Handle(ctx, r) }

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h: m.h.WithAttrs(as), min: m.min}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h: m.h.WithGroup(name), min: m.min}
}
