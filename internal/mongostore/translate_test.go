package mongostore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/reliabledemo/payments/internal/domain"
)

// The errors below are the driver's own types, shaped as the driver builds
// them from MongoDB replies that the embedded server cannot produce
// (replica-set state changes, write concern failures).
func TestTranslate(t *testing.T) {
	t.Parallel()

	cmdErr := func(code int32, labels ...string) error {
		return mongo.CommandError{Code: code, Message: "server says no", Labels: labels}
	}
	wce := func(code int) error {
		return mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: code, Message: "waiting for replication timed out"}}
	}
	dupKey := mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 11000, Message: "E11000 duplicate key error"}}}

	tests := []struct {
		name string
		in   error
		want domain.Kind // KindInternal: passed through uncoded
	}{
		{"nil", nil, -1},
		{"no documents", mongo.ErrNoDocuments, -1},
		{"NotWritablePrimary", cmdErr(10107), domain.KindUnavailable},
		{"PrimarySteppedDown", cmdErr(189), domain.KindUnavailable},
		{"InterruptedDueToReplStateChange", cmdErr(11602), domain.KindUnavailable},
		{"InterruptedAtShutdown", cmdErr(11600), domain.KindUnavailable},
		{"ShutdownInProgress", cmdErr(91), domain.KindUnavailable},
		{"NotPrimaryNoSecondaryOk", cmdErr(13435), domain.KindUnavailable},
		{"NotPrimaryOrSecondary", cmdErr(13436), domain.KindUnavailable},
		{"HostUnreachable", cmdErr(6), domain.KindUnavailable},
		{"HostNotFound", cmdErr(7), domain.KindUnavailable},
		{"NetworkTimeout", cmdErr(89), domain.KindUnavailable},
		{"SocketException", cmdErr(9001), domain.KindUnavailable},
		{"ExceededTimeLimit", cmdErr(262), domain.KindUnavailable},
		{"MaxTimeMSExpired", cmdErr(50), domain.KindUnavailable},
		{"RetryableWriteError label", cmdErr(1234, "RetryableWriteError"), domain.KindUnavailable},
		{"NetworkError label", cmdErr(0, "NetworkError"), domain.KindUnavailable},
		{"wrapped CommandError", fmt.Errorf("claim job: %w", cmdErr(10107)), domain.KindUnavailable},
		{"write concern WriteConcernFailed", wce(64), domain.KindUnavailable},
		{"write concern UnsatisfiableWriteConcern", wce(100), domain.KindUnavailable},
		{"write concern MaxTimeMSExpired", wce(50), domain.KindUnavailable},
		{"write concern InterruptedDueToReplStateChange", wce(11602), domain.KindUnavailable},
		{"bulk write concern error", mongo.BulkWriteException{WriteConcernError: &mongo.WriteConcernError{Code: 64}}, domain.KindUnavailable},
		{"write error NotWritablePrimary", mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 10107}}}, domain.KindUnavailable},
		{"write exception labelled", mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 1}}, Labels: []string{"RetryableWriteError"}}, domain.KindUnavailable},
		{"context deadline", context.DeadlineExceeded, domain.KindUnavailable},
		{"wrapped context deadline", fmt.Errorf("find: %w", context.DeadlineExceeded), domain.KindUnavailable},
		{"context canceled", context.Canceled, domain.KindUnavailable},
		{"client disconnected", mongo.ErrClientDisconnected, domain.KindUnavailable},
		{"net timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, domain.KindUnavailable},

		// Not the store's state: these stay errors the caller handles or a 500.
		{"duplicate key", dupKey, domain.KindInternal},
		{"Unauthorized", cmdErr(13), domain.KindInternal},
		{"BadValue", cmdErr(2), domain.KindInternal},
		{"IndexOptionsConflict", cmdErr(85), domain.KindInternal},
		{"plain error", errors.New("boom"), domain.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := translate(tt.in)
			switch {
			case tt.in == nil:
				if got != nil {
					t.Fatalf("translate(nil) = %v", got)
				}
				return
			case errors.Is(tt.in, mongo.ErrNoDocuments):
				if !errors.Is(got, domain.ErrNotFound) {
					t.Fatalf("translate(ErrNoDocuments) = %v, want domain.ErrNotFound", got)
				}
				return
			}
			if k := domain.KindOf(got); k != tt.want {
				t.Fatalf("kind %v, want %v (err %v)", k, tt.want, got)
			}
			e, coded := domain.AsError(got)
			// The cause stays for the log (driver errors are not comparable,
			// so errors.Is cannot tell).
			if !coded && !reflect.DeepEqual(got, tt.in) || coded && !reflect.DeepEqual(e.Err, tt.in) {
				t.Fatalf("translate lost the cause: %v", got)
			}
			if tt.want == domain.KindUnavailable {
				if e.Code != "service_unavailable" || e.RetryAfter <= 0 {
					t.Fatalf("code %q, Retry-After %s; want service_unavailable with a Retry-After", e.Code, e.RetryAfter)
				}
				if strings.Contains(e.Message, "server says no") {
					t.Fatalf("the client message carries the driver's: %q", e.Message)
				}
			} else if coded {
				t.Fatalf("translate coded %v as %v", tt.in, e)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClientOptionsCannotBeWeakenedByTheURI(t *testing.T) {
	t.Parallel()

	for _, uri := range []string{
		"mongodb://127.0.0.1:27017/",
		"mongodb://127.0.0.1:27017/?w=1&readPreference=secondary",
		"mongodb://127.0.0.1:27017/?w=0&journal=false&readPreference=nearest&retryWrites=false&retryReads=false",
	} {
		opts := ClientOptions(uri)
		wc, rp := opts.WriteConcern, opts.ReadPreference
		if wc == nil || wc.W != writeconcern.WCMajority || wc.Journal == nil || !*wc.Journal {
			t.Errorf("%s: write concern %+v, want w majority, j true", uri, wc)
		}
		if rp == nil || rp.Mode() != readpref.PrimaryMode {
			t.Errorf("%s: read preference %v, want primary", uri, rp)
		}
		if opts.RetryWrites == nil || !*opts.RetryWrites || opts.RetryReads == nil || !*opts.RetryReads {
			t.Errorf("%s: retryWrites %v, retryReads %v, want both on", uri, opts.RetryWrites, opts.RetryReads)
		}
		if len(opts.Hosts) != 1 || opts.Hosts[0] != "127.0.0.1:27017" {
			t.Errorf("%s: hosts %v, the URI was not applied", uri, opts.Hosts)
		}
	}
}

func TestTTLUnsupported(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		in   error
		want bool
	}{
		{"NotImplemented", mongo.CommandError{Code: 238}, true},
		{"CommandNotSupported", mongo.CommandError{Code: 115}, true},
		{"IndexOptionsConflict", mongo.CommandError{Code: 85}, false},
		{"IndexKeySpecsConflict", mongo.CommandError{Code: 86}, false},
		{"Unauthorized", mongo.CommandError{Code: 13}, false},
		{"timeout", context.DeadlineExceeded, false},
		{"NotWritablePrimary", mongo.CommandError{Code: 10107}, false},
	}
	for _, tt := range tests {
		if got := ttlUnsupported(tt.in); got != tt.want {
			t.Errorf("%s: ttlUnsupported = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestIndexErrorNamesTheIndex(t *testing.T) {
	t.Parallel()

	spec := indexes[0]
	tests := []struct {
		name string
		in   error
		hint string
	}{
		{"IndexOptionsConflict", mongo.CommandError{Code: 85}, "already exists with other options"},
		{"IndexKeySpecsConflict", mongo.CommandError{Code: 86}, "already exists with other options"},
		{"Unauthorized", mongo.CommandError{Code: 13}, "may not create indexes"},
		{"timeout", context.DeadlineExceeded, "did not answer in time"},
	}
	for _, tt := range tests {
		err := indexError(spec, spec.name(), tt.in)
		msg := err.Error()
		if !strings.Contains(msg, "key_1_method_1_path_1_userId_1") || !strings.Contains(msg, IdempotencyCollection) ||
			!strings.Contains(msg, tt.hint) || !reflect.DeepEqual(errors.Unwrap(err), tt.in) {
			t.Errorf("%s: %q, want the index, its collection, %q and the cause", tt.name, msg, tt.hint)
		}
	}
}
