package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/domain"
)

// Webhook collections. Deliveries are split like intent jobs: the records,
// with every attempt, grow with the history; the queue holds only pending
// work, so a claim (which FerretDB answers by reading the whole collection)
// stays cheap.
const (
	WebhookEndpointsCollection  = "webhook_endpoints"
	WebhookDeliveriesCollection = "webhook_deliveries"
	WebhookQueueCollection      = "webhook_queue"
)

type endpointDoc struct {
	ID            string    `bson:"_id"`
	URL           string    `bson:"url"`
	EnabledEvents []string  `bson:"enabledEvents"`
	Secret        string    `bson:"secret"`
	CreatedAt     time.Time `bson:"createdAt"`
}

func (d endpointDoc) toDomain() domain.WebhookEndpoint {
	return domain.WebhookEndpoint{ID: d.ID, URL: d.URL, EnabledEvents: d.EnabledEvents, Secret: d.Secret, Created: d.CreatedAt.UTC()}
}

// InsertWebhookEndpoint stores e unless an endpoint with its id exists, and
// returns the stored one: a request retried after a crash gets the endpoint
// (and secret) its first attempt created.
func (s *Store) InsertWebhookEndpoint(ctx context.Context, e domain.WebhookEndpoint) (domain.WebhookEndpoint, error) {
	var d endpointDoc
	_, err := upsertFirst(ctx, s.db.Collection(WebhookEndpointsCollection), e.ID, bson.M{
		"url": e.URL, "enabledEvents": e.EnabledEvents, "secret": e.Secret, "createdAt": e.Created,
	}, options.After, &d)
	if err != nil {
		return domain.WebhookEndpoint{}, err
	}
	return d.toDomain(), nil
}

// GetWebhookEndpoint returns one endpoint, or domain.ErrNotFound.
func (s *Store) GetWebhookEndpoint(ctx context.Context, id string) (domain.WebhookEndpoint, error) {
	var d endpointDoc
	if err := s.db.Collection(WebhookEndpointsCollection).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return domain.WebhookEndpoint{}, translate(err)
	}
	return d.toDomain(), nil
}

// ListWebhookEndpoints returns every endpoint, oldest first. There are few;
// each instance reads them all about once a second into its cache.
func (s *Store) ListWebhookEndpoints(ctx context.Context) ([]domain.WebhookEndpoint, error) {
	cur, err := s.db.Collection(WebhookEndpointsCollection).Find(ctx, bson.M{},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate(err)
	}
	var docs []endpointDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(err)
	}
	out := make([]domain.WebhookEndpoint, len(docs))
	for i, d := range docs {
		out[i] = d.toDomain()
	}
	return out, nil
}

// DeleteWebhookEndpoint removes an endpoint; false if there was none. Its
// pending deliveries are given up by the worker when it next meets them.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string) (bool, error) {
	res, err := s.db.Collection(WebhookEndpointsCollection).DeleteOne(ctx, bson.M{"_id": id})
	if err != nil {
		return false, translate(err)
	}
	return res.DeletedCount == 1, nil
}

type attemptDoc struct {
	At         time.Time `bson:"at"`
	StatusCode int       `bson:"statusCode"`
	LatencyMs  int64     `bson:"latencyMs"`
	Error      string    `bson:"error,omitempty"`
	Simulated  bool      `bson:"simulated,omitempty"`
	Duplicated bool      `bson:"duplicated,omitempty"`
	Forged     bool      `bson:"forged,omitempty"`
}

// deliveryDoc is a delivery record. attemptCount mirrors len(attempts) so
// that recording an attempt can be conditional on it without $expr.
type deliveryDoc struct {
	ID            string       `bson:"_id"`
	EventID       string       `bson:"eventId"`
	EventType     string       `bson:"eventType"`
	EndpointID    string       `bson:"endpointId"`
	Redelivery    bool         `bson:"redelivery"`
	Status        string       `bson:"status"`
	Attempts      []attemptDoc `bson:"attempts"`
	AttemptCount  int          `bson:"attemptCount"`
	NextAttemptAt time.Time    `bson:"nextAttemptAt"`
	CreatedAt     time.Time    `bson:"createdAt"`
	UpdatedAt     time.Time    `bson:"updatedAt"`
}

func (d deliveryDoc) toDomain() domain.WebhookDelivery {
	w := domain.WebhookDelivery{ID: d.ID, EventID: d.EventID, EventType: domain.EventType(d.EventType), EndpointID: d.EndpointID,
		Redelivery: d.Redelivery, Status: domain.DeliveryStatus(d.Status), NextAttemptAt: d.NextAttemptAt.UTC(),
		Created: d.CreatedAt.UTC(), Updated: d.UpdatedAt.UTC(), Attempts: make([]domain.DeliveryAttempt, len(d.Attempts))}
	for i, a := range d.Attempts {
		w.Attempts[i] = domain.DeliveryAttempt{At: a.At.UTC(), StatusCode: a.StatusCode, Latency: time.Duration(a.LatencyMs) * time.Millisecond,
			Error: a.Error, Simulated: a.Simulated, Duplicated: a.Duplicated, Forged: a.Forged}
	}
	return w
}

