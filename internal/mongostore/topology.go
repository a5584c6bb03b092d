package mongostore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Kinds of deployment, as Topology reports them.
const (
	Standalone = "standalone"
	ReplicaSet = "replica set"
	Sharded    = "sharded"
)

// writeLockCommand is the command internal/embedded's write lock answers
// itself (embedded.IdentifyCommand; a test checks they agree). Plain
// FerretDB answers it with CommandNotFound (59).
const writeLockCommand = "reliabledemoWriteLock"

// ErrNonAtomicUpdates is returned by Topology.CheckAtomicUpdates for a
// server on which two concurrent conditional updates can both succeed.
var ErrNonAtomicUpdates = errors.New("the store's conditional updates are not atomic")

// Topology describes the deployment the client talks to.
type Topology struct {
	Kind    string // Standalone, ReplicaSet or Sharded (mongos)
	SetName string // the replica set's name
	Version string // the MongoDB version the server reports
	// FerretDB is FerretDB's version, empty on MongoDB.
	FerretDB string
	// WritesSerialised says the server is FerretDB behind internal/embedded's
	// write lock, which admits one write command at a time.
	WritesSerialised bool
}

// Topology asks the server what it is, with hello and buildInfo (and, on
// FerretDB, the write lock's own command).
func (s *Store) Topology(ctx context.Context) (Topology, error) {
	admin := s.db.Client().Database("admin")

	hello, err := s.hello(ctx)
	if err != nil {
		return Topology{}, err
	}
	t := Topology{Kind: Standalone, SetName: hello.SetName}
	switch {
	case hello.mongos():
		t.Kind = Sharded
	case hello.SetName != "":
		t.Kind = ReplicaSet
	}

	// FerretDB adds ferretdbVersion to buildInfo (its handler/msg_buildinfo.go);
	// built as a library, it reports "unknown".
	build, err := admin.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return Topology{}, fmt.Errorf("buildInfo: %w", translate(err))
	}
	t.Version, _ = build.Lookup("version").StringValueOK()
	if v, err := build.LookupErr("ferretdbVersion"); err == nil {
		if t.FerretDB, _ = v.StringValueOK(); t.FerretDB == "" {
			t.FerretDB = "unknown"
		}
	}

	if t.FerretDB != "" {
		err := admin.RunCommand(ctx, bson.D{{Key: writeLockCommand, Value: 1}}).Err()
		var se mongo.ServerError
		switch {
		case err == nil:
			t.WritesSerialised = true
		case errors.As(err, &se) && se.HasErrorCode(59): // CommandNotFound: plain FerretDB
		default:
			return Topology{}, fmt.Errorf("%s: %w", writeLockCommand, translate(err))
		}
	}
	return t, nil
}

// CheckAtomicUpdates returns an error wrapping ErrNonAtomicUpdates if t is
// a FerretDB server that lets two conditional updates of one document both
// match it. FerretDB v1 runs each update, delete and findAndModify as a
// read followed by a separate write; the service's every state change (an
// idempotency takeover, a refund against the balance, a job claim) relies
// on one conditional update applying atomically, as MongoDB does. Other
// FerretDB versions are refused too: their atomicity has not been verified.
func (t Topology) CheckAtomicUpdates() error {
	if t.FerretDB == "" || t.WritesSerialised {
		return nil
	}
	return fmt.Errorf("%w: the server is FerretDB (version %s) without a write lock in front of it. "+
		"FerretDB v1 runs a conditional update as a read and a separate write, so two concurrent state changes "+
		"(a refund, a job claim, an idempotency takeover) can both succeed; other versions have not been verified. "+
		"Run MongoDB (a replica set for production), or this project's embedded store: leave MONGODB_URI unset, "+
		"or run cmd/embedded-mongo, which serialises writes, and point MONGODB_URI at it",
		ErrNonAtomicUpdates, t.FerretDB)
}

// LogValue renders t as one structured log attribute.
func (t Topology) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", t.Kind), slog.String("version", t.Version)}
	if t.SetName != "" {
		attrs = append(attrs, slog.String("set", t.SetName))
	}
	if t.FerretDB != "" {
		attrs = append(attrs, slog.String("ferretdb", t.FerretDB), slog.Bool("writes_serialised", t.WritesSerialised))
	}
	return slog.GroupValue(attrs...)
}

// helloReply is the part of hello's answer that tells a deployment's kind:
// a mongos says msg "isdbgrid"; a replica-set member names its set.
// https://www.mongodb.com/docs/manual/reference/command/hello/
type helloReply struct {
	Msg     string `bson:"msg"`
	SetName string `bson:"setName"`
}

func (h helloReply) mongos() bool { return h.Msg == "isdbgrid" }

// hello asks the server what it is.
func (s *Store) hello(ctx context.Context) (helloReply, error) {
	var h helloReply
	if err := s.db.Client().Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&h); err != nil {
		return h, fmt.Errorf("hello: %w", translate(err))
	}
	return h, nil
}
