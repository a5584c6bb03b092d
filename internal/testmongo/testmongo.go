// Package testmongo gives each integration test its own database on a real
// MongoDB-wire server, shared by all tests of one test binary.
//
// The server is chosen once per test binary, on first use:
//
//  1. MONGODB_TEST_URI, if set (no fallback: an explicit server must work);
//  2. else a Docker container of MONGO_TEST_IMAGE (default mongo:7) through
//     testcontainers, when a Docker engine answers (MONGO_TEST_IMAGE=none skips
//     this step);
//  3. else, or if the container cannot be started, the embedded FerretDB
//     server (internal/embedded) on a random loopback port; with
//     MONGO_TEST_REQUIRE=1 (any true value), the tests fail instead, so that
//     a CI job meant to run on MongoDB cannot pass on the embedded server.
//
// Clients get mongostore.ClientOptions, the service's own write concern and
// read preference.
//
// The choice, and for fallbacks the reason, goes to the log of the first test
// that asked; every Open logs one line naming its database and the server.
//
// Containers and temporary data directories outlive the test binary (there is
// no hook at its exit, and Ryuk is disabled here); each later run removes those
// whose owning process has gone. A CI job can also remove containers with
// `docker rm -f $(docker ps -aq --filter label=reliabledemo.testmongo)`.
package testmongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/wait"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/embedded"
	"github.com/reliabledemo/payments/internal/mongostore"
)

const (
	// serverSelectionTimeout keeps a dead server from hanging a test for the driver's default 30 s.
	serverSelectionTimeout = 10 * time.Second

	// containerBudget bounds the whole container attempt (engine check, pull, start, ping).
	containerBudget = 90 * time.Second

	// labelKey marks our containers; its value is "hostname/pid" of the test binary.
	labelKey = "reliabledemo.testmongo"

	// tempPrefix names the embedded server's data directories: tempPrefix + pid + "-".
	tempPrefix = "testmongo-"
)

// server is the test server of this test binary.
type server struct {
	uri    string
	desc   string        // for logs: which server this is
	client *mongo.Client // shared by Open
	err    error
}

var (
	once   sync.Once
	shared server
)

// get starts the test server on first use and fails tb if there is none.
func get(tb testing.TB) *server {
	tb.Helper()

	once.Do(func() { shared = start(tb) })

	if shared.err != nil {
		tb.Fatalf("testmongo: no test server: %v", shared.err)
	}

	return &shared
}

// URI returns the URI of the test server for this test binary, starting it on first use.
func URI(tb testing.TB) string {
	tb.Helper()

	return get(tb).uri
}

// Open returns a fresh, uniquely named database on the shared test server (a shared *mongo.Client), dropped in tb.Cleanup.
func Open(tb testing.TB) *mongo.Database {
	tb.Helper()

	s := get(tb)

	return open(tb, s, s.client)
}

// OpenWith is Open with extra client options applied (e.g. a command monitor); it makes its own client, disconnected in Cleanup.
func OpenWith(tb testing.TB, opts *options.ClientOptions) *mongo.Database {
	tb.Helper()

	s := get(tb)

	all := []*options.ClientOptions{clientOptions(s.uri)}
	if opts != nil {
		all = append(all, opts) // later options win
	}

	c, err := mongo.Connect(all...)
	if err != nil {
		tb.Fatalf("testmongo: connect: %v", err)
	}

	// Registered before the drop, so it runs after it (cleanups run last-in first-out).
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), serverSelectionTimeout)
		defer cancel()

		_ = c.Disconnect(ctx)
	})

	return open(tb, s, c)
}

// open names a new database on c and drops it, through the shared client so
// that a caller's monitor does not see it, when tb ends.
func open(tb testing.TB, s *server, c *mongo.Client) *mongo.Database {
	tb.Helper()

	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails

	name := "t_" + hex.EncodeToString(b)
	tb.Logf("testmongo: database %s on %s", name, s.desc)

	tb.Cleanup(func() {
		// tb.Context() is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()

		if err := s.client.Database(name).Drop(ctx); err != nil {
			tb.Errorf("testmongo: drop database %s: %v", name, err)
		}
	})

	return c.Database(name)
}

