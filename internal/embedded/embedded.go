// Package embedded runs a MongoDB-wire-compatible server (FerretDB v1 with its
// SQLite backend) inside the current process.
//
// It exists so that the service and its tests can run without a real MongoDB:
// one binary, no cgo, data in a plain directory. FerretDB v1 is not MongoDB,
// and code that targets it must stay within what it supports. Measured with
// v1.24.0: unique indexes (E11000) and findOneAndUpdate upserts work; TTL
// indexes, transactions, change streams and $expr do not; and no index other
// than _id is used for queries. And it runs each update, delete and
// findAndModify as a read followed by a separate write, so two conditional
// updates of one document could both match it; the server therefore lets
// clients in only through a proxy that admits one write command at a time
// (see writelock.go), which makes each of them atomic as on MongoDB.
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

	lock    *writeLock // the only way in: it serialises write commands
	cleanup func()     // removes the backend socket
}

// socketName ends in "sock" because that is how the Go driver tells a Unix
// socket host from host:port.
const socketName = "mongodb.sock"

// backendSocketName is where FerretDB listens, behind the write lock.
const backendSocketName = "ferretdb-backend.sock"

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

	front, err := listen(opts.Addr, dir, logger)
	if err != nil {
		return nil, err
	}

	backendSock, cleanup, err := backendSocket(dir)
	if err != nil {
		front.Close()
		return nil, err
	}

	// FerretDB logs every failed command (duplicate keys included) at WARN;
	// only its errors are worth our log.
	fdbLogger := slog.New(minLevel{h: logger.Handler(), min: slog.LevelError}).With("component", "ferretdb")

	// A file: URL with an absolute path and the trailing slash FerretDB requires.
	sqliteURL := (&url.URL{Scheme: "file", Path: dir + "/"}).String()

	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: backendSock},
		Logger:    fdbLogger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	newMu.Unlock()

	if err != nil {
		front.Close()
		cleanup()
		return nil, fmt.Errorf("embedded: start FerretDB: %w", err)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cancel:  cancel,
		done:    make(chan struct{}),
		log:     logger,
		cleanup: cleanup,
	}

	go func() {
		defer close(s.done)

		_ = f.Run(runCtx) // always nil; it returns once runCtx is canceled
	}()

	// MongoDBURI blocks until FerretDB's listener is bound.
	_ = f.MongoDBURI()

	s.lock = newWriteLock(front, func() (net.Conn, error) { return net.Dial("unix", backendSock) }, logger)

	switch a := front.Addr().(type) {
	case *net.UnixAddr:
		// The driver wants the socket path percent-encoded in the host part.
		s.uri = "mongodb://" + url.QueryEscape(a.Name) + "/"
	default:
		s.addr = a.String()
		host := s.addr
		// A wildcard listen address is not something to dial: point the URI
		// at loopback, which it includes.
		if h, port, serr := net.SplitHostPort(s.addr); serr == nil {
			if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
				host = net.JoinHostPort("127.0.0.1", port)
			}
		}
		s.uri = "mongodb://" + host + "/"
	}

	logger.Debug("embedded FerretDB started", "uri", s.uri, "data_dir", dir)

	return s, nil
}

// listen opens the listener clients use: addr, or for "off" a Unix socket
// in dir (a random loopback port if the path is too long for one).
func listen(addr, dir string, logger *slog.Logger) (net.Listener, error) {
	switch addr {
	case "":
		return nil, errors.New(`embedded: Addr is required (use "off" for no TCP listener)`)
	case "off":
		sock := filepath.Join(dir, socketName)
		if len(sock) > maxSocketPath {
			// A random loopback port is the next best thing to "not reachable by others".
			logger.Warn("data dir path too long for a Unix socket; using a random loopback port", "socket", sock)
			return net.Listen("tcp", "127.0.0.1:0")
		}
		if err := removeStaleSocket(sock); err != nil {
			return nil, err
		}
		return net.Listen("unix", sock)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("embedded: cannot listen on %s (is another server running there?): %w", addr, err)
	}
	return l, nil
}

// backendSocket chooses where FerretDB itself listens: a Unix socket that
// only the write lock dials, in dir when its path fits, else in a private
// temporary directory. cleanup removes it.
func backendSocket(dir string) (sock string, cleanup func(), err error) {
	sock = filepath.Join(dir, backendSocketName)
	if len(sock) <= maxSocketPath {
		// Two servers on one data directory would corrupt it: refuse.
		if err := removeStaleSocket(sock); err != nil {
			return "", nil, fmt.Errorf("embedded: data directory %s is in use by another server", dir)
		}
		return sock, func() { _ = os.Remove(sock) }, nil
	}
	tmp, err := os.MkdirTemp("", "ferretdb-")
	if err != nil {
		return "", nil, fmt.Errorf("embedded: backend socket: %w", err)
	}
	return filepath.Join(tmp, backendSocketName), func() { _ = os.RemoveAll(tmp) }, nil
}

// removeStaleSocket removes a socket file left by a crashed run, which would
// make binding fail, unless someone is still listening on it.
func removeStaleSocket(sock string) error {
	if c, err := net.Dial("unix", sock); err == nil {
		c.Close()
		return fmt.Errorf("embedded: socket %s is in use by another server", sock)
	}
	_ = os.Remove(sock)
	return nil
}

// URI returns a mongodb:// URI the Go driver can use to reach the server.
func (s *Server) URI() string { return s.uri }

// Addr returns the TCP address actually listened on, or "" for a Unix socket.
func (s *Server) Addr() string { return s.addr }

// Close stops the server and waits for it to exit. FerretDB gives connected
// clients up to 3 seconds to disconnect before closing them. Safe to call twice.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.lock.close()
		s.cancel()
		<-s.done
		s.cleanup()
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
