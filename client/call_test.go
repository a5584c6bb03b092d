package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/reliabledemo/payments/client"
)

// step is one scripted answer of the test server.
type step struct {
	status     int    // 0: drop the connection unanswered
	code       string // error.code of an error answer
	retryAfter int    // seconds; 0: no header
	delay      time.Duration
	replayed   bool
}

// script serves its steps in order, one per request, and records the
// Idempotency-Key of each. It stands for the network and the service's
// answers, so the retry loop can be driven through every path quickly;
// the routes themselves are tested against the real service (routes_test.go).
type script struct {
	mu    sync.Mutex
	steps []step
	keys  []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
	n := len(s.keys)
	st := step{status: 500, code: "script_exhausted"}
	if len(s.steps) > 0 {
		st, s.steps = s.steps[0], s.steps[1:]
	}
	s.mu.Unlock()
	select {
	case <-time.After(st.delay):
	case <-r.Context().Done():
		return
	}
	if st.status == 0 {
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	w.Header().Set("X-Request-Id", "req_"+strconv.Itoa(n))
	if st.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(st.retryAfter))
	}
	if st.replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(st.status)
	if st.status < 300 {
		_, _ = w.Write([]byte(`{"id":"re_1","payment_id":"pay_1","amount":100,"reason":"duplicate","status":"succeeded"}`))
		return
	}
	_, _ = w.Write([]byte(`{"error":{"type":"some_error","code":"` + st.code + `","param":"amount","message":"scripted"}}`))
}

// sent returns the keys of the requests received so far.
func (s *script) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

func TestCallRetries(t *testing.T) {
	t.Parallel()
	fast := client.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxAttempts: 4, AttemptTimeout: 200 * time.Millisecond}
	tests := []struct {
		name     string
		steps    []step
		deadline time.Duration
		opts     []client.CallOption
		wantOK   bool
		wantErr  string // "error" (*Error), "no_answer" (*NoAnswerError) or ""
		status   int    // of the *Error
		attempts int
		minTime  time.Duration
		maxTime  time.Duration
	}{
		{name: "transient answers, then the replay", steps: []step{{}, {status: 503, code: "service_unavailable"},
			{status: 409, code: "idempotency_key_in_use"}, {status: 201, replayed: true}}, wantOK: true, attempts: 4},
		{name: "a refusal is final", steps: []step{{status: 422, code: "invalid_amount"}}, wantErr: "error", status: 422, attempts: 1},
		{name: "a conflict of state is final", steps: []step{{status: 409, code: "payment_intent_unexpected_state"}}, wantErr: "error", status: 409, attempts: 1},
		{name: "out of attempts on a transient answer", steps: []step{{status: 429}, {status: 429}, {status: 429}, {status: 429}, {status: 201}},
			wantErr: "error", status: 429, attempts: 4},
		{name: "out of attempts without an answer", steps: []step{{}, {}, {}, {}}, wantErr: "no_answer", attempts: 4},
		{name: "a slow attempt times out and is retried", steps: []step{{status: 201, delay: time.Second}, {status: 201}}, wantOK: true, attempts: 2,
			maxTime: 900 * time.Millisecond},
		{name: "retry-after is honoured", steps: []step{{status: 503, retryAfter: 1}, {status: 201}}, wantOK: true, attempts: 2,
			minTime: time.Second},
		{name: "a retry-after past the deadline ends the call at once", steps: []step{{status: 503, retryAfter: 5}, {status: 201}},
			deadline: time.Second, wantErr: "error", status: 503, attempts: 1, maxTime: 500 * time.Millisecond},
		{name: "sent once", steps: []step{{status: 503}, {status: 201}}, opts: []client.CallOption{client.WithPolicy(client.RetryPolicy{MaxAttempts: 1})},
			wantErr: "error", status: 503, attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc := &script{steps: tt.steps}
			srv := httptest.NewServer(sc)
			t.Cleanup(srv.Close)
			var seen []client.Attempt
			c, err := client.New(srv.URL, client.WithAPIKey("k"), client.WithRetryPolicy(fast),
				client.WithObserver(func(a client.Attempt) { seen = append(seen, a) }))
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			began := time.Now()
			r, err := c.CreateRefund(ctx, client.RefundParams{PaymentID: "pay_1", Amount: 100, Reason: "duplicate"}, tt.opts...)
			took := time.Since(began)

			var apiErr *client.Error
			var noAnswer *client.NoAnswerError
			switch {
			case tt.wantOK:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if r.ID != "re_1" || r.Response.Attempts != tt.attempts || r.Response.Replayed != tt.steps[len(tt.steps)-1].replayed {
					t.Fatalf("refund %+v", r)
				}
			case tt.wantErr == "error":
				if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.Attempts != tt.attempts {
					t.Fatalf("err = %#v, want *Error %d after %d attempts", err, tt.status, tt.attempts)
				}
				if apiErr.RequestID == "" || apiErr.Param != "amount" || apiErr.Type != "some_error" || apiErr.IdempotencyKey == "" {
					t.Fatalf("error fields: %+v", apiErr)
				}
			case tt.wantErr == "no_answer":
				if !errors.As(err, &noAnswer) || noAnswer.Attempts != tt.attempts || !client.IsRetryable(err) {
					t.Fatalf("err = %#v, want *NoAnswerError after %d attempts", err, tt.attempts)
				}
			}
			keys := sc.sent()
			if len(keys) != tt.attempts || len(seen) != tt.attempts {
				t.Fatalf("server saw %d attempts, observer %d; want %d", len(keys), len(seen), tt.attempts)
			}
			for i, k := range keys {
				if k == "" || k != keys[0] {
					t.Fatalf("attempt %d sent key %q, the first %q: one key per call", i+1, k, keys[0])
				}
			}
			for i, a := range seen {
				if a.N != i+1 || a.Last != (i == len(seen)-1) || a.IdempotencyKey != keys[0] {
					t.Fatalf("attempt %d observed as %+v", i+1, a)
				}
			}
			if took < tt.minTime || (tt.maxTime > 0 && took > tt.maxTime) {
				t.Fatalf("took %s, want within [%s, %s]", took, tt.minTime, tt.maxTime)
			}
		})
	}
}