func clientOptions(uri string) *options.ClientOptions {
	return mongostore.ClientOptions(uri).SetServerSelectionTimeout(serverSelectionTimeout)
}

// start picks and starts the server, logging why through tb.
func start(tb testing.TB) server {
	tb.Helper()

	if uri := os.Getenv("MONGODB_TEST_URI"); uri != "" {
		return connect(tb, uri, "MONGODB_TEST_URI server "+redact(uri))
	}

	image := os.Getenv("MONGO_TEST_IMAGE")
	if image == "" {
		image = "mongo:7"
	}

	require, err := required()
	if err != nil {
		return server{err: err}
	}

	var why error
	if image == "none" {
		why = errors.New("MONGO_TEST_IMAGE=none: not trying Docker")
		tb.Logf("testmongo: %v", why)
	} else {
		began := time.Now()

		uri, err := startContainer(tb, image)
		if err == nil {
			tb.Logf("testmongo: container of %s ready in %s", image, time.Since(began).Round(time.Millisecond))
			return connect(tb, uri, "container "+image+" at "+uri)
		}

		why = fmt.Errorf("no container of %s (%s): %w", image, time.Since(began).Round(time.Millisecond), err)
		if !require {
			tb.Logf("testmongo: %v; falling back to embedded FerretDB", why)
		}
	}

	if require {
		return server{err: fmt.Errorf("MONGO_TEST_REQUIRE is set, so no fallback to embedded FerretDB: %w "+
			"(set MONGODB_TEST_URI, or make a Docker engine with %s available)", why, image)}
	}

	uri, dir, err := startEmbedded()
	if err != nil {
		return server{err: fmt.Errorf("embedded FerretDB: %w", err)}
	}

	return connect(tb, uri, "embedded FerretDB at "+uri+" (data "+dir+")")
}

// required reports whether MONGO_TEST_REQUIRE forbids the embedded fallback.
func required() (bool, error) {
	v := strings.TrimSpace(os.Getenv("MONGO_TEST_REQUIRE"))
	if v == "" {
		return false, nil
	}

	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("MONGO_TEST_REQUIRE must be true or false (1 or 0), got %q", v)
	}

	return b, nil
}

// connect makes the shared client and checks that the server answers.
func connect(tb testing.TB, uri, desc string) server {
	tb.Helper()

	c, err := mongo.Connect(clientOptions(uri))
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), serverSelectionTimeout)
		err = c.Ping(ctx, nil)

		cancel()
	}

	if err != nil {
		return server{err: fmt.Errorf("%s: %w", desc, err)}
	}

	tb.Logf("testmongo: using %s", desc)

	return server{uri: uri, desc: desc, client: c}
}

// startEmbedded runs FerretDB in this process. It is never closed: it lives
// as long as the test binary, and sweepTempDirs removes its directory later.
func startEmbedded() (uri, dir string, err error) {
	sweepTempDirs()

	dir, err = os.MkdirTemp("", tempPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", "", err
	}

	// Our own Info lines are noise in test output; FerretDB's errors are not.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	s, err := embedded.Start(context.Background(), embedded.Options{DataDir: dir, Addr: "127.0.0.1:0", Logger: logger})
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", "", err
	}

	return s.URI(), dir, nil
}

