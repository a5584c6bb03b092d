package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// AllEvents, in EnabledEvents, subscribes an endpoint to every event type.
const AllEvents = "*"

// WebhookEndpoint is a URL the service POSTs events to, each signed with
// the endpoint's secret.
type WebhookEndpoint struct {
	ID            string   `json:"id"`     // we_…
	Object        string   `json:"object"` // "webhook_endpoint"
	URL           string   `json:"url"`
	EnabledEvents []string `json:"enabled_events"` // Event constants, or AllEvents
	// Secret verifies the endpoint's deliveries (VerifyWebhook). Only the
	// result of CreateWebhookEndpoint has it, replays of that call
	// included; Get and List leave it "".
	Secret  string    `json:"secret"`
	Created time.Time `json:"created"`

	Response Response `json:"-"`
}

// WebhookEndpointParams is a new webhook endpoint.
type WebhookEndpointParams struct {
	// URL: http or https, with a host, without a user name or password.
	// A link-local or cloud-metadata address is refused (CodeURLHostRefused)
	// unless the service runs with WEBHOOK_ALLOW_ALL_HOSTS; loopback and
	// private networks are allowed.
	URL           string   `json:"url"`
	EnabledEvents []string `json:"enabled_events"` // 1 to 32 Event constants, or AllEvents
}

// CreateWebhookEndpoint creates an endpoint, once per Idempotency-Key, and
// returns it with its signing secret: keep the secret now, the service
// shows it nowhere else. A retry of the call, or a later call with
// IdempotencyKey(key), replays the same endpoint and secret. A URL the
// service refuses is an *Error with Param "url" and Code CodeInvalidURL or
// CodeURLHostRefused (HTTP 422, never retried).
func (c *Client) CreateWebhookEndpoint(ctx context.Context, p WebhookEndpointParams, opts ...CallOption) (*WebhookEndpoint, error) {
	return c.endpoint(ctx, request{method: http.MethodPost, path: "/webhook_endpoints", body: p}, opts)
}

// GetWebhookEndpoint returns one endpoint, without its secret.
func (c *Client) GetWebhookEndpoint(ctx context.Context, id string, opts ...CallOption) (*WebhookEndpoint, error) {
	return c.endpoint(ctx, request{method: http.MethodGet, path: endpointPath(id)}, opts)
}

func (c *Client) endpoint(ctx context.Context, req request, opts []CallOption) (*WebhookEndpoint, error) {
	return send[WebhookEndpoint](ctx, c, req, opts)
}

// WebhookEndpointList is every webhook endpoint, oldest first.
type WebhookEndpointList struct {
	Endpoints []WebhookEndpoint `json:"webhook_endpoints"` // without secrets

	Response Response `json:"-"`
}

// ListWebhookEndpoints returns every endpoint, oldest first, without
// secrets. The list is not paged.
func (c *Client) ListWebhookEndpoints(ctx context.Context, opts ...CallOption) (*WebhookEndpointList, error) {
	return send[WebhookEndpointList](ctx, c, request{method: http.MethodGet, path: "/webhook_endpoints"}, opts)
}

// DeletedWebhookEndpoint is the answer to a delete.
type DeletedWebhookEndpoint struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "webhook_endpoint"
	Deleted bool   `json:"deleted"`

	Response Response `json:"-"`
}

// DeleteWebhookEndpoint deletes an endpoint; its pending deliveries are
// given up (endpoint_deleted). Deleting is idempotent by nature, so the
// call sends no Idempotency-Key, and retries as a read does. An endpoint
// that does not exist, or no longer, is an *Error with Code
// CodeResourceMissing (HTTP 404). With Attempts > 1, an earlier attempt of
// the same call may have deleted it and lost the answer: either way the
// endpoint is gone.
func (c *Client) DeleteWebhookEndpoint(ctx context.Context, id string, opts ...CallOption) (*DeletedWebhookEndpoint, error) {
	return send[DeletedWebhookEndpoint](ctx, c, request{method: http.MethodDelete, path: endpointPath(id)}, opts)
}

