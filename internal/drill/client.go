package drill

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	payclient "github.com/reliabledemo/payments/client"
)

// Counters are what one payment's requests met on the way.
type Counters struct {
	Attempts     int // HTTP attempts of every kind, polls included
	Polls        int // GETs of an intent still processing
	Replays      int // answers with Idempotent-Replayed: true
	Conflicts    int // 409 idempotency_key_in_use
	TooEarly     int // 425 payment_processing
	RateLimited  int // 429
	ServerErrors int // 5xx other than an expected 502 payment_failed
	Dropped      int // no answer: connection refused, reset or dropped, EOF, timeout
}

func (c *Counters) add(o Counters) {
	c.Attempts += o.Attempts
	c.Polls += o.Polls
	c.Replays += o.Replays
	c.Conflicts += o.Conflicts
	c.TooEarly += o.TooEarly
	c.RateLimited += o.RateLimited
	c.ServerErrors += o.ServerErrors
	c.Dropped += o.Dropped
}

// tally is what one goroutine records; a payment merges its refunds' tallies
// once they are done, so nothing here needs a lock.
type tally struct {
	Counters
	attempts   []attempt
	unexpected []badAnswer
}

// attempt is one HTTP attempt, kept for the summary's percentiles and the
// report's charts over time: 24 bytes each, so a drill of 5,000 payments
// (some 30,000 attempts) keeps well under a megabyte.
type attempt struct {
	At      time.Duration // when it was sent, from the start of the run
	Latency time.Duration
	Status  int // 0: no answer (dropped, refused, timed out)
}

// badAnswer is a final answer the drill should never get.
type badAnswer struct {
	What   string // "POST /orders: 404 route_not_found"
	Status int
}

func (t *tally) merge(o tally) {
	t.add(o.Counters)
	t.attempts = append(t.attempts, o.attempts...)
	t.unexpected = append(t.unexpected, o.unexpected...)
}

// Backoff of the drill's retries: exponential with full jitter from 50 ms
// to 2 s, never less than Retry-After, and no limit on attempts but the
// payment's deadline.
var retryPolicy = payclient.RetryPolicy{MaxAttempts: -1, BaseDelay: 50 * time.Millisecond, MaxDelay: 2 * time.Second}

// client sends the drill's requests through the public client package, so
// that the retries a user's code gets are the ones exercised under chaos.
type client struct {
	api    *payclient.Client // with the admin key too, for the webhook faults
	http   *http.Client
	policy payclient.RetryPolicy
	urls   []string
	t0     time.Time // start of the run, which attempts are timed from
}

func newClient(cfg Config) (*client, error) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * cfg.Concurrency * len(cfg.URLs),
		MaxIdleConnsPerHost: 2 * cfg.Concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	rt, err := newRotation(cfg.URLs, tr)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: rt}
	p := retryPolicy
	p.AttemptTimeout = cfg.Timeout
	api, err := payclient.New(cfg.URLs[0], payclient.WithAPIKey(cfg.APIKey), payclient.WithAdminKey(cfg.AdminKey),
		payclient.WithHTTPClient(hc), payclient.WithRetryPolicy(p))
	if err != nil {
		return nil, err
	}
	return &client{api: api, http: hc, policy: p, urls: cfg.URLs}, nil
}

// request is one step of a payment.
type request struct {
	method string
	path   string
	key    string // Idempotency-Key; "" for reads
	// once makes a client that gives up after its first attempt: what it
	// leaves unfinished is the completer's to finish.
	once bool
}

func (r request) String() string { return r.method + " " + r.path }

// answer is the final answer of a step: status 0 when there was none.
type answer struct {
	status int
	code   string
}

// send makes a step's call with the options the drill adds.
type send func(ctx context.Context, opts ...payclient.CallOption) error

// errNoAnswer is a step that got no final answer before its payment's
// deadline, or before the drill was interrupted.
var errNoAnswer = errors.New("no final answer")

