package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/testmongo"
)

func TestCheckStore(t *testing.T) {
	t.Parallel()

	plain, err := mongo.Connect(mongostore.ClientOptions(testmongo.PlainFerretDB(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Disconnect(context.Background()) })

	tests := []struct {
		name        string
		db          *mongo.Database
		allowUnsafe bool
		wantErr     bool
		wantLog     string
	}{
		{"embedded or MongoDB test server", testmongo.Open(t), false, false, `msg="store topology"`},
		{"plain FerretDB", plain.Database("t_plain"), false, true, `msg="store topology"`},
		{"plain FerretDB with MONGODB_UNSAFE_FERRETDB", plain.Database("t_plain"), true, false, `level=WARN msg="MONGODB_UNSAFE_FERRETDB=true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))

			err := checkStore(t.Context(), mongostore.New(tt.db, log), tt.allowUnsafe, log)
			if (err != nil) != tt.wantErr {
				t.Fatalf("checkStore = %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, mongostore.ErrNonAtomicUpdates) || !strings.Contains(err.Error(), "MONGODB_UNSAFE_FERRETDB=true")) {
				t.Fatalf("the refusal does not explain itself: %v", err)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Fatalf("log lacks %q:\n%s", tt.wantLog, logs.String())
			}
			t.Logf("err: %v\nlog: %s", err, logs.String())
		})
	}
}
