package mongostore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/worker"
)

// JobsCollection is the queue of intents to process. It holds pending work
// only (a finished job is deleted), so claiming stays cheap however long the
// history of intents grows.
const JobsCollection = "intentjobs"

var _ worker.Queue = (*Store)(nil)

// jobDoc is a queued job. availableAt is both the due time and the lease:
// claiming pushes it to the lease's end, so one filter finds new jobs and
// jobs whose worker died.
type jobDoc struct {
	ID          string    `bson:"_id"` // the intent id
	AvailableAt time.Time `bson:"availableAt"`
	Owner       string    `bson:"owner"`
	Attempts    int       `bson:"attempts"`
	CreatedAt   time.Time `bson:"createdAt"`
}

// EnqueueJob queues intentID for processing at at, unless it is queued
// already: repeating it is harmless.
func (s *Store) EnqueueJob(ctx context.Context, intentID string, at, now time.Time) error {
	queued, err := s.jobs().enqueue(ctx, intentID, at, bson.M{"attempts": 0, "createdAt": now})
	if queued && s.queued != nil {
		s.queued()
	}
	return err
}

func (s *Store) jobs() leaseQueue { return leaseQueue{s.db.Collection(JobsCollection)} }

// ObserveQueued makes the store call f for each job it queues, and not for
// an enqueue that found its job there already (a confirm enqueues twice),
// for metrics. Call it before the store is in use.
func (s *Store) ObserveQueued(f func()) { s.queued = f }

// OldestJob returns when the oldest pending job was queued, or ok=false if
// none is pending. There is no index on createdAt: the collection holds
// pending work only, so sorting it unindexed stays cheap. Metrics call it
// once per scrape.
func (s *Store) OldestJob(ctx context.Context) (queuedAt time.Time, ok bool, err error) {
	var d struct {
		CreatedAt time.Time `bson:"createdAt"`
	}
	err = s.db.Collection(JobsCollection).FindOne(ctx, bson.M{},
		options.FindOne().SetSort(bson.D{{Key: "createdAt", Value: 1}}).SetProjection(bson.M{"createdAt": 1})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, translate(err)
	}
	return d.CreatedAt.UTC(), true, nil
}

// ClaimJob leases the job that has been available longest.
func (s *Store) ClaimJob(ctx context.Context, owner string, now, leaseUntil time.Time) (*worker.Job, error) {
	var d jobDoc
	if ok, err := s.jobs().claim(ctx, owner, now, leaseUntil, bson.M{"attempts": 1}, &d); !ok || err != nil {
		return nil, err
	}
	return &worker.Job{ID: d.ID, Owner: d.Owner, Attempts: d.Attempts, CreatedAt: d.CreatedAt.UTC()}, nil
}

// DeleteJob removes a finished job if owner still holds it.
func (s *Store) DeleteJob(ctx context.Context, id, owner string) (bool, error) {
	return s.jobs().done(ctx, id, owner)
}

// RescheduleJob hands the job back, available again at at.
func (s *Store) RescheduleJob(ctx context.Context, id, owner string, at time.Time) (bool, error) {
	return s.jobs().reschedule(ctx, id, owner, at)
}
