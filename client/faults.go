package client

import (
	"context"
	"net/http"
)

// Crash points: where a service running with FAULTS_ENABLED crashes when a
// request (or, for CrashAfterJobClaim, a worker) reaches the armed point.
// Each is one-shot.
const (
	CrashAfterClaim       = "after_claim"        // idempotency key claimed, nothing done yet
	CrashAfterCharge      = "after_charge"       // provider charged, outcome not recorded
	CrashAfterOrderInsert = "after_order_insert" // order stored, response not stored
	CrashBeforeComplete   = "before_complete"    // outcome recorded, response not stored
	CrashAfterJobClaim    = "after_job_claim"    // a worker holds a job, nothing done yet
)

// Faults is what the service has armed.
type Faults struct {
	CrashAt []string `json:"crash_at"`
	// DropResponseRate is the chance that a committed response is lost:
	// the work is done and stored, the connection closed unanswered.
	DropResponseRate float64 `json:"drop_response_rate"`

	Response Response `json:"-"`
}

// FaultSettings arms faults; nil fields stay as they are.
type FaultSettings struct {
	// CrashAt arms one more crash point; "" disarms them all.
	CrashAt          *string  `json:"crash_at,omitempty"`
	DropResponseRate *float64 `json:"drop_response_rate,omitempty"`
}

// Faults returns the armed faults. Without FAULTS_ENABLED the route does
// not exist: an *Error with StatusCode 404.
func (a *Admin) Faults(ctx context.Context, opts ...CallOption) (*Faults, error) {
	return send[Faults](ctx, a.c, request{method: http.MethodGet, path: "/admin/faults", admin: true}, opts)
}

// SetFaults arms faults and returns what is armed.
func (a *Admin) SetFaults(ctx context.Context, s FaultSettings, opts ...CallOption) (*Faults, error) {
	return send[Faults](ctx, a.c, request{method: http.MethodPost, path: "/admin/faults", body: s, admin: true}, opts)
}

func (f *Faults) setResponse(r Response) { f.Response = r }
