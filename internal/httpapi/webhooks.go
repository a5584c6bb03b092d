package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
)

// Webhooks manages webhook endpoints, their deliveries and the delivery
// faults (webhooks.Dispatcher).
type Webhooks interface {
	CreateEndpoint(ctx context.Context, resourceID string, in domain.NewWebhookEndpoint) (domain.WebhookEndpoint, error)
	Endpoint(ctx context.Context, id string) (domain.WebhookEndpoint, error)
	Endpoints(ctx context.Context) ([]domain.WebhookEndpoint, error)
	DeleteEndpoint(ctx context.Context, id string) error
	Deliveries(ctx context.Context, f domain.DeliveryFilter) ([]domain.WebhookDelivery, bool, error)
	Redeliver(ctx context.Context, resourceID, eventID string) ([]domain.WebhookDelivery, error)
	Faults() domain.WebhookFaults
	UpdateFaults(ctx context.Context, p domain.WebhookFaultsPatch) (domain.WebhookFaults, error)
}

type endpointJSON struct {
	ID            string    `json:"id"`
	Object        string    `json:"object"`
	URL           string    `json:"url"`
	EnabledEvents []string  `json:"enabled_events"`
	Secret        string    `json:"secret,omitempty"` // only in the response that creates it
	Created       time.Time `json:"created"`
}

// toEndpointJSON leaves the secret out: it is shown once, on creation.
func toEndpointJSON(e domain.WebhookEndpoint) endpointJSON {
	return endpointJSON{ID: e.ID, Object: "webhook_endpoint", URL: e.URL, EnabledEvents: e.EnabledEvents, Created: e.Created}
}

type attemptJSON struct {
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"` // null: no response
	LatencyMs  int64     `json:"latency_ms"`
	Error      *string   `json:"error"` // null: succeeded
	Simulated  bool      `json:"simulated"`
	Duplicated bool      `json:"duplicated"`
	Forged     bool      `json:"forged"`
}

type deliveryJSON struct {
	ID            string        `json:"id"`
	Object        string        `json:"object"`
	EventID       string        `json:"event_id"`
	EventType     string        `json:"event_type"`
	EndpointID    string        `json:"endpoint_id"`
	Redelivery    bool          `json:"redelivery"`
	Status        string        `json:"status"`
	Attempts      []attemptJSON `json:"attempts"`
	NextAttemptAt *time.Time    `json:"next_attempt_at"` // null once final
	Created       time.Time     `json:"created"`
	Updated       time.Time     `json:"updated"`
}

func toDeliveryJSON(d domain.WebhookDelivery) deliveryJSON {
	j := deliveryJSON{ID: d.ID, Object: "webhook_delivery", EventID: d.EventID, EventType: string(d.EventType), EndpointID: d.EndpointID,
		Redelivery: d.Redelivery, Status: string(d.Status), Attempts: make([]attemptJSON, len(d.Attempts)), Created: d.Created, Updated: d.Updated}
	if !d.Status.Final() {
		next := d.NextAttemptAt
		j.NextAttemptAt = &next
	}
	for i, a := range d.Attempts {
		aj := attemptJSON{At: a.At, LatencyMs: a.Latency.Milliseconds(), Simulated: a.Simulated, Duplicated: a.Duplicated, Forged: a.Forged}
		if a.StatusCode != 0 {
			code := a.StatusCode
			aj.StatusCode = &code
		}
		if a.Error != "" {
			e := a.Error
			aj.Error = &e
		}
		j.Attempts[i] = aj
	}
	return j
}

func decodeNewEndpoint(o object, allowAllHosts bool) (domain.NewWebhookEndpoint, error) {
	var in domain.NewWebhookEndpoint
	if err := o.allow("url", "enabled_events"); err != nil {
		return in, err
	}
	var err error
	if in.URL, err = o.str("url"); err != nil {
		return in, err
	}
	if o.present("enabled_events") {
		if err := json.Unmarshal(o["enabled_events"], &in.EnabledEvents); err != nil {
			return in, typeError("enabled_events", "an array of event types")
		}
	}
	return in, in.Validate(allowAllHosts)
}

func (a *api) createEndpoint(c *gin.Context) {
	w, ok := a.beginWrite(c)
	if !ok {
		return
	}
	in, err := decodeNewEndpoint(w.body, a.cfg.WebhookAllowAllHosts)
	if err != nil {
		writeError(c, err)
		return
	}
	a.runWrite(c, w, principal(c), respond(func(ctx context.Context, rid string) (int, any, error) {
		e, err := a.cfg.Webhooks.CreateEndpoint(ctx, rid, in)
		j := toEndpointJSON(e)
		j.Secret = e.Secret
		return http.StatusCreated, j, err
	}))
}

func (a *api) listEndpoints(c *gin.Context) {
	eps, err := a.cfg.Webhooks.Endpoints(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]endpointJSON, len(eps))
	for i, e := range eps {
		out[i] = toEndpointJSON(e)
	}
	c.JSON(http.StatusOK, gin.H{"webhook_endpoints": out})
}

func (a *api) getEndpoint(c *gin.Context) {
	e, err := a.cfg.Webhooks.Endpoint(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toEndpointJSON(e))
}

// deleteEndpoint needs no Idempotency-Key: deleting is idempotent by
// nature, and a repeated delete answers 404.
func (a *api) deleteEndpoint(c *gin.Context) {
	id := c.Param("id")
	if err := a.cfg.Webhooks.DeleteEndpoint(c.Request.Context(), id); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": id, "object": "webhook_endpoint", "deleted": true})
}

func (a *api) listDeliveries(c *gin.Context) {
	f := domain.DeliveryFilter{EndpointID: c.Param("id"), StartingAfter: c.Query("starting_after")}
	f.Limit = limitParam(c)
	ds, more, err := a.cfg.Webhooks.Deliveries(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = toDeliveryJSON(d)
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": out, "has_more": more})
}

func (a *api) redeliverEvent(c *gin.Context) {
	w, ok := a.beginWrite(c)
	if !ok {
		return
	}
	if err := w.body.allow(); err != nil {
		writeError(c, err)
		return
	}
	eventID := c.Param("id")
	a.runWrite(c, w, principal(c), respond(func(ctx context.Context, rid string) (int, any, error) {
		ds, err := a.cfg.Webhooks.Redeliver(ctx, rid, eventID)
		out := make([]deliveryJSON, len(ds))
		for i, d := range ds {
			out[i] = toDeliveryJSON(d)
		}
		return http.StatusAccepted, gin.H{"event_id": eventID, "deliveries": out}, err
	}))
}
