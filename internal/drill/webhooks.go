package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	payclient "github.com/reliabledemo/payments/client"
)

// WebhookFaults are the delivery faults a drill asks the service for, as
// payclient.WebhookFaults describes them.
type WebhookFaults struct {
	DuplicateRate   float64
	DelayMs         int
	JitterMs        int
	ReorderWindowMs int
	FailRate        float64
	ForgedRate      float64
}

// patch sets every fault, zeros included: the drill's, not what an earlier
// run left.
func (f WebhookFaults) patch() payclient.WebhookFaultsPatch {
	return payclient.WebhookFaultsPatch{DuplicateRate: &f.DuplicateRate, DelayMs: &f.DelayMs, JitterMs: &f.JitterMs,
		ReorderWindowMs: &f.ReorderWindowMs, FailRate: &f.FailRate, ForgedRate: &f.ForgedRate}
}

// consumer is the drill's webhook endpoint: a consumer written as the
// README tells users to write theirs. It verifies each delivery with the
// Standard Webhooks library and rejects what does not verify, de-duplicates
// by event id, and keeps the latest state of each object by sequence, so
// that duplicated, reordered and late deliveries do not move it backwards.
type consumer struct {
	srv *http.Server
	url string

	mu         sync.Mutex
	verifier   *standardwebhooks.Webhook
	endpointID string
	seen       map[string]bool        // event ids accepted
	latest     map[string]objectState // by object id
	deliveries int                    // requests received
	duplicates int                    // accepted again: an event already seen
	stale      int                    // accepted, older than what was seen
	rejected   int                    // signature did not verify
}

// objectState is the consumer's view of one object.
type objectState struct {
	Sequence int64
	Type     string
	Status   string
}

// startConsumer listens on a loopback port.
func startConsumer() (*consumer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("webhook consumer: %w", err)
	}
	c := &consumer{url: "http://" + ln.Addr().String() + "/webhooks", seen: map[string]bool{}, latest: map[string]objectState{}}
	c.srv = &http.Server{Handler: http.HandlerFunc(c.receive), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

func (c *consumer) close() { _ = c.srv.Close() }

func (c *consumer) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deliveries++
	if err != nil || c.verifier == nil {
		http.Error(w, "unreadable", http.StatusBadRequest)
		return
	}
	if err := c.verifier.Verify(body, r.Header); err != nil {
		c.rejected++
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Sequence int64  `json:"sequence"`
		Data     struct {
			Object struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Data.Object.ID == "" {
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	if c.seen[ev.ID] {
		c.duplicates++
		w.WriteHeader(http.StatusOK) // acknowledged, so the service stops retrying
		return
	}
	c.seen[ev.ID] = true
	id := ev.Data.Object.ID
	if cur, ok := c.latest[id]; ok && cur.Sequence >= ev.Sequence {
		c.stale++
	} else {
		c.latest[id] = objectState{Sequence: ev.Sequence, Type: ev.Type, Status: ev.Data.Object.Status}
	}
	w.WriteHeader(http.StatusOK)
}

// setupTimeout bounds the registration of the consumer, and its removal:
// each call retries, with its one key, until the service answers.
const setupTimeout = 30 * time.Second

// register creates the consumer's endpoint for every event type, and sets
// the delivery faults when given (api then needs the admin key). The keys
// derive from the run id, so a retry after a lost answer gets the same
// endpoint and secret.
func (c *consumer) register(ctx context.Context, api *payclient.Client, runID string, faults *WebhookFaults) error {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	ep, err := api.CreateWebhookEndpoint(ctx, payclient.WebhookEndpointParams{URL: c.url, EnabledEvents: []string{payclient.AllEvents}},
		payclient.IdempotencyKey(runID+"-webhook-endpoint"))
	if err != nil {
		return fmt.Errorf("register the webhook consumer: %w", err)
	}
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	if err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}
	c.mu.Lock()
	c.verifier, c.endpointID = wh, ep.ID
	c.mu.Unlock()
	if faults != nil {
		if _, err := api.Admin().SetWebhookFaults(ctx, faults.patch(), payclient.IdempotencyKey(runID+"-webhook-faults")); err != nil {
			// No run follows: leave no endpoint behind for the service to
			// retry against a port nobody will listen on.
			c.unregister(context.WithoutCancel(ctx), api)
			return fmt.Errorf("set the webhook faults: %w", err)
		}
	}
	return nil
}

// unregister deletes the endpoint, so that later runs do not deliver to a
// port nobody listens on. It is best effort: the drill's outcome does not
// depend on it.
func (c *consumer) unregister(ctx context.Context, api *payclient.Client) {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	_, _ = api.DeleteWebhookEndpoint(ctx, c.endpointID)
}

// webhookView is what the consumer ended with, for the checks.
type webhookView struct {
	seen       map[string]bool
	latest     map[string]objectState
	deliveries int
	duplicates int
	stale      int
	rejected   int
}

func (c *consumer) view() webhookView {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := webhookView{seen: map[string]bool{}, latest: map[string]objectState{}, deliveries: c.deliveries,
		duplicates: c.duplicates, stale: c.stale, rejected: c.rejected}
	for k := range c.seen {
		v.seen[k] = true
	}
	for k, s := range c.latest {
		v.latest[k] = s
	}
	return v
}

// endpointSettle is how long a new endpoint takes to be known to every
// instance: they reload endpoints once a second.
const endpointSettle = 2 * time.Second

// awaitDeliveries waits until the consumer has every event of the run's
// finished objects, or wait has passed: deliveries are retried with
// backoff, held back by the reorder window, and leased by instances that
// may have been killed.
func awaitDeliveries(ctx context.Context, db *mongo.Database, prefix string, results []Result, c *consumer, wait time.Duration, stderr io.Writer) {
	deadline := time.Now().Add(wait)
	for {
		s, err := load(ctx, db, prefix, results)
		n := -1
		if err == nil {
			n = undelivered(s, c.view())
			if n == 0 {
				return
			}
		}
		if time.Now().After(deadline) || !sleep(ctx, time.Second) {
			fmt.Fprintf(stderr, "drill: %d events still undelivered after the webhook wait (%s)\n", n, wait)
			return
		}
	}
}

// forgedSent counts the forged copies the service recorded sending to the
// endpoint, from its delivery records.
func forgedSent(ctx context.Context, db *mongo.Database, endpointID string) (int, error) {
	var docs []struct {
		Attempts []struct {
			Forged bool `bson:"forged"`
		} `bson:"attempts"`
	}
	if err := find(ctx, db, "webhook_deliveries", bson.M{"endpointId": endpointID}, &docs); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range docs {
		for _, a := range d.Attempts {
			if a.Forged {
				n++
			}
		}
	}
	return n, nil
}