func TestCallerKeyAndContext(t *testing.T) {
	t.Parallel()
	sc := &script{steps: []step{{}, {status: 201}}}
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)
	c, _ := client.New(srv.URL, client.WithRetryPolicy(client.RetryPolicy{BaseDelay: time.Millisecond}))
	if _, err := c.CreateRefund(t.Context(), client.RefundParams{PaymentID: "p", Reason: "duplicate"}, client.IdempotencyKey("my-key")); err != nil {
		t.Fatal(err)
	}
	if keys := sc.sent(); len(keys) != 2 || keys[0] != "my-key" || keys[1] != "my-key" {
		t.Fatalf("keys sent: %q", keys)
	}

	// A context that ends is reported as such, not as the service's silence.
	sc = &script{steps: []step{{status: 201, delay: time.Second}}}
	srv2 := httptest.NewServer(sc)
	t.Cleanup(srv2.Close)
	c, _ = client.New(srv2.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := c.CreateRefund(ctx, client.RefundParams{PaymentID: "p", Reason: "duplicate"})
	var na *client.NoAnswerError
	if !errors.As(err, &na) || !errors.Is(err, context.DeadlineExceeded) || na.IdempotencyKey == "" {
		t.Fatalf("err = %v, want a NoAnswerError wrapping the deadline", err)
	}
}

func TestNewRefusesBadBaseURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "localhost:3000", "ftp://h", "http://", "http://h/?q=1", "http://h/#f"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	c, err := client.New("http://h:1/prefix/")
	if err != nil || c.BaseURL() != "http://h:1/prefix" {
		t.Errorf("New with a prefix: %v, %v", c, err)
	}
}
