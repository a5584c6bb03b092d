package idempotency

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/periodic"
)

// Request is one request to run under a key.
type Request struct {
	Scope
	Fingerprint string
	Stored      StoredRequest // kept on the record for the completer
}

// Operation performs a request's effect. resourceID is the same on every
// attempt for a key, so the operation can continue where a crashed attempt
// stopped. It returns the response to store, or an error. A *domain.Error of a
// client kind (4xx) means nothing was changed and nothing is stored; any other
// error leaves the record for a retry to take over.
type Operation func(ctx context.Context, resourceID string) (Response, error)

// Result is the response to send and whether it was replayed.
type Result struct {
	Response Response
	Replayed bool
}

// Config holds the layer's timings and injected dependencies.
type Config struct {
	TTL   time.Duration // how long a key is remembered
	Lease time.Duration // how long an in-progress request is trusted to be alive
	// Heartbeat is how often a running request extends its lease; 0 means
	// a third of Lease. A request that is alive keeps its record however
	// long it runs, and a retry gets 409 until it ends or dies.
	Heartbeat time.Duration
	// OperationTimeout bounds a request from its claim to its settled
	// record; 0 means DefaultOperationTimeout. The client's hang-up does not
	// end it (see Do).
	OperationTimeout time.Duration
	Now              func() time.Time
	NewOwner         func() string // a token unique to each attempt
	NewResource      func() string // the resource id of a new record (sortable by time)
	Logger           *slog.Logger
	// AfterClaim and BeforeComplete, if set, run around the operation with
	// the request's scope: fault drills crash the process there.
	AfterClaim     func(Scope)
	BeforeComplete func(Scope)
	// Observe, if set, is told the outcome of every claim (one of the
	// Outcome constants), for metrics.
	Observe func(outcome string)
}

// Outcomes of a claim, as Config.Observe reports them.
const (
	OutcomeFirst    = "first"    // a new key: the operation runs
	OutcomeReplay   = "replay"   // the stored response is sent again
	OutcomeMismatch = "mismatch" // 422: the key was used for another request
	OutcomeInUse    = "in_use"   // 409: the first request still runs
	OutcomeTakeover = "takeover" // a dead request's record taken over
	OutcomeExpired  = "expired"  // a record past its TTL replaced
)

// Layer runs operations at most once per key.
type Layer struct {
	store Store
	cfg   Config
}

// New returns a layer over store.
func New(store Store, cfg Config) *Layer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewOwner == nil {
		cfg.NewOwner = func() string { return domain.NewID("own_") }
	}
	if cfg.NewResource == nil {
		cfg.NewResource = func() string { return domain.NewSortableID(cfg.Now()) }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = cfg.Lease / 3
	}
	if cfg.OperationTimeout <= 0 {
		cfg.OperationTimeout = DefaultOperationTimeout
	}
	return &Layer{store: store, cfg: cfg}
}

// DefaultOperationTimeout is Config.OperationTimeout's default: longer than
// the mock provider's longest delay (60 s).
const DefaultOperationTimeout = 90 * time.Second

// maxRounds bounds the claim loop: each round is lost only to another
// request that changed the record, which cannot happen forever in practice.
const maxRounds = 4

// Do runs op once for req's key and returns its response, or replays the
// stored one. It refuses with 422 a key reused with another fingerprint, and
// with 409 a key whose first request still runs.
//
// Once a request has reached the layer, it runs to its end whether or not
// its client is still there: ctx's values are kept, its cancellation is not,
// and OperationTimeout bounds the whole. A client that gives up on an attempt
// before the provider answers (its own timeout shorter than the charge, a
// dropped connection) would otherwise cancel the charge every time, get a
// release instead of an outcome, and start over on each retry, never paid.
// Run to the end, the attempt stores its response, and the retry gets 409
// while it runs and then the replay.
func (l *Layer) Do(ctx context.Context, req Request, op Operation) (Result, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.OperationTimeout)
	defer cancel()
	id := recordID(req.Scope)
	owner := l.cfg.NewOwner()
	for range maxRounds {
		now := l.cfg.Now().UTC()
		rec := Record{
			ID: id, Scope: req.Scope, Fingerprint: req.Fingerprint, Status: InProgress,
			Owner: owner, LeaseUntil: now.Add(l.cfg.Lease), ResourceID: l.cfg.NewResource(),
			Request: req.Stored, CreatedAt: now, ExpiresAt: now.Add(l.cfg.TTL),
		}
		existing, err := l.store.Claim(ctx, rec)
		if err != nil {
			return Result{}, err
		}
		if existing == nil {
			l.observe(OutcomeFirst)
			return l.run(ctx, rec, op)
		}
		// Expiry is checked here and not left to TTL deletion alone: the
		// embedded server has no TTL indexes and MongoDB's run once a minute.
		if !existing.ExpiresAt.After(now) {
			ok, err := l.store.Replace(ctx, rec, now)
			if err != nil {
				return Result{}, err
			}
			if ok {
				l.observe(OutcomeExpired)
				return l.run(ctx, rec, op)
			}
			continue
		}
		// A different request under the same key is refused even while the
		// first one runs: the client has a bug, and waiting will not fix it.
		if existing.Fingerprint != req.Fingerprint {
			l.observe(OutcomeMismatch)
			return Result{}, &domain.Error{Kind: domain.KindIdempotencyMismatch, Code: CodeKeyReused, Param: "Idempotency-Key",
				Message: "This Idempotency-Key was already used with a different request. Use a new key for a new request."}
		}
		if existing.Status == Completed && existing.Response != nil {
			l.observe(OutcomeReplay)
			return Result{Response: *existing.Response, Replayed: true}, nil
		}
		if existing.LeaseUntil.After(now) {
			l.observe(OutcomeInUse)
			return Result{}, inUse(existing.LeaseUntil.Sub(now))
		}
		// The owner's lease ran out: it crashed or hung. Take the record
		// over and finish the same operation under the same resource id.
		leaseUntil := now.Add(l.cfg.Lease)
		ok, err := l.store.TakeOver(ctx, id, existing.Owner, owner, now, leaseUntil)
		if err != nil {
			return Result{}, err
		}
		if ok {
			l.cfg.Logger.Info("idempotency record taken over", "record", id, "resource", existing.ResourceID)
			l.observe(OutcomeTakeover)
			taken := *existing
			taken.Owner, taken.LeaseUntil = owner, leaseUntil
			return l.run(ctx, taken, op)
		}
	}
	l.observe(OutcomeInUse)
	return Result{}, inUse(time.Second)
}

