package worker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/testclock"
	"github.com/reliabledemo/payments/internal/testmongo"
	"github.com/reliabledemo/payments/internal/worker"
)

// recorder is a processor that records its calls and answers with do.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
	do    func(id string, call int) (worker.Outcome, error)
}

func (r *recorder) Process(_ context.Context, id string) (worker.Outcome, error) {
	r.mu.Lock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[id]++
	n := r.calls[id]
	r.mu.Unlock()
	if r.do == nil {
		return worker.Done, nil
	}
	return r.do(id, n)
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

type fixture struct {
	t     *testing.T
	db    *mongo.Database
	store *mongostore.Store
	clock *testclock.Clock
}

func newFixture(t *testing.T) *fixture {
	db := testmongo.Open(t)
	store := mongostore.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &fixture{t: t, db: db, store: store, clock: testclock.New()}
}

const lease = 30 * time.Second

// run starts a worker over the fixture's queue; stop cancels it and waits.
func (f *fixture) run(p worker.Processor, concurrency int, grace time.Duration) (stop func()) {
	w := worker.New(f.store, p, worker.Config{
		Concurrency: concurrency, Lease: lease, Poll: 5 * time.Millisecond, Grace: grace,
		Now: f.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	f.t.Cleanup(stop)
	return stop
}

func (f *fixture) enqueue(id string, createdAt time.Time) {
	f.t.Helper()
	if err := f.store.EnqueueJob(context.Background(), id, f.clock.Now(), createdAt); err != nil {
		f.t.Fatal(err)
	}
}

// job returns the queued job id, or nil when the queue holds none.
func (f *fixture) job(id string) bson.M {
	f.t.Helper()
	var d bson.M
	err := f.db.Collection(mongostore.JobsCollection).FindOne(context.Background(), bson.M{"_id": id}).Decode(&d)
	if err != nil {
		return nil
	}
	return d
}

// eventually polls cond for up to 10 s.
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEveryJobIsProcessedOnceAndLeavesTheQueue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 30
	for i := range n {
		f.enqueue(fmt.Sprintf("pi_%02d", i), f.clock.Now())
	}
	p := &recorder{}
	f.run(p, 4, lease)
	for i := range n {
		id := fmt.Sprintf("pi_%02d", i)
		f.eventually(id+" leaves the queue", func() bool { return f.job(id) == nil })
		if c := p.count(id); c != 1 {
			t.Fatalf("%s processed %d times, want 1", id, c)
		}
	}
}

func TestGracefulShutdownFinishesTheJobInHand(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enqueue("pi_held", f.clock.Now())
	entered, release := make(chan struct{}), make(chan struct{})
	var jobCtxErr error
	p := &recorder{do: func(id string, _ int) (worker.Outcome, error) {
		if id == "pi_held" {
			close(entered)
			<-release
		}
		return worker.Done, nil
	}}
	w := worker.New(f.store, processorFunc(func(ctx context.Context, id string) (worker.Outcome, error) {
		out, err := p.Process(ctx, id)
		jobCtxErr = ctx.Err()
		return out, err
	}), worker.Config{Concurrency: 1, Lease: lease, Poll: 5 * time.Millisecond, Grace: lease, Now: f.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()

	<-entered
	cancel()                             // shutdown begins while the job is in hand
	f.enqueue("pi_later", f.clock.Now()) // and must not be claimed any more
	select {
	case <-done:
		t.Fatal("Run returned while a job was in hand")
	default:
	}
	close(release)
	<-done
	if jobCtxErr != nil {
		t.Fatalf("the job in hand saw its context end: %v", jobCtxErr)
	}
	if f.job("pi_held") != nil {
		t.Fatal("the finished job is still queued")
	}
	later := f.job("pi_later")
	if later == nil || later["owner"] != "" || p.count("pi_later") != 0 {
		t.Fatalf("a job was claimed after shutdown began: %v", later)
	}
}

type processorFunc func(context.Context, string) (worker.Outcome, error)

func (f processorFunc) Process(ctx context.Context, id string) (worker.Outcome, error) {
	return f(ctx, id)
}

// TestDeadWorkersJobIsTakenOver leaves a job claimed by a worker that never
// finishes it: another worker takes it once the lease has run out, and the
// dead worker can no longer delete it.
func TestDeadWorkersJobIsTakenOver(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enqueue("pi_orphan", f.clock.Now())
	now := f.clock.Now()
	job, err := f.store.ClaimJob(context.Background(), "wrk_dead", now, now.Add(lease))
	if err != nil || job == nil {
		t.Fatalf("claim: %v %v", job, err)
	}
	p := &recorder{}
	f.run(p, 2, lease)
	f.clock.Advance(lease / 2)
	time.Sleep(50 * time.Millisecond) // ten polls: within the lease nobody may take it
	if c := p.count("pi_orphan"); c != 0 {
		t.Fatalf("processed %d times within the dead worker's lease", c)
	}
	f.clock.Advance(lease/2 + time.Second)
	f.eventually("the job is taken over and finished", func() bool { return f.job("pi_orphan") == nil })
	if c := p.count("pi_orphan"); c != 1 {
		t.Fatalf("processed %d times, want 1", c)
	}
	if ok, err := f.store.DeleteJob(context.Background(), "pi_orphan", "wrk_dead"); ok || err != nil {
		t.Fatalf("the dead worker deleted a job it no longer holds: %v %v", ok, err)
	}
}

func TestFailedJobIsRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enqueue("pi_flaky", f.clock.Now())
	p := &recorder{do: func(_ string, call int) (worker.Outcome, error) {
		if call < 3 {
			return worker.NotReady, errors.New("store unavailable")
		}
		return worker.Done, nil
	}}
	stop := f.run(p, 1, lease)
	// A failed job is handed back at once (after the poll interval), not
	// after its lease.
	for c := 1; c <= 3; c++ {
		f.eventually(fmt.Sprintf("attempt %d", c), func() bool { return p.count("pi_flaky") >= c })
		f.clock.Advance(time.Second)
	}
	f.eventually("the job leaves the queue", func() bool { return f.job("pi_flaky") == nil })
	stop()
	if c := p.count("pi_flaky"); c != 3 {
		t.Fatalf("processed %d times, want 3", c)
	}
}

// TestNotReadyJobs keeps a job whose intent is not confirmed yet, and drops
// it once it is older than the grace period: its confirm never happened.
func TestNotReadyJobs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const grace = time.Minute
	f.enqueue("pi_young", f.clock.Now())
	f.enqueue("pi_old", f.clock.Now().Add(-2*grace))
	p := &recorder{do: func(string, int) (worker.Outcome, error) { return worker.NotReady, nil }}
	stop := f.run(p, 1, grace)
	f.eventually("both jobs are tried", func() bool { return p.count("pi_young") > 0 && p.count("pi_old") > 0 })
	f.eventually("the old job is dropped", func() bool { return f.job("pi_old") == nil })
	stop()
	young := f.job("pi_young")
	if young == nil || young["owner"] != "" {
		t.Fatalf("the young job should be queued again, unowned: %v", young)
	}
}

// countingQueue passes every call to the real store and counts the claims.
type countingQueue struct {
	*mongostore.Store
	mu     sync.Mutex
	claims int
}

func (q *countingQueue) ClaimJob(ctx context.Context, owner string, now, leaseUntil time.Time) (*worker.Job, error) {
	q.mu.Lock()
	q.claims++
	q.mu.Unlock()
	return q.Store.ClaimJob(ctx, owner, now, leaseUntil)
}

// TestIdleWorkerClaimsOncePerPoll: an idle instance costs one claim per poll
// interval, however many jobs it may run at once, and still runs jobs in
// parallel up to its concurrency when there are some.
func TestIdleWorkerClaimsOncePerPoll(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	q := &countingQueue{Store: f.store}
	const poll = 100 * time.Millisecond
	release := make(chan struct{})
	var mu sync.Mutex
	running, peak := 0, 0
	p := &recorder{do: func(string, int) (worker.Outcome, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return worker.Done, nil
	}}
	w := worker.New(q, p, worker.Config{Concurrency: 8, Lease: lease, Poll: poll, Grace: lease,
		Now: f.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	time.Sleep(10 * poll)
	q.mu.Lock()
	idle := q.claims
	q.mu.Unlock()
	// Ten intervals: about ten claims, where one per slot would be eighty.
	if idle < 3 || idle > 20 {
		t.Errorf("idle worker made %d claims in 10 poll intervals, want about 10", idle)
	}

	for i := range 5 {
		f.enqueue(fmt.Sprintf("pi_par_%d", i), f.clock.Now())
	}
	f.eventually("five jobs run at once", func() bool { mu.Lock(); defer mu.Unlock(); return peak == 5 })
	close(release)
	for i := range 5 {
		id := fmt.Sprintf("pi_par_%d", i)
		f.eventually(id+" leaves the queue", func() bool { return f.job(id) == nil })
	}
}
