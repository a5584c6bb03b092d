package mongostore_test

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/reliabledemo/payments/internal/embedded"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/testmongo"
)

func TestWriteLockCommandIsTheEmbeddedServers(t *testing.T) {
	if mongostore.WriteLockCommand != embedded.IdentifyCommand {
		t.Fatalf("mongostore sends %q, internal/embedded answers %q", mongostore.WriteLockCommand, embedded.IdentifyCommand)
	}
}

func TestTopologyOfTheTestServer(t *testing.T) {
	t.Parallel()
	topo, err := quietStore(testmongo.Open(t)).Topology(t.Context())
	if err != nil {
		t.Fatalf("Topology: %v", err)
	}
	t.Logf("topology: %+v", topo)

	switch topo.Kind {
	case mongostore.Standalone, mongostore.Sharded:
		if topo.SetName != "" {
			t.Fatalf("%s with a set name %q", topo.Kind, topo.SetName)
		}
	case mongostore.ReplicaSet:
		if topo.SetName == "" {
			t.Fatal("replica set without a name")
		}
	default:
		t.Fatalf("kind %q", topo.Kind)
	}
	if topo.Version == "" {
		t.Fatal("no server version")
	}
	if topo.FerretDB != "" {
		// The embedded server: FerretDB, standalone, behind the write lock.
		if topo.Kind != mongostore.Standalone || !topo.WritesSerialised {
			t.Fatalf("embedded server seen as %+v, want a standalone FerretDB with serialised writes", topo)
		}
	}
	if err := topo.CheckAtomicUpdates(); err != nil {
		t.Fatalf("the test server is refused: %v", err)
	}
}

func TestTopologyRefusesPlainFerretDB(t *testing.T) {
	t.Parallel()
	client, err := mongo.Connect(mongostore.ClientOptions(testmongo.PlainFerretDB(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })

	topo, err := quietStore(client.Database("t_plain")).Topology(t.Context())
	if err != nil {
		t.Fatalf("Topology: %v", err)
	}
	if topo.FerretDB == "" || topo.WritesSerialised || topo.Kind != mongostore.Standalone {
		t.Fatalf("plain FerretDB seen as %+v", topo)
	}
	err = topo.CheckAtomicUpdates()
	if !errors.Is(err, mongostore.ErrNonAtomicUpdates) {
		t.Fatalf("CheckAtomicUpdates = %v, want ErrNonAtomicUpdates", err)
	}
	t.Logf("refused: %v", err)
}

func TestCheckAtomicUpdates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   mongostore.Topology
		ok   bool
	}{
		{"MongoDB standalone", mongostore.Topology{Kind: mongostore.Standalone, Version: "7.0.12"}, true},
		{"MongoDB replica set", mongostore.Topology{Kind: mongostore.ReplicaSet, SetName: "rs0", Version: "7.0.12"}, true},
		{"mongos", mongostore.Topology{Kind: mongostore.Sharded, Version: "7.0.12"}, true},
		{"embedded FerretDB", mongostore.Topology{Kind: mongostore.Standalone, FerretDB: "v1.24.0", WritesSerialised: true}, true},
		{"plain FerretDB", mongostore.Topology{Kind: mongostore.Standalone, FerretDB: "v1.24.0"}, false},
		{"plain FerretDB v2", mongostore.Topology{Kind: mongostore.Standalone, FerretDB: "v2.1.0"}, false},
	}
	for _, tt := range tests {
		err := tt.in.CheckAtomicUpdates()
		if (err == nil) != tt.ok {
			t.Errorf("%s: CheckAtomicUpdates = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
