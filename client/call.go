package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Response describes the HTTP exchange that produced a result. Every result
// type carries one in its Response field.
type Response struct {
	StatusCode     int
	RequestID      string // X-Request-Id of the answer that counted
	IdempotencyKey string // the key every attempt of the call sent; "" for reads and deletes
	// Replayed is true when the service answered from its idempotency
	// record (Idempotent-Replayed: true): the work was done by an earlier
	// attempt, whose answer was lost, or by an earlier call with this key.
	Replayed bool
	Attempts int // HTTP attempts the call made, this one included
}

// Attempt is one HTTP attempt of a call, as WithObserver and Observe see it.
type Attempt struct {
	Method, Path   string
	IdempotencyKey string
	N              int // 1 for the first attempt of the call
	Start          time.Time
	Duration       time.Duration
	StatusCode     int    // 0: no answer (Err says why)
	Code           string // error.code of an error answer
	RequestID      string
	Replayed       bool
	Err            error // the transport failure, when StatusCode is 0

	// Retryable says the outcome was transient; Last that the call ends
	// with it (it succeeded or failed for good, ran out of attempts, or
	// its context cannot afford the wait); Wait is how long the call now
	// sleeps before attempt N+1 when it does not.
	Retryable bool
	Last      bool
	Wait      time.Duration
}

// CallOption changes one call.
type CallOption func(*callSettings)

type callSettings struct {
	key     string
	observe func(Attempt)
	policy  *RetryPolicy
}

// IdempotencyKey makes a write send key instead of a generated one. Use it
// to resume a logical operation begun earlier, by this process or another:
// the service replays the stored answer, or finishes the work once. Reads
// and deletes ignore it.
func IdempotencyKey(key string) CallOption { return func(s *callSettings) { s.key = key } }

// Observe calls f after each attempt of this call, after the client's
// observer, if any.
func Observe(f func(Attempt)) CallOption { return func(s *callSettings) { s.observe = f } }

// WithPolicy replaces the client's retry policy for this call; zero fields
// take the defaults. RetryPolicy{MaxAttempts: 1} sends once.
func WithPolicy(p RetryPolicy) CallOption {
	return func(s *callSettings) { p = p.withDefaults(); s.policy = &p }
}

// request is one logical call.
type request struct {
	method, path string // path with its query string
	body         any    // nil: no body
	admin        bool   // send the admin key
}

// write reports whether the call carries an Idempotency-Key: POST and
// PATCH do. A DELETE needs none: deleting twice deletes once.
func (r request) write() bool { return r.method == http.MethodPost || r.method == http.MethodPatch }