// startContainer runs image with testcontainers and returns a URI once the
// server answers a ping. The whole attempt is bounded by containerBudget.
func startContainer(tb testing.TB, image string) (uri string, err error) {
	tb.Helper()

	// Without these, testcontainers may dial the default gateway (when it thinks
	// it runs in a container) and start Ryuk, whose image cannot be pulled here.
	setDefaultEnv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	setDefaultEnv("TESTCONTAINERS_RYUK_DISABLED", "true")

	// testcontainers logs through a global logger; route it to this test's log
	// only while we start (tb must not be used once its test has finished).
	l := &startLogger{tb: tb}
	defer l.stop()

	tclog.SetDefault(l)

	// testcontainers panics on some unexpected engine states; that means "no container".
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("testcontainers panicked: %v", r)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), containerBudget)
	defer cancel()

	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return "", fmt.Errorf("no Docker engine: %w", err)
	}
	defer cli.Close()

	pingCtx, pingCancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = cli.Ping(pingCtx, client.PingOptions{})

	pingCancel()

	if err != nil {
		return "", fmt.Errorf("no Docker engine: %w", err)
	}

	sweepContainers(ctx, cli.Client)

	if err = ensureImage(ctx, cli.Client, image); err != nil {
		return "", err
	}

	host, _ := os.Hostname()

	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        image,
			ExposedPorts: []string{"27017/tcp"},
			Labels:       map[string]string{labelKey: host + "/" + strconv.Itoa(os.Getpid())},
			// The default check execs /bin/sh inside the container, which a
			// FROM scratch image does not have; the ping below is the real check.
			WaitingFor: wait.ForListeningPort("27017/tcp").SkipInternalCheck(),
		},
		Started: true,
		Logger:  l,
	})
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return "", fmt.Errorf("start container: %w", err)
	}

	defer func() {
		if err != nil {
			_ = testcontainers.TerminateContainer(c)
		}
	}()

	h, err := c.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("container host: %w", err)
	}

	p, err := c.MappedPort(ctx, "27017/tcp")
	if err != nil {
		return "", fmt.Errorf("container port: %w", err)
	}

	// directConnection: a replica-set image would otherwise make the driver
	// follow member addresses that are only valid inside Docker.
	uri = "mongodb://" + net.JoinHostPort(h, p.Port()) + "/?directConnection=true"

	// Docker's proxy accepts connections before the server listens, so only
	// an answered ping means ready. The driver retries until ctx's deadline.
	deadline, _ := ctx.Deadline()

	mc, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(time.Until(deadline)))
	if err != nil {
		return "", err
	}
	defer func() { _ = mc.Disconnect(context.Background()) }()

	if err = mc.Ping(ctx, nil); err != nil {
		return "", fmt.Errorf("ping container at %s: %w", uri, err)
	}

	return uri, nil
}

// ensureImage pulls image once if it is not present. testcontainers' own pull
// retries with backoff until the context ends, which would spend the whole
// budget on an image that cannot be pulled.
func ensureImage(ctx context.Context, cli *client.Client, image string) error {
	if _, err := cli.ImageInspect(ctx, image); err == nil {
		return nil
	}

	resp, err := cli.ImagePull(ctx, image, client.ImagePullOptions{})
	if err == nil {
		err = resp.Wait(ctx)
	}

	if err != nil {
		return fmt.Errorf("image %s is not present and cannot be pulled: %w", image, err)
	}

	return nil
}

// sweepContainers removes containers left by earlier test binaries on this
// host whose process has exited. Errors are ignored: it is housekeeping.
func sweepContainers(ctx context.Context, cli *client.Client) {
	host, _ := os.Hostname()

	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", labelKey)})
	if err != nil {
		return
	}

	for _, c := range res.Items {
		h, pid, ok := strings.Cut(c.Labels[labelKey], "/")
		if !ok || h != host || processAlive(pid) {
			continue
		}

		_, _ = cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	}
}

// sweepTempDirs removes embedded data directories of test binaries that have exited.
func sweepTempDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*-*"))

	for _, d := range dirs {
		pid, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), tempPrefix), "-")
		if !processAlive(pid) {
			_ = os.RemoveAll(d)
		}
	}
}

// processAlive reports whether pid names a running process; anything that
// cannot be checked counts as alive, so that we never delete what is in use.
func processAlive(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return true
	}

	p, err := os.FindProcess(n)
	if err != nil {
		return false
	}

	err = p.Signal(syscall.Signal(0))

	return !errors.Is(err, os.ErrProcessDone)
}

// redact hides a password in uri, for logs.
func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparsable URI)"
	}

	return u.Redacted()
}

func setDefaultEnv(key, value string) {
	if _, ok := os.LookupEnv(key); !ok {
		_ = os.Setenv(key, value)
	}
}

// startLogger passes testcontainers' lines to tb until stop.
type startLogger struct {
	mu sync.Mutex
	tb testing.TB
}

func (l *startLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()

	if l.tb != nil {
		l.tb.Logf("testcontainers: "+strings.TrimRight(format, "\n"), v...)
	}
}

func (l *startLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()

	l.tb = nil
}
