package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/idempotency"
)

// recoveryKey marks a request that the completer sends on behalf of a
// client that gave up. Only code in this process can set a context value,
// so no client can claim to be the completer.
type recoveryKey struct{}

// isRecovery reports whether the request is the completer's.
func isRecovery(c *gin.Context) bool {
	_, ok := recoveryPrincipal(c)
	return ok
}

// recoveryPrincipal returns the principal the completer acts for.
func recoveryPrincipal(c *gin.Context) (string, bool) {
	p, ok := c.Request.Context().Value(recoveryKey{}).(string)
	return p, ok
}

// Recover sends the stored copy of an abandoned request through handler
// (the one New returned) exactly as its client's retry would: same method,
// URI, body and Idempotency-Key, as the same principal. The idempotency
// layer then takes the record over, finishes the operation under the same
// resource id and stores the response, which a later retry gets replayed.
// It returns the status the client would have seen.
func Recover(ctx context.Context, handler http.Handler, rec idempotency.Record) (status int, err error) {
	if rec.Request.URI == "" {
		return 0, fmt.Errorf("record %s holds no stored request (written by an older version)", rec.ID)
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, recoveryKey{}, rec.Request.Principal),
		rec.Scope.Method, rec.Request.URI, bytes.NewReader(rec.Request.Body))
	if err != nil {
		return 0, fmt.Errorf("record %s: stored request: %w", rec.ID, err)
	}
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("Idempotency-Key", rec.Scope.Key)
	if len(rec.Request.Body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	defer func() {
		// A crash point armed for a drill panics; the process is meant to
		// die there, which os.Exit does, but a test's panic must not take
		// the completer down.
		if p := recover(); p != nil {
			err = fmt.Errorf("record %s: recovery panicked: %v", rec.ID, p)
		}
	}()
	rw := &statusRecorder{header: http.Header{}}
	handler.ServeHTTP(rw, req)
	return rw.status, nil
}

// statusRecorder keeps the status of a response and drops its body: the
// response that matters is the one the idempotency layer stored.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header { return r.header }

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
