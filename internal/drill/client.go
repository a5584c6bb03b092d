package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
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

// client sends the drill's requests.
type client struct {
	http    *http.Client
	urls    []string
	apiKey  string
	timeout time.Duration
	t0      time.Time // start of the run, which attempts are timed from
}

func newClient(cfg Config) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * cfg.Concurrency * len(cfg.URLs),
		MaxIdleConnsPerHost: 2 * cfg.Concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	return &client{http: &http.Client{Transport: tr}, urls: cfg.URLs, apiKey: cfg.APIKey, timeout: cfg.Timeout}
}

// request is one step of a payment.
type request struct {
	method string
	path   string
	key    string // Idempotency-Key; "" for reads
	body   []byte // nil for reads
	// once makes a client that gives up after its first attempt: what it
	// leaves unfinished is the completer's to finish.
	once bool
}

func (r request) String() string { return r.method + " " + r.path }

// answer is an HTTP response, read in full.
type answer struct {
	status     int
	code       string // error.code of an error body
	body       []byte
	replayed   bool
	retryAfter time.Duration // 0 when absent
}

// attempt sends req once to base. A transport failure is an error.
func (c *client) attempt(ctx context.Context, base string, req request) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, base+req.path, body)
	if err != nil {
		return answer{}, err
	}
	// net/http resends a request with an Idempotency-Key by itself when a
	// reused connection dies before the answer; the drill must see that drop
	// to count it and to retry on another instance, so the body is made
	// unrewindable.
	hr.GetBody = nil
	hr.Header.Set("Authorization", "Bearer "+c.apiKey)
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.key != "" {
		hr.Header.Set("Idempotency-Key", req.key)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, err // the connection dropped mid-body
	}
	a := answer{status: resp.StatusCode, body: b, replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
	a.retryAfter, _ = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil {
			a.code = e.Error.Code
		}
	}
	return a, nil
}

// errNoAnswer is a step that got no final answer before its payment's
// deadline, or before the drill was interrupted.
var errNoAnswer = errors.New("no final answer")

// errAbandoned is what a client that sends once gets when that attempt had
// no final answer.
var errAbandoned = errors.New("abandoned after the first attempt")

// call sends req until it gets a final answer, trying the base URLs in turn
// from start so that a retry after a drop goes to another instance. It
// returns the final answer and its verdict (never Retry), or errNoAnswer
// wrapped with the last thing seen when ctx ends first.
func (c *client) call(ctx context.Context, t *tally, rnd *rand.Rand, start int, e Expect, req request) (answer, Verdict, error) {
	last := "nothing"
	for n := 0; ; n++ {
		if ctx.Err() != nil {
			return answer{}, Retry, fmt.Errorf("%w to %s (last: %s)", errNoAnswer, req, last)
		}
		base := c.urls[(start+n)%len(c.urls)]
		sent := time.Now()
		a, err := c.attempt(ctx, base, req)
		t.attempts = append(t.attempts, attempt{At: sent.Sub(c.t0), Latency: time.Since(sent), Status: a.status})
		t.Attempts++
		if err != nil && ctx.Err() != nil {
			// The payment's own deadline or an interrupt cut this attempt
			// short: that is not the service dropping it.
			return answer{}, Retry, fmt.Errorf("%w to %s (last: %s)", errNoAnswer, req, last)
		}
		if a.replayed {
			t.Replays++
		}
		v := Classify(e, a.status, a.code)
		if err != nil {
			t.Dropped++
			last = err.Error()
		} else if v == Retry {
			t.count(a.status)
			last = fmt.Sprintf("%d %s", a.status, a.code)
		}
		switch v {
		case Final, Refused:
			return a, v, nil
		case Unexpected:
			t.unexpected = append(t.unexpected, badAnswer{fmt.Sprintf("%s: %d %s", req, a.status, a.code), a.status})
			return a, v, nil
		}
		if req.once {
			return answer{}, Retry, fmt.Errorf("%w: %s (%s)", errAbandoned, req, last)
		}
		sleep(ctx, Backoff(n, a.retryAfter, rnd))
	}
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

// encode encodes a request body the drill built itself: maps of strings and
// integers, which always encode.
func encode(v map[string]any) []byte {
	b, _ := json.Marshal(v)
	return b
}
