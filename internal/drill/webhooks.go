package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// WebhookFaults are the delivery faults a drill asks the service for, as
// POST /admin/webhook-faults takes them.
type WebhookFaults struct {
	DuplicateRate   float64 `json:"duplicateRate"`
	DelayMs         int     `json:"delayMs"`
	JitterMs        int     `json:"jitterMs"`
	ReorderWindowMs int     `json:"reorderWindowMs"`
	FailRate        float64 `json:"failRate"`
	ForgedRate      float64 `json:"forgedRate"`
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

// register creates the consumer's endpoint for every event type, and sets
// the delivery faults when adminKey is given.
func (c *consumer) register(ctx context.Context, base, apiKey, adminKey, runID string, faults *WebhookFaults) error {
	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	body := map[string]any{"url": c.url, "enabled_events": []string{"*"}}
	if err := post(ctx, base+"/webhook_endpoints", apiKey, runID+"-webhook-endpoint", body, &ep); err != nil {
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
		if err := post(ctx, base+"/admin/webhook-faults", adminKey, runID+"-webhook-faults", faults, nil); err != nil {
			// No run follows: leave no endpoint behind for the service to
			// retry against a port nobody will listen on.
			c.unregister(context.WithoutCancel(ctx), base, apiKey)
			return fmt.Errorf("set the webhook faults: %w", err)
		}
	}
	return nil
}

// unregister deletes the endpoint, so that later runs do not deliver to a
// port nobody listens on.
func (c *consumer) unregister(ctx context.Context, base, apiKey string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base+"/webhook_endpoints/"+c.endpointID, nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// post sends one JSON write, retrying with the same key until it gets a 2xx
// or a refusal, for at most 30 s.
func post(ctx context.Context, url, key, idemKey string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", idemKey)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			switch {
			case resp.StatusCode/100 == 2:
				if out == nil {
					return nil
				}
				return json.Unmarshal(data, out)
			case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusTooManyRequests:
				return fmt.Errorf("%s: %d %s", url, resp.StatusCode, strings.TrimSpace(string(data)))
			}
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
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
