// Package worker processes confirmed payment intents from a durable queue in
// MongoDB. Workers on any instance claim jobs with a lease (one atomic
// find-and-modify); a worker that dies leaves its job to be claimed again
// once the lease runs out, and processing is safe to repeat, so every intent
// ends in exactly one terminal state with exactly one provider charge.
package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
)

// Job is one pending unit of work: the intent to process.
type Job struct {
	ID        string // the intent id
	Owner     string
	Attempts  int
	CreatedAt time.Time
}

// Queue is the durable job queue.
type Queue interface {
	// ClaimJob leases the oldest job available at now to owner until
	// leaseUntil, or returns nil if there is none.
	ClaimJob(ctx context.Context, owner string, now, leaseUntil time.Time) (*Job, error)
	// DeleteJob removes a finished job, if owner still holds it.
	DeleteJob(ctx context.Context, id, owner string) (bool, error)
	// RescheduleJob makes the job available again at at, if owner holds it.
	RescheduleJob(ctx context.Context, id, owner string, at time.Time) (bool, error)
}

// Outcome of processing a job.
type Outcome int

// Outcomes.
const (
	Done     Outcome = iota // the job is finished: delete it
	NotReady                // try again later
)

// Processor does the work of one job.
type Processor interface {
	Process(ctx context.Context, intentID string) (Outcome, error)
}

// Config holds the worker's settings.
type Config struct {
	Concurrency int           // jobs processed at once on this instance
	Lease       time.Duration // how long a claimed job is trusted to its worker
	Poll        time.Duration // how often an idle worker looks for work
	// Grace is how long a job whose intent is not confirmed yet is kept: a
	// confirm that died between queueing and confirming leaves such a job.
	Grace  time.Duration
	Now    func() time.Time
	Logger *slog.Logger
	// AfterClaim, if set, runs after each claim (fault drills crash here).
	AfterClaim func()
	// Observe, if set, is told each event of a job's life on this worker
	// (one of the Event constants), for metrics.
	Observe func(event string)
}

// Events of a job, as Config.Observe reports them. Queueing happens in the
// store, which reports it there.
const (
	EventClaimed  = "claimed"  // leased to this worker
	EventFinished = "finished" // processed and deleted
	EventRetried  = "retried"  // released to be tried again later
	EventDropped  = "dropped"  // deleted unprocessed: its intent was never confirmed
)

// Worker claims jobs and processes up to Concurrency of them at once.
type Worker struct {
	q   Queue
	p   Processor
	cfg Config
}

// New returns a worker.
func New(q Queue, p Processor, cfg Config) *Worker {
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Worker{q: q, p: p, cfg: cfg}
}

// Run processes jobs until ctx ends, then waits for the jobs in hand to
// finish: it stops claiming at once, but a job already claimed is completed
// (or released) so that no lease is left to run out.
//
// One loop claims, and each job runs in its own goroutine while a slot is
// free. So an idle instance sends one claim per Poll, not one per slot: a
// claim is a write, and on the embedded store every write waits for the
// write lock that requests need too.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, w.cfg.Concurrency)
	for {
		select {
		case <-ctx.Done():
			return
		case slots <- struct{}{}:
		}
		owner := domain.NewID("wrk_")
		job, err := w.claim(ctx, owner)
		if err != nil && ctx.Err() == nil {
			w.cfg.Logger.Warn("worker: claim failed", "err", err)
		}
		if job == nil {
			<-slots
			select {
			case <-ctx.Done():
				return
			case <-time.After(w.cfg.Poll):
			}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := w.process(ctx, owner, job); err != nil && ctx.Err() == nil {
				w.cfg.Logger.Warn("worker: job failed; it will be retried after its lease", "err", err)
			}
		})
	}
}

// claim leases the next due job to owner, or returns nil.
func (w *Worker) claim(ctx context.Context, owner string) (*Job, error) {
	now := w.cfg.Now().UTC()
	job, err := w.q.ClaimJob(ctx, owner, now, now.Add(w.cfg.Lease))
	if err != nil || job == nil {
		return nil, err
	}
	w.observe(EventClaimed)
	if w.cfg.AfterClaim != nil {
		w.cfg.AfterClaim()
	}
	return job, nil
}

// process runs one claimed job and settles it in the queue.
func (w *Worker) process(ctx context.Context, owner string, job *Job) error {
	// The job is ours until the lease ends: finish it even if shutdown
	// begins, but never past the lease, after which another worker may
	// already have claimed it.
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.Lease)
	defer cancel()
	out, err := w.p.Process(jctx, job.ID)
	if err != nil {
		// Release the job at once so another attempt need not wait out the lease.
		_, _ = w.q.RescheduleJob(jctx, job.ID, owner, w.cfg.Now().UTC().Add(w.cfg.Poll))
		w.observe(EventRetried)
		return err
	}
	event := EventFinished
	switch out {
	case Done:
		_, err = w.q.DeleteJob(jctx, job.ID, owner)
	case NotReady:
		if w.cfg.Now().Sub(job.CreatedAt) > w.cfg.Grace {
			// Its confirm never happened: a retry of the confirm queues it again.
			_, err = w.q.DeleteJob(jctx, job.ID, owner)
			event = EventDropped
		} else {
			_, err = w.q.RescheduleJob(jctx, job.ID, owner, w.cfg.Now().UTC().Add(w.cfg.Poll))
			event = EventRetried
		}
	}
	if err == nil {
		w.observe(event)
	}
	return err
}

func (w *Worker) observe(event string) {
	if w.cfg.Observe != nil {
		w.cfg.Observe(event)
	}
}
