package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// logEngine serves one route through requestID and logRequests, logging
// through h (nil: without logRequests). The route behaves as a write that went through the
// idempotency layer; with fail, it records an error as writeError does.
func logEngine(h slog.Handler, fail bool) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(requestID())
	if h != nil {
		a := &api{log: slog.New(h)}
		r.Use(a.logRequests())
	}
	r.POST("/orders", func(c *gin.Context) {
		c.Set(ctxIdempotencyKey, "key-1")
		c.Set(ctxReplayed, true)
		if fail {
			_ = c.Error(errors.New("store down"))
		}
		c.Data(http.StatusCreated, jsonContentType, []byte(`{}`))
	})
	return r
}

// TestRequestLogLine checks the one line logged per request: its fields
// and its level.
func TestRequestLogLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fail      bool
		wantLevel string
		wantErr   any
	}{
		{name: "ok", wantLevel: "INFO", wantErr: nil},
		{name: "error", fail: true, wantLevel: "ERROR", wantErr: "store down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			r := logEngine(slog.NewJSONHandler(&buf, nil), tc.fail)
			req := httptest.NewRequest("POST", "/orders", nil)
			req.Header.Set("X-Request-Id", "req-abc")
			r.ServeHTTP(httptest.NewRecorder(), req)

			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("not one JSON line: %v: %q", err, buf.String())
			}
			want := map[string]any{
				"level": tc.wantLevel, "msg": "request", "request_id": "req-abc", "method": "POST",
				"path": "/orders", "status": float64(201), "idempotency_key": "key-1", "replayed": true,
				"err": tc.wantErr,
			}
			for k, v := range want {
				if line[k] != v {
					t.Errorf("%s = %#v, want %#v (line %s)", k, line[k], v, buf.String())
				}
			}
			if _, ok := line["latency_ms"].(float64); !ok {
				t.Errorf("latency_ms missing or not a number: %s", buf.String())
			}
		})
	}
}
