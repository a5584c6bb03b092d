package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	apiKey   = "e2e_key"
	adminKey = "e2e_admin_key"
)

// bin holds the binaries built once for the whole test run.
var bin struct {
	once sync.Once
	dir  string
	err  error
}

// binary returns the path of cmd/name, building every command on first use
// (without -race: these are the processes under test, not the test).
func binary(t *testing.T, name string) string {
	t.Helper()
	bin.once.Do(func() {
		bin.dir, bin.err = os.MkdirTemp("", "e2e-bin-")
		if bin.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", bin.dir+string(filepath.Separator), "../../cmd/...")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			bin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	return filepath.Join(bin.dir, name)
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a child process with its output kept for the test log.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, name, path string, args, env []string, dir string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- output of %s (last 3000 bytes):\n%s", name, tail(p.out.String(), 3000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// kill ends the process with SIGKILL, as a crash or an OOM kill would.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// wait waits for the process to exit by itself and returns its exit code.
func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		p.t.Fatalf("%s did not exit within %v", p.name, d)
		return -1
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// server is one instance of cmd/server.
type server struct {
	*proc
	url string
	env []string
	dir string
}

// startServer starts cmd/server with env on a free port and waits until it
// answers /health.
func startServer(t *testing.T, name, dir string, env []string) *server {
	t.Helper()
	port := freePort(t)
	env = append([]string{
		"PORT=" + strconv.Itoa(port), "API_KEY=" + apiKey, "ADMIN_API_KEY=" + adminKey,
		"LOG_LEVEL=warn", "RATE_LIMIT_RPS=0", "METRICS_ADDR=127.0.0.1:0", // servers run side by side
	}, env...)
	s := &server{url: fmt.Sprintf("http://127.0.0.1:%d", port), env: env, dir: dir}
	s.proc = start(t, name, binary(t, "server"), nil, env, dir)
	s.waitHealthy(t, 30*time.Second)
	return s
}

// restart starts the same server again, on the same port and data.
func (s *server) restart(t *testing.T) {
	t.Helper()
	s.proc.kill()
	s.proc = start(t, s.name, binary(t, "server"), nil, s.env, s.dir)
	s.waitHealthy(t, 30*time.Second)
}

func (s *server) waitHealthy(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if s.proc.exited() {
			t.Fatalf("%s exited during start-up:\n%s", s.name, tail(s.out.String(), 3000))
		}
		resp, err := http.Get(s.url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not healthy within %v:\n%s", s.name, d, tail(s.out.String(), 3000))
}

// response is an HTTP answer, or the transport error that replaced it.
type response struct {
	status int
	header http.Header
	body   []byte
	err    error
}

var client = &http.Client{Timeout: 30 * time.Second}

func (s *server) call(method, path, key, token, body string) response {
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		return response{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func (r response) field(t *testing.T, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	v, _ := m[name].(string)
	return v
}

// armCrash arms a one-shot crash point on s.
func (s *server) armCrash(t *testing.T, point string) {
	t.Helper()
	r := s.call("POST", "/admin/faults", "arm-"+point+"-"+strconv.FormatInt(time.Now().UnixNano(), 36), adminKey, `{"crash_at":"`+point+`"}`)
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("arm %s: %v %d %s", point, r.err, r.status, r.body)
	}
}

// crashOn arms point on s, sends a request that reaches it, and waits for
// the process to die there without answering (exit code 3).
func (s *server) crashOn(t *testing.T, point, method, path, key, body string) {
	t.Helper()
	s.armCrash(t, point)
	if r := s.call(method, path, key, apiKey, body); r.err == nil {
		t.Fatalf("%s %s answered %d %s; want the connection to die at %s", method, path, r.status, r.body, point)
	}
	if code := s.wait(10 * time.Second); code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
}

// connect opens a driver client on uri for checking invariants.
func connect(t *testing.T, uri string) *mongo.Database {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c.Database("reliability_demo")
}

func count(t *testing.T, db *mongo.Database, coll string, filter any) int64 {
	t.Helper()
	n, err := db.Collection(coll).CountDocuments(context.Background(), filter)
	if err != nil {
		t.Fatalf("count %s: %v", coll, err)
	}
	return n
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