// QueueDelivery records d as pending, due at availableAt, unless it is
// recorded already, and puts it in the queue unless it is final: repeating
// it is harmless. The record is written first, so a queue entry always has
// its record; a crash between the two leaves a pending record that the next
// QueueDelivery of it (the publisher re-drives events) queues.
func (s *Store) QueueDelivery(ctx context.Context, d domain.WebhookDelivery, availableAt time.Time) error {
	var prev struct {
		Status string `bson:"status"`
	}
	found, err := upsertFirst(ctx, s.db.Collection(WebhookDeliveriesCollection), d.ID, bson.M{
		"eventId": d.EventID, "eventType": string(d.EventType), "endpointId": d.EndpointID, "redelivery": d.Redelivery,
		"status": string(domain.DeliveryPending), "attempts": bson.A{}, "attemptCount": 0,
		"nextAttemptAt": availableAt, "createdAt": d.Created, "updatedAt": d.Created,
	}, options.Before, &prev)
	if err != nil {
		return err
	}
	if found && domain.DeliveryStatus(prev.Status).Final() {
		return nil
	}
	_, err = s.deliveryQueue().enqueue(ctx, d.ID, availableAt, bson.M{"createdAt": d.Created})
	return err
}

func (s *Store) deliveryQueue() leaseQueue {
	return leaseQueue{s.db.Collection(WebhookQueueCollection)}
}

// ClaimDelivery leases the queued delivery due longest to owner until
// leaseUntil, and returns its id, or "" if none is due. As with intent jobs,
// availableAt is both the due time and the lease.
func (s *Store) ClaimDelivery(ctx context.Context, owner string, now, leaseUntil time.Time) (string, error) {
	var d struct {
		ID string `bson:"_id"`
	}
	if ok, err := s.deliveryQueue().claim(ctx, owner, now, leaseUntil, nil, &d); !ok || err != nil {
		return "", err
	}
	return d.ID, nil
}

// GetDelivery returns one delivery record, or domain.ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (domain.WebhookDelivery, error) {
	var d deliveryDoc
	if err := s.db.Collection(WebhookDeliveriesCollection).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return domain.WebhookDelivery{}, translate(err)
	}
	return d.toDomain(), nil
}

// RecordAttempt appends attempt a to a delivery that is still pending with
// exactly `before` attempts, and sets its status and next due time, in one
// conditional update. false means another worker recorded this attempt
// first (this one's lease ran out), and nothing changed.
func (s *Store) RecordAttempt(ctx context.Context, id string, before int, a domain.DeliveryAttempt, status domain.DeliveryStatus, next, now time.Time) (bool, error) {
	doc := attemptDoc{At: a.At, StatusCode: a.StatusCode, LatencyMs: a.Latency.Milliseconds(), Error: a.Error,
		Simulated: a.Simulated, Duplicated: a.Duplicated, Forged: a.Forged}
	res, err := s.db.Collection(WebhookDeliveriesCollection).UpdateOne(ctx,
		bson.M{"_id": id, "status": string(domain.DeliveryPending), "attemptCount": before},
		bson.M{"$push": bson.M{"attempts": doc}, "$inc": bson.M{"attemptCount": 1},
			"$set": bson.M{"status": string(status), "nextAttemptAt": next, "updatedAt": now}})
	if err != nil {
		return false, translate(err)
	}
	return res.MatchedCount == 1, nil
}

// DeleteQueuedDelivery removes a settled delivery from the queue if owner
// still holds it.
func (s *Store) DeleteQueuedDelivery(ctx context.Context, id, owner string) (bool, error) {
	return s.deliveryQueue().done(ctx, id, owner)
}

// RescheduleQueuedDelivery hands a delivery back, due again at at, if owner
// still holds it.
func (s *Store) RescheduleQueuedDelivery(ctx context.Context, id, owner string, at time.Time) (bool, error) {
	return s.deliveryQueue().reschedule(ctx, id, owner, at)
}

// ListDeliveries returns an endpoint's deliveries, newest first, and
// whether there are more. On the embedded store the endpointId filter reads
// the whole collection: this is an inspection route, not a hot path.
func (s *Store) ListDeliveries(ctx context.Context, f domain.DeliveryFilter) ([]domain.WebhookDelivery, bool, error) {
	filter := bson.M{"endpointId": f.EndpointID}
	if f.StartingAfter != "" {
		filter["_id"] = bson.M{"$lt": f.StartingAfter}
	}
	cur, err := s.db.Collection(WebhookDeliveriesCollection).Find(ctx, filter,
		options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(f.Limit)+1))
	if err != nil {
		return nil, false, translate(err)
	}
	var docs []deliveryDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, false, translate(err)
	}
	more := len(docs) > f.Limit
	if more {
		docs = docs[:f.Limit]
	}
	out := make([]domain.WebhookDelivery, len(docs))
	for i, d := range docs {
		out[i] = d.toDomain()
	}
	return out, more, nil
}