func (l *Layer) observe(outcome string) {
	if l.cfg.Observe != nil {
		l.cfg.Observe(outcome)
	}
}

func inUse(wait time.Duration) error {
	return &domain.Error{Kind: domain.KindIdempotencyInUse, Code: CodeKeyInUse, Param: "Idempotency-Key",
		RetryAfter: time.Duration(math.Ceil(wait.Seconds())) * time.Second,
		Message:    "A request with this Idempotency-Key is still in progress. Retry after the time in Retry-After."}
}

// run executes op as the owner of rec and records what happened.
func (l *Layer) run(ctx context.Context, rec Record, op Operation) (Result, error) {
	call(l.cfg.AfterClaim, rec.Scope)
	resp, opErr := l.runAlive(ctx, rec, op)

	// Settle the record even if the operation ran out of time: an abandoned
	// record would block retries until its lease ran out.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := l.cfg.Now().UTC()

	if opErr != nil {
		var settled bool
		var err error
		if isRefusal(opErr) {
			settled, err = l.store.Delete(sctx, rec.ID, rec.Owner)
		} else {
			settled, err = l.store.Release(sctx, rec.ID, rec.Owner, now)
		}
		if err != nil || !settled {
			l.cfg.Logger.Warn("idempotency record not settled after error; its lease will expire",
				"record", rec.ID, "owned", settled, "err", err)
		}
		return Result{}, opErr
	}

	call(l.cfg.BeforeComplete, rec.Scope)
	ok, err := l.store.Complete(sctx, rec.ID, rec.Owner, resp, now)
	if err != nil || !ok {
		// The effect happened; the client still gets its answer. A retry
		// takes the record over and re-runs the operation, which finds its
		// own earlier work under the same resource id.
		l.cfg.Logger.Warn("idempotency record not completed", "record", rec.ID, "owned", ok, "err", err)
	}
	return Result{Response: resp}, nil
}

// runAlive runs op while a heartbeat keeps rec's lease, and stops the
// heartbeat however op ends, a panic included.
func (l *Layer) runAlive(ctx context.Context, rec Record, op Operation) (Response, error) {
	stop := l.heartbeat(ctx, rec.ID, rec.Owner)
	defer stop()
	return op(ctx, rec.ResourceID)
}

// heartbeat extends the lease of a running request every Heartbeat until
// stop is called, so that a slow request is never taken over while it
// runs: only a request that died stops extending its lease. stop returns
// once no extension is in flight, so none lands after the completion.
//
// It is a timer, not a goroutine with a ticker: most requests end long
// before their first beat, and then the heartbeat cost them one timer.
func (l *Layer) heartbeat(ctx context.Context, id, owner string) (stop func()) {
	var mu sync.Mutex // held by a beat while it writes; stop waits for it
	stopped := false
	var t *time.Timer
	mu.Lock() // a beat reads t: let it wait until t is set
	defer mu.Unlock()
	t = time.AfterFunc(l.cfg.Heartbeat, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		now := l.cfg.Now().UTC()
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.Heartbeat)
		ok, err := l.store.Extend(hctx, id, owner, now.Add(l.cfg.Lease), now)
		cancel()
		switch {
		case err != nil:
			// The next beat tries again; the lease has two more beats of
			// slack.
			l.cfg.Logger.Warn("idempotency lease not extended", "record", id, "err", err)
		case !ok:
			l.cfg.Logger.Warn("idempotency record lost while its request still runs", "record", id)
			return
		}
		t.Reset(l.cfg.Heartbeat)
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}

func call(f func(Scope), s Scope) {
	if f != nil {
		f(s)
	}
}

// isRefusal reports whether err says the request was refused before it
// changed anything: such outcomes are not stored, so a corrected retry runs.
func isRefusal(err error) bool {
	switch domain.KindOf(err) {
	case domain.KindValidation, domain.KindInvalidRequest, domain.KindNotFound,
		domain.KindConflict, domain.KindUnauthorized, domain.KindTooEarly:
		return true
	}
	return false
}

// Sweep deletes expired records every interval until ctx ends. It is needed
// only where the server has no TTL indexes.
func (l *Layer) Sweep(ctx context.Context, every time.Duration) {
	periodic.Run(ctx, every, l.cfg.Logger, "idempotency sweep failed", func(ctx context.Context) error {
		n, err := l.store.DeleteExpired(ctx, l.cfg.Now().UTC())
		if err == nil && n > 0 {
			l.cfg.Logger.Info("idempotency sweep", "deleted", n)
		}
		return err
	})
}
