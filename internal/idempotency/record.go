package idempotency

import (
	"context"
	"time"
)

// Status of a record, spelled as in the seed design.
type Status string

// Record statuses.
const (
	InProgress Status = "IN_PROGRESS"
	Completed  Status = "COMPLETED"
)

// Scope is what a key is unique within: the same key sent by another user,
// or to another route, is another key.
type Scope struct {
	Key    string
	Method string
	Path   string
	UserID string
}

// Response is what a completed request answered, replayed byte for byte.
type Response struct {
	Status int
	Header map[string]string // allow-listed headers only
	Body   []byte
}

// Record is one key's state.
type Record struct {
	ID          string
	Scope       Scope
	Fingerprint string
	Status      Status
	// Owner identifies the request that holds the lease; LeaseUntil is when
	// another request may take over if the owner died.
	Owner      string
	LeaseUntil time.Time
	// ResourceID is chosen when the record is created and kept across
	// takeovers, so a retry after a crash continues the same operation.
	ResourceID string
	// Request is the request as its client sent it, kept so that the
	// completer can finish the operation if the client gives up.
	Request   StoredRequest
	Response  *Response
	CreatedAt time.Time
	ExpiresAt time.Time
}

// StoredRequest is what it takes to send a request again exactly as its
// client would retry it. It is written by the claim itself, so keeping it
// costs no command.
type StoredRequest struct {
	URI       string // the path with its query string
	Body      []byte
	Principal string // the authenticated caller (never a key)
}

// Store persists records. Every method is one atomic conditional write, so
// that two requests can never both believe they own a record.
type Store interface {
	// Claim inserts rec if no record with rec.ID exists, returning nil; if one
	// exists it is returned unchanged.
	Claim(ctx context.Context, rec Record) (existing *Record, err error)
	// Replace overwrites the record rec.ID with rec if it expired at or before
	// now. It reports whether it did.
	Replace(ctx context.Context, rec Record, now time.Time) (bool, error)
	// TakeOver gives an in-progress record whose lease ran out at or before
	// now, still held by prevOwner, to owner until leaseUntil.
	TakeOver(ctx context.Context, id, prevOwner, owner string, now, leaseUntil time.Time) (bool, error)
	// Complete stores resp and marks the record completed, if owner still
	// holds it.
	Complete(ctx context.Context, id, owner string, resp Response, now time.Time) (bool, error)
	// Release ends owner's lease now, keeping the record and its resource id,
	// so that a retry may take over at once.
	Release(ctx context.Context, id, owner string, now time.Time) (bool, error)
	// Delete removes the record if owner holds it: its request was refused
	// before it changed anything, so the key is free again.
	Delete(ctx context.Context, id, owner string) (bool, error)
	// Extend moves owner's lease to leaseUntil if owner still holds the
	// record in progress: the heartbeat of a request that is still alive.
	Extend(ctx context.Context, id, owner string, leaseUntil, now time.Time) (bool, error)
	// Abandoned returns up to limit in-progress records whose lease ended
	// at or before before, oldest lease first.
	Abandoned(ctx context.Context, before time.Time, limit int) ([]Record, error)
	// DeleteExpired removes records that expired before now.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
