package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// client sends the bench's requests over keep-alive connections, as many as
// the concurrency, so that connection set-up is not what is measured.
type client struct {
	http    *http.Client
	base    string
	apiKey  string
	timeout time.Duration
}

func newClient(base, apiKey string, concurrency int, timeout time.Duration) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * concurrency,
		MaxIdleConnsPerHost: 2 * concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	return &client{http: &http.Client{Transport: tr}, base: strings.TrimRight(base, "/"), apiKey: apiKey, timeout: timeout}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// answer is a response read in full.
type answer struct {
	status   int
	body     []byte
	replayed bool
}

// do sends one request with the API key (or token, if not empty) and reads
// the whole answer; an error is a request that got no answer.
func (c *client) do(ctx context.Context, method, path, key string, body []byte, token string) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if token == "" {
		token = c.apiKey
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, body: b, replayed: resp.Header.Get("Idempotent-Replayed") == "true"}, nil
}

// timed sends one request and records it as a sample.
func (c *client) timed(ctx context.Context, method, path, key string, body []byte) (sample, answer) {
	t0 := time.Now()
	a, err := c.do(ctx, method, path, key, body, "")
	return sample{lat: time.Since(t0), status: a.status, replayed: a.replayed, err: err}, a
}

// waitHealthy polls GET /health until it answers 200 or ctx ends.
func (c *client) waitHealthy(ctx context.Context) error {
	var last string
	for {
		a, err := c.do(ctx, "GET", "/health", "", nil, "")
		switch {
		case err == nil && a.status == http.StatusOK:
			return nil
		case err != nil:
			last = err.Error()
		default:
			last = fmt.Sprintf("status %d", a.status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service at %s not healthy: %s", c.base, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// zeroBehavior sets the mock provider's delay and failure rate to 0, so that
// what is measured is the service and its store, not the simulated provider.
func (c *client) zeroBehavior(ctx context.Context, adminKey, runID string) error {
	body := []byte(`{"failureRate":0,"minDelayMs":0,"maxDelayMs":0}`)
	a, err := c.do(ctx, "POST", "/admin/payment-behavior", "bench-behavior-"+runID, body, adminKey)
	if err != nil {
		return fmt.Errorf("POST /admin/payment-behavior: %w", err)
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("POST /admin/payment-behavior: status %d: %s", a.status, truncate(a.body, 200))
	}
	return nil
}

// orderBody is a POST /orders body. Users cycle through userCount ids so the
// userId filter of list mode selects about 1% of the orders.
func orderBody(i int) []byte {
	return fmt.Appendf(nil, `{"userId":"u%d","amount":%d,"currency":"USD"}`, i%userCount, 100+i%9900)
}

const userCount = 100

// orderID reads the id of an order answer.
func orderID(body []byte) string {
	var o struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &o)
	return o.ID
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