// errAbandoned is what a client that sends once gets when that attempt had
// no final answer.
var errAbandoned = errors.New("abandoned after the first attempt")

// call runs one step through the client, which retries it with one key;
// attempt n goes to base URL start+n, so that a retry after a drop goes to
// another instance. It counts every attempt in t, and returns the final
// answer and its verdict (never Retry), or errNoAnswer wrapped with the
// last thing seen when the client gave up first.
func (c *client) call(ctx context.Context, t *tally, start int, e Expect, req request, do send) (answer, Verdict, error) {
	last := "nothing"
	var final answer // of the last attempt
	observe := func(a payclient.Attempt) {
		final = answer{status: a.StatusCode, code: a.Code}
		t.attempts = append(t.attempts, attempt{At: a.Start.Sub(c.t0), Latency: a.Duration, Status: a.StatusCode})
		t.Attempts++
		if a.Err != nil && ctx.Err() != nil {
			// The payment's own deadline or an interrupt cut this attempt
			// short: that is not the service dropping it.
			return
		}
		if a.Replayed {
			t.Replays++
		}
		if a.Err != nil {
			t.Dropped++
			last = a.Err.Error()
		} else if Classify(e, a.StatusCode, a.Code) == Retry {
			t.count(a.StatusCode)
			last = fmt.Sprintf("%d %s", a.StatusCode, a.Code)
		}
	}
	opts := []payclient.CallOption{payclient.Observe(observe)}
	if req.key != "" {
		opts = append(opts, payclient.IdempotencyKey(req.key))
	}
	if req.once {
		p := c.policy
		p.MaxAttempts = 1
		opts = append(opts, payclient.WithPolicy(p))
	}
	err := do(context.WithValue(ctx, rotorKey{}, &rotor{next: start}), opts...)
	a := final
	if err != nil && !errors.As(err, new(*payclient.Error)) {
		a = answer{} // no answer
	}
	v := Classify(e, a.status, a.code)
	switch v {
	case Retry:
		if req.once && ctx.Err() == nil {
			return a, v, fmt.Errorf("%w: %s (%s)", errAbandoned, req, last)
		}
		return a, v, fmt.Errorf("%w to %s (last: %s)", errNoAnswer, req, last)
	case Unexpected:
		t.unexpected = append(t.unexpected, badAnswer{fmt.Sprintf("%s: %d %s", req, a.status, a.code), a.status})
	}
	return a, v, nil
}

// count records a retryable status.
func (t *tally) count(status int) {
	switch {
	case status == http.StatusConflict:
		t.Conflicts++
	case status == http.StatusTooEarly:
		t.TooEarly++
	case status == http.StatusTooManyRequests:
		t.RateLimited++
	case status >= 500:
		t.ServerErrors++
	}
}

// rotorKey carries a call's rotor in its context.
type rotorKey struct{}

// rotor is the base URL index of a call's next attempt. A call's attempts
// run one after another on its goroutine, so it needs no lock.
type rotor struct{ next int }

// rotation is a transport that sends each attempt of a call to the next
// base URL, in turn from the call's start, by rewriting the request's
// scheme, host and path prefix. Requests without a rotor pass unchanged.
type rotation struct {
	bases []*url.URL
	next  http.RoundTripper
}

func newRotation(urls []string, next http.RoundTripper) (*rotation, error) {
	r := &rotation{next: next}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		r.bases = append(r.bases, u)
	}
	return r, nil
}

func (r *rotation) RoundTrip(req *http.Request) (*http.Response, error) {
	ro, ok := req.Context().Value(rotorKey{}).(*rotor)
	if !ok {
		return r.next.RoundTrip(req)
	}
	to := r.bases[ro.next%len(r.bases)]
	ro.next++
	out := req.Clone(req.Context()) // a RoundTripper must not change its request
	out.URL.Scheme, out.URL.Host, out.Host = to.Scheme, to.Host, to.Host
	out.URL.Path = to.Path + strings.TrimPrefix(req.URL.Path, r.bases[0].Path)
	return r.next.RoundTrip(out)
}
