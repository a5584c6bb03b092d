package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Health is the service's own view of itself.
type Health struct {
	Status string    `json:"status"` // "ok", or "degraded" when its store does not answer
	Time   time.Time `json:"time"`
	Mongo  string    `json:"mongo"` // "up" or "down"

	Response Response `json:"-"`
}

// Health asks GET /health once, without retries: it is a probe. A degraded
// service (503) is a Health with Status "degraded", not an error; an error
// means no answer, or not a health answer.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	once := []CallOption{WithPolicy(RetryPolicy{MaxAttempts: 1})}
	h, err := send[Health](ctx, c, request{method: http.MethodGet, path: "/health"}, once)
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusServiceUnavailable {
		h = &Health{Status: "degraded", Mongo: "down"}
		_ = json.Unmarshal(e.body, h)
		h.Response = Response{StatusCode: e.StatusCode, RequestID: e.RequestID, Attempts: 1}
		return h, nil
	}
	return h, err
}

func (h *Health) setResponse(r Response) { h.Response = r }
