package bench

import (
	"slices"
	"testing"
)

func TestServerEnvUnsafeFerretDB(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		unsafe bool
		want   bool
	}{
		{"off by default", false, false},
		{"passed on when asked", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := serverEnv(3000, "k", "a", "mongodb://127.0.0.1:27099/", "db", "/tmp/d", "off", tt.unsafe)
			if got := slices.Contains(env, "MONGODB_UNSAFE_FERRETDB=true"); got != tt.want {
				t.Fatalf("MONGODB_UNSAFE_FERRETDB=true in env = %v, want %v (env %q)", got, tt.want, env)
			}
		})
	}
}
