package client

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Client calls the payments service's API routes. It is safe for
// concurrent use; make one and share it.
type Client struct {
	base     string // scheme://host[/prefix], without a trailing slash
	apiKey   string
	adminKey string
	http     *http.Client
	policy   RetryPolicy
	observe  func(Attempt)
	newKey   func() string

	mu  sync.Mutex // guards rnd
	rnd *rand.Rand
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sets the key sent as "Authorization: Bearer <key>" on the API
// routes (the service's API_KEY).
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithAdminKey sets the key the Admin routes send (the service's
// ADMIN_API_KEY). Without it they are sent without credentials, and the
// service answers 401.
func WithAdminKey(key string) Option { return func(c *Client) { c.adminKey = key } }

// WithHTTPClient sets the http.Client that sends every attempt; by default
// a client of its own with http.DefaultTransport's settings. Its Timeout, if
// any, bounds each attempt as RetryPolicy.AttemptTimeout does.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithRetryPolicy replaces DefaultRetryPolicy; zero fields keep their
// defaults.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.policy = p.withDefaults() } }

// WithObserver calls f after every HTTP attempt of every call, for metrics
// or logs. f runs on the calling goroutine, so it must not block; calls
// made concurrently call it concurrently.
func WithObserver(f func(Attempt)) Option { return func(c *Client) { c.observe = f } }

// WithKeyGenerator sets how a call that was given no Idempotency-Key makes
// one; by default 128 random bits as a UUID (version 4). Each logical call
// makes one key and reuses it for all its attempts.
func WithKeyGenerator(f func() string) Option { return func(c *Client) { c.newKey = f } }

// WithSeed makes the backoff jitter reproducible; by default it is seeded
// at random.
func WithSeed(seed uint64) Option {
	return func(c *Client) { c.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
}

// New returns a client of the service at baseURL, such as
// "http://127.0.0.1:3000". A path prefix is kept ("https://host/payments").
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("client: base URL %q: %w", baseURL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("client: base URL %q must start with http:// or https://", baseURL)
	case u.Host == "":
		return nil, fmt.Errorf("client: base URL %q has no host", baseURL)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("client: the base URL must not have a query or fragment")
	}
	c := &Client{
		base:   strings.TrimRight(baseURL, "/"),
		http:   &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		policy: DefaultRetryPolicy,
		newKey: newUUID,
		rnd:    rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL returns the base URL the client was made with, without a
// trailing slash.
func (c *Client) BaseURL() string { return c.base }

// Admin returns the admin routes of the same service, sent with the key of
// WithAdminKey through the same HTTP client and retry policy.
func (c *Client) Admin() *Admin { return &Admin{c: c} }

// Admin calls the admin routes: the mock provider's behavior and, when the
// service runs with FAULTS_ENABLED, its fault injection. Get one from
// Client.Admin.
type Admin struct{ c *Client }

// jitter draws the wait before retry k.
func (c *Client) jitter(p RetryPolicy, k int, retryAfter time.Duration) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return p.backoff(k, retryAfter, c.rnd)
}