// listPath is path with the query of a list call: limit unless 0, and the
// filters that are not "".
func listPath(path string, limit int, filters map[string]string) string {
	q := url.Values{}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	for k, v := range filters {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return path
}

// do runs req until it gets a final answer, decodes a 2xx body into out and
// returns the exchange's Response. An error answer is an *Error; no answer
// is a *NoAnswerError.
func (c *Client) do(ctx context.Context, req request, out any, opts []CallOption) (Response, error) {
	var s callSettings
	for _, o := range opts {
		o(&s)
	}
	policy := c.policy
	if s.policy != nil {
		policy = *s.policy
	}
	var body []byte
	if req.body != nil {
		var err error
		if body, err = json.Marshal(req.body); err != nil {
			return Response{}, fmt.Errorf("client: encode %s %s: %w", req.method, req.path, err)
		}
	}
	key := ""
	if req.write() {
		key = s.key
		if key == "" {
			key = c.newKey()
		}
	}

	for n := 1; ; n++ {
		a := Attempt{Method: req.method, Path: req.path, IdempotencyKey: key, N: n, Start: time.Now()}
		ans, err := c.attempt(ctx, req, key, body, policy.AttemptTimeout)
		a.Duration = time.Since(a.Start)
		a.StatusCode, a.RequestID, a.Replayed, a.Err = ans.status, ans.requestID, ans.replayed, err
		resp := Response{StatusCode: ans.status, RequestID: ans.requestID, IdempotencyKey: key, Replayed: ans.replayed, Attempts: n}

		var apiErr *Error
		var final error // what the call returns if it ends here
		switch {
		case err != nil:
			a.Retryable = ctx.Err() == nil
			final = &NoAnswerError{Method: req.method, Path: req.path, IdempotencyKey: key, Attempts: n, Err: joinCtx(ctx, err)}
		case ans.status >= 200 && ans.status < 300:
			if out != nil && len(ans.body) > 0 {
				if derr := json.Unmarshal(ans.body, out); derr != nil {
					final = fmt.Errorf("client: %s %s: %d with an unreadable body: %w", req.method, req.path, ans.status, derr)
				}
			}
		default:
			apiErr = ans.error(key, n)
			a.Code = apiErr.Code
			a.Retryable = apiErr.Retryable()
			final = apiErr
		}

		if a.Retryable && policy.more(n) {
			a.Wait = c.jitter(policy, n-1, ans.retryAfter)
			if deadline, ok := ctx.Deadline(); !ok || time.Until(deadline) > a.Wait {
				c.notify(s, a)
				if sleep(ctx, a.Wait) {
					continue
				}
				// The context ended during the wait: the last answer stands.
				if apiErr == nil {
					final = &NoAnswerError{Method: req.method, Path: req.path, IdempotencyKey: key, Attempts: n, Err: joinCtx(ctx, err)}
				}
				return resp, final
			}
			a.Wait = 0
		}
		a.Last = true
		c.notify(s, a)
		return resp, final
	}
}

func (c *Client) notify(s callSettings, a Attempt) {
	if c.observe != nil {
		c.observe(a)
	}
	if s.observe != nil {
		s.observe(a)
	}
}

// answer is an HTTP response, read in full.
type answer struct {
	status     int
	body       []byte
	requestID  string
	replayed   bool
	retryAfter time.Duration
}

// maxBody bounds what the client reads of an answer; the service's are a
// few kilobytes, a list of 100 orders some 40.
const maxBody = 8 << 20

// attempt sends req once. A transport failure, a cut body included, is an
// error.
func (c *Client) attempt(ctx context.Context, req request, key string, body []byte, timeout time.Duration) (answer, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, c.base+req.path, rd)
	if err != nil {
		return answer{}, err
	}
	// net/http silently resends a request that carries an Idempotency-Key
	// when a reused connection dies before the answer. The client retries
	// by itself, with backoff and in view of the observer, so the body is
	// made unrewindable to stop that.
	hr.GetBody = nil
	apiKey := c.apiKey
	if req.admin {
		apiKey = c.adminKey
	}
	if apiKey != "" {
		hr.Header.Set("Authorization", "Bearer "+apiKey)
	}
	hr.Header.Set("Accept", "application/json")
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		hr.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, requestID: resp.Header.Get("X-Request-Id"),
		replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
	a.retryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if a.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody)); err != nil {
		// The connection dropped mid-body: as good as no answer.
		return answer{status: 0}, err
	}
	return a, nil
}

// error builds the Error of a non-2xx answer. A body that is not the
// service's envelope (a proxy's page, say) leaves the fields empty but the
// status and a message.
func (a answer) error(key string, attempts int) *Error {
	var env struct {
		Error struct {
			Type, Code, Param, Message string
		} `json:"error"`
	}
	_ = json.Unmarshal(a.body, &env)
	e := &Error{StatusCode: a.status, Type: env.Error.Type, Code: env.Error.Code, Param: env.Error.Param,
		Message: env.Error.Message, RequestID: a.requestID, RetryAfter: a.retryAfter,
		IdempotencyKey: key, Replayed: a.replayed, Attempts: attempts, body: a.body}
	if e.Message == "" {
		e.Message = http.StatusText(a.status)
	}
	return e
}

// joinCtx adds the context's error, when it has ended, so that
// errors.Is(err, context.DeadlineExceeded) tells a caller's own deadline
// from the service's silence.
func joinCtx(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		if err == nil {
			return cerr
		}
		return errors.Join(err, cerr)
	}
	return err
}

// sleep waits d unless ctx ends first, and reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// result is a type that records the exchange it came from.
type result interface{ setResponse(Response) }

// send runs req and returns its decoded result, stamped with its Response.
// Adding a route is one call of it.
func send[T any, PT interface {
	*T
	result
}](ctx context.Context, c *Client, req request, opts []CallOption) (*T, error) {
	out := PT(new(T))
	resp, err := c.do(ctx, req, out, opts)
	if err != nil {
		return nil, err
	}
	out.setResponse(resp)
	return out, nil
}
