package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// server is a service process the bench started on free loopback ports,
// with a fresh data directory.
type server struct {
	cmd      *exec.Cmd
	url      string
	mongoURI string // the embedded store's listener, or the MongoDB it was given
	dir      string
	log      string
	exited   chan struct{}
	exitErr  error
}

// serverEnv is the started server's whole environment: nothing is inherited,
// and the working directory has no .env, so only these settings apply. The
// provider has no delay and no failures, and rate limiting is off: the bench
// is a single client IP. unsafeFerretDB lets it start on a FerretDB reached
// directly.
func serverEnv(port int, apiKey, adminKey, mongoURI, db, dataDir, mongoAddr string, unsafeFerretDB bool) []string {
	if mongoURI == "" {
		mongoURI = "embedded"
	}
	env := []string{
		"PORT=" + strconv.Itoa(port),
		"API_KEY=" + apiKey,
		"ADMIN_API_KEY=" + adminKey,
		"MONGODB_URI=" + mongoURI,
		"MONGODB_DB=" + db,
		"EMBEDDED_DATA_DIR=" + dataDir,
		"EMBEDDED_MONGO_ADDR=" + mongoAddr,
		"PAYMENT_FAILURE_RATE=0",
		"PAYMENT_MIN_DELAY_MS=0",
		"PAYMENT_MAX_DELAY_MS=0",
		"RATE_LIMIT_RPS=0",
		"FAULTS_ENABLED=false",
		"METRICS_ADDR=off", // the bench measures the API; a fixed port could be taken
	}
	if unsafeFerretDB {
		env = append(env, "MONGODB_UNSAFE_FERRETDB=true")
	}
	return env
}

// startServer runs bin on free ports and waits until it is healthy. With
// mongoURI empty it uses its embedded store, listening on a free loopback
// port so that raw mode and the prefill can reach it.
func startServer(ctx context.Context, bin, apiKey, adminKey, mongoURI, db string, unsafeFerretDB bool, timeout time.Duration, logw io.Writer) (*server, error) {
	if _, err := os.Stat(bin); err != nil {
		if err := buildServer(ctx, bin, logw); err != nil {
			return nil, err
		}
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-server-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mongoAddr, storeURI := "off", mongoURI
	if mongoURI == "" {
		mp, err := freePort()
		if err != nil {
			return nil, err
		}
		mongoAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(mp))
		storeURI = "mongodb://" + mongoAddr + "/"
	}
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(abs)
	cmd.Dir = dir
	cmd.Env = serverEnv(port, apiKey, adminKey, mongoURI, db, filepath.Join(dir, "data"), mongoAddr, unsafeFerretDB)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), mongoURI: storeURI, dir: dir, log: logPath, exited: make(chan struct{})}
	go func() {
		s.exitErr = cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	fmt.Fprintf(logw, "bench: started %s (pid %d) on %s, data in %s\n", bin, cmd.Process.Pid, s.url, dir)

	hctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	go func() {
		select {
		case <-s.exited:
			cancel()
		case <-hctx.Done():
		}
	}()
	cl := newClient(s.url, apiKey, 1, timeout)
	defer cl.close()
	if err := cl.waitHealthy(hctx); err != nil {
		s.stop(false)
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	return s, nil
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server with SIGTERM, as a deployment would, and removes its
// data unless keep is set (to read its log after a failure).
func (s *server) stop(keep bool) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	if !keep {
		_ = os.RemoveAll(s.dir)
	}
}

// buildServer builds bin from ./cmd/server, for a checkout without bin/.
func buildServer(ctx context.Context, bin string, logw io.Writer) error {
	fmt.Fprintf(logw, "bench: %s missing; go build -o %s ./cmd/server\n", bin, bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/server")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the server (run from the repository root, or pass -server-bin): %w", err)
	}
	return nil
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server binds it; the health check would then fail.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("unexpected address %v", ln.Addr())
	}
	return addr.Port, nil
}
