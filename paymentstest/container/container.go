// Package container runs the payments service's image with
// testcontainers-go, for tests that want the service as a separate process
// (a crash is a real exit; the image is what ships). It gives the same
// endpoints as paymentstest.New: a base URL, a ready client and admin
// client, and the embedded store's MongoDB URI.
//
// Build the image first with `make image` (reliabledemo/payments:local,
// FROM scratch: the server and its embedded store, nothing else). Run does
// not pull: on a machine without Docker or without the image it returns
// ErrNoDocker or ErrNoImage, which a test turns into a skip:
//
//	svc, err := container.Run(ctx)
//	if errors.Is(err, container.ErrNoDocker) || errors.Is(err, container.ErrNoImage) {
//		t.Skip(err)
//	}
//	defer svc.Terminate(context.Background())
//
// The service runs with paymentstest.DefaultEnv (FAULTS_ENABLED, fast
// charges, a 2 s lease, no rate limit), and Docker restarts it when it
// exits on a failure, so a crash point works as in production: the process
// dies and comes back on the same ports (Run binds fixed loopback ports for
// that), with its data.
//
// Outside a container, testcontainers may need TESTCONTAINERS_RYUK_DISABLED
// =true when its reaper image cannot be pulled, and
// TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1; `make test-container` sets both.
package container

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	dockercontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	mobyclient "github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/reliabledemo/payments/client"
	"github.com/reliabledemo/payments/paymentstest"
)

// DefaultImage is what `make image` builds.
const DefaultImage = "reliabledemo/payments:local"

// Errors for which a test should skip rather than fail.
var (
	ErrNoDocker = errors.New("container: no Docker engine answers")
	ErrNoImage  = errors.New("container: the image is not present (build it with `make image`)")
)

// Ports inside the container.
const (
	apiPort   = "3000/tcp"
	mongoPort = "27017/tcp"
)

// Container is the running service.
type Container struct {
	URL      string         // base URL on the host, http://127.0.0.1:<port>
	Client   *client.Client // API client
	Admin    *client.Admin  // admin client
	MongoURI string         // the embedded store, published on the host
	Database string

	c testcontainers.Container
}

// Option configures Run.
type Option func(*settings)

type settings struct {
	image      string
	env        map[string]string
	clientOpts []client.Option
	timeout    time.Duration
}

// WithImage runs another image of the server (DefaultImage by default).
func WithImage(image string) Option { return func(s *settings) { s.image = image } }

// WithEnv sets one of the server's configuration variables.
func WithEnv(name, value string) Option { return func(s *settings) { s.env[name] = value } }

// WithClientOptions configures Container.Client and Container.Admin.
func WithClientOptions(opts ...client.Option) Option {
	return func(s *settings) { s.clientOpts = append(s.clientOpts, opts...) }
}

// WithStartupTimeout bounds the wait for /health (60 s by default).
func WithStartupTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// Run starts the image, waits until GET /health answers 200, and returns
// its endpoints. Terminate stops and removes it.
func Run(ctx context.Context, opts ...Option) (*Container, error) {
	c, err := run(ctx, opts)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func run(ctx context.Context, opts []Option) (_ *Container, err error) {
	set := settings{image: DefaultImage, env: paymentstest.DefaultEnv(), timeout: time.Minute}
	for _, o := range opts {
		o(&set)
	}
	// The image's own settings: where it listens and keeps its data.
	for _, k := range []string{"PORT", "EMBEDDED_DATA_DIR", "EMBEDDED_MONGO_ADDR", "MONGODB_URI"} {
		delete(set.env, k)
	}
	if err := check(ctx, set.image); err != nil {
		return nil, err
	}
	// Fixed host ports, chosen now: Docker gives a restarted container new
	// random ones, and a client must find the service again after a crash.
	bindings := network.PortMap{}
	for _, p := range []string{apiPort, mongoPort} {
		hp, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("container: %w", err)
		}
		bindings[network.MustParsePort(p)] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hp}}
	}
	// testcontainers panics on some unexpected engine states.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("container: testcontainers panicked: %v", r)
		}
	}()
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        set.image,
			Env:          set.env,
			ExposedPorts: []string{apiPort, mongoPort},
			// An empty image has no shell for the default checks: ask
			// /health from the host.
			WaitingFor: wait.ForHTTP("/health").WithPort(apiPort).WithStartupTimeout(set.timeout),
			HostConfigModifier: func(hc *dockercontainer.HostConfig) {
				// A crash point exits with status 3: Docker starts it again,
				// as a supervisor would.
				hc.RestartPolicy = dockercontainer.RestartPolicy{Name: dockercontainer.RestartPolicyOnFailure}
				hc.PortBindings = bindings
			},
		},
		Started: true,
	})
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return nil, fmt.Errorf("container: start %s: %w", set.image, err)
	}
	out := &Container{c: c, Database: set.env["MONGODB_DB"]}
	defer func() {
		if err != nil {
			_ = out.Terminate(context.WithoutCancel(ctx))
		}
	}()
	host, err := c.Host(ctx)
	if err != nil {
		return nil, fmt.Errorf("container: host: %w", err)
	}
	api, err := c.MappedPort(ctx, apiPort)
	if err != nil {
		return nil, fmt.Errorf("container: API port: %w", err)
	}
	mongo, err := c.MappedPort(ctx, mongoPort)
	if err != nil {
		return nil, fmt.Errorf("container: store port: %w", err)
	}
	out.URL = "http://" + net.JoinHostPort(host, api.Port())
	out.MongoURI = "mongodb://" + net.JoinHostPort(host, mongo.Port()) + "/?directConnection=true"
	all := append([]client.Option{client.WithAPIKey(set.env["API_KEY"]), client.WithAdminKey(set.env["ADMIN_API_KEY"])}, set.clientOpts...)
	if out.Client, err = client.New(out.URL, all...); err != nil {
		return nil, err
	}
	out.Admin = out.Client.Admin()
	return out, nil
}

// Terminate stops and removes the container.
func (c *Container) Terminate(ctx context.Context) error {
	if c == nil || c.c == nil {
		return nil
	}
	return c.c.Terminate(ctx)
}

// freePort returns a loopback port that nothing listens on now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// check reports ErrNoDocker or ErrNoImage before testcontainers would try
// to pull, which retries until its context ends.
func check(ctx context.Context, image string) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoDocker, err)
	}
	defer cli.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx, mobyclient.PingOptions{}); err != nil {
		return fmt.Errorf("%w: %w", ErrNoDocker, err)
	}
	if _, err := cli.ImageInspect(ctx, image); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNoImage, image, err)
	}
	return nil
}