// Webhook delivery statuses: pending until an attempt gets a 2xx
// (succeeded) or the attempts run out (failed).
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one event sent to one endpoint, with its attempts.
type WebhookDelivery struct {
	ID         string `json:"id"`     // whd_…
	Object     string `json:"object"` // "webhook_delivery"
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	EndpointID string `json:"endpoint_id"`
	Redelivery bool   `json:"redelivery"` // queued by RedeliverEvent
	Status     string `json:"status"`     // DeliveryPending, DeliverySucceeded or DeliveryFailed
	// Attempts, oldest first: each POST to the endpoint, or each simulated
	// failure of a drill's WebhookFaults.
	Attempts      []WebhookAttempt `json:"attempts"`
	NextAttemptAt *time.Time       `json:"next_attempt_at"` // nil once succeeded or failed
	Created       time.Time        `json:"created"`
	Updated       time.Time        `json:"updated"`
}

// WebhookAttempt is one try at a delivery.
type WebhookAttempt struct {
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"` // the endpoint's answer; nil if none came
	LatencyMs  int64     `json:"latency_ms"`
	// Error is nil on success, else why the attempt failed: timeout,
	// simulated_timeout, connection_error, refused_address, http_status,
	// endpoint_deleted or event_missing.
	Error      *string `json:"error"`
	Simulated  bool    `json:"simulated"`  // WebhookFaults.FailRate: nothing was sent
	Duplicated bool    `json:"duplicated"` // WebhookFaults.DuplicateRate: the request was sent twice
	Forged     bool    `json:"forged"`     // WebhookFaults.ForgedRate: a copy with an invalid signature was sent too
}

// ListWebhookDeliveriesParams pages an endpoint's deliveries; zero fields
// are left out.
type ListWebhookDeliveriesParams struct {
	Limit         int    // 1 to 100; the service's default is 20
	StartingAfter string // a delivery id: the page after it
}

// WebhookDeliveryList is a page of an endpoint's deliveries, newest first.
type WebhookDeliveryList struct {
	Deliveries []WebhookDelivery `json:"deliveries"`
	HasMore    bool              `json:"has_more"`

	Response Response `json:"-"`
}

// ListWebhookDeliveries returns a page of the endpoint's deliveries, newest
// first, each with every attempt. For the next page, set StartingAfter to
// the last delivery's ID while HasMore is true. An unknown endpoint is an
// *Error with Code CodeResourceMissing.
func (c *Client) ListWebhookDeliveries(ctx context.Context, endpointID string, p ListWebhookDeliveriesParams, opts ...CallOption) (*WebhookDeliveryList, error) {
	path := listPath(endpointPath(endpointID)+"/deliveries", p.Limit, map[string]string{"starting_after": p.StartingAfter})
	return send[WebhookDeliveryList](ctx, c, request{method: http.MethodGet, path: path}, opts)
}

func endpointPath(id string) string { return "/webhook_endpoints/" + url.PathEscape(id) }

// VerifyWebhook checks that a delivery's body was signed with the
// endpoint's secret and returns its event. The service signs as Standard
// Webhooks asks: header carries webhook-id (the event's ID, the same on
// every attempt, duplicate and redelivery), webhook-timestamp (refused
// when more than 5 minutes off) and webhook-signature. Pass the body
// exactly as read.
//
// Verify before anything else, so that a forged copy cannot mark the
// genuine event as seen; then de-duplicate by the event's ID, and keep the
// highest Sequence per ObjectID. An error means: answer 4xx and do nothing.
func VerifyWebhook(secret string, header http.Header, body []byte) (*Event, error) {
	if strings.TrimPrefix(secret, "whsec_") == "" {
		// An empty key would accept whatever anyone signs with it.
		return nil, errors.New("client: VerifyWebhook: no secret")
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("client: VerifyWebhook: the secret is not whsec_ and base64: %w", err)
	}
	if err := wh.Verify(body, header); err != nil {
		return nil, fmt.Errorf("client: VerifyWebhook: %w", err)
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("client: VerifyWebhook: the body is not an event: %w", err)
	}
	return &ev, nil
}

func (e *WebhookEndpoint) setResponse(r Response)        { e.Response = r }
func (l *WebhookEndpointList) setResponse(r Response)    { l.Response = r }
func (d *DeletedWebhookEndpoint) setResponse(r Response) { d.Response = r }
func (l *WebhookDeliveryList) setResponse(r Response)    { l.Response = r }
