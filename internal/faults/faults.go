// Package faults injects failures on purpose, for drills: one-shot crash
// points that end the process where a real crash could, and responses that
// are lost after their outcome was committed. It is wired in only when
// FAULTS_ENABLED is set; otherwise none of its code runs.
package faults

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/reliabledemo/payments/internal/domain"
)

// Point is a place in the code where an armed crash ends the process.
type Point string

// Crash points. AfterCharge is reached by order requests and by intent jobs
// alike: the first to get there dies.
const (
	AfterClaim       Point = "after_claim"        // idempotency record claimed, nothing done yet
	AfterCharge      Point = "after_charge"       // provider charged, outcome not recorded
	AfterOrderInsert Point = "after_order_insert" // settled order stored, its event not recorded
	AfterTransition  Point = "after_transition"   // intent or refund changed, its event not recorded
	BeforeComplete   Point = "before_complete"    // outcome recorded, response not stored
	AfterJobClaim    Point = "after_job_claim"    // worker holds a job, nothing done yet
)

// Points lists every crash point, in the order a request meets them.
var Points = []Point{AfterClaim, AfterCharge, AfterOrderInsert, AfterTransition, BeforeComplete, AfterJobClaim}

// Injector holds the armed faults of this process.
type Injector struct {
	exit func(code int)
	log  *slog.Logger

	mu       sync.Mutex
	armed    []Point
	dropRate float64
	rnd      *rand.Rand
}

// New returns an injector that ends the process with exit (os.Exit in
// production: no deferred cleanup runs, as in a real crash).
func New(exit func(int), log *slog.Logger, rnd *rand.Rand) *Injector {
	if rnd == nil {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return &Injector{exit: exit, log: log, rnd: rnd}
}

// Settings are the faults a drill asks for.
type Settings struct {
	CrashAt          *Point   // arm this point; "" disarms every point
	DropResponseRate *float64 // chance in [0,1] that a committed response is lost
}

// State is what is armed now.
type State struct {
	Armed            []Point
	DropResponseRate float64
}

// Validate checks settings field by field.
func (s Settings) Validate() error {
	if p := s.CrashAt; p != nil && *p != "" && !slices.Contains(Points, *p) {
		return domain.Invalid("crash_at", "invalid_crash_point", "crash_at must be one of after_claim, after_charge, after_order_insert, after_transition, before_complete, after_job_claim.")
	}
	if r := s.DropResponseRate; r != nil && !(*r >= 0 && *r <= 1) {
		return domain.Invalid("drop_response_rate", "invalid_rate", "drop_response_rate must be a number between 0 and 1.")
	}
	return nil
}

// Apply arms what s asks for and returns the new state.
func (f *Injector) Apply(s Settings) (State, error) {
	if err := s.Validate(); err != nil {
		return State{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := s.CrashAt; p != nil {
		if *p == "" {
			f.armed = nil
		} else if !slices.Contains(f.armed, *p) {
			f.armed = append(f.armed, *p)
		}
	}
	if r := s.DropResponseRate; r != nil {
		f.dropRate = *r
	}
	f.log.Warn("faults armed", "crash_at", f.armed, "drop_response_rate", f.dropRate)
	return f.stateLocked(), nil
}

// State returns what is armed.
func (f *Injector) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stateLocked()
}

func (f *Injector) stateLocked() State {
	return State{Armed: append([]Point{}, f.armed...), DropResponseRate: f.dropRate}
}

// Hit ends the process if p is armed.
func (f *Injector) Hit(p Point) {
	f.mu.Lock()
	i := slices.Index(f.armed, p)
	if i >= 0 {
		f.armed = slices.Delete(f.armed, i, i+1) // one-shot
	}
	f.mu.Unlock()
	if i < 0 {
		return
	}
	f.log.Error("fault injection: crashing the process", "point", string(p))
	f.exit(3)
}

// Hook returns Hit bound to p, for the hook fields of the services.
func (f *Injector) Hook(p Point) func() { return func() { f.Hit(p) } }

// DropResponse decides whether to lose this response.
func (f *Injector) DropResponse() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropRate > 0 && f.rnd.Float64() < f.dropRate
}
