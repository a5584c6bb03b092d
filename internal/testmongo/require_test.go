package testmongo

import (
	"strings"
	"testing"
)

// With MONGO_TEST_REQUIRE set and no MongoDB to be had, start fails rather
// than falling back to the embedded server. (Not parallel: it sets the
// environment.)
func TestRequireRefusesTheEmbeddedFallback(t *testing.T) {
	tests := []struct {
		name    string
		require string
		want    string // in the error
	}{
		{"1", "1", "MONGO_TEST_REQUIRE is set"},
		{"true", "true", "MONGO_TEST_REQUIRE is set"},
		{"invalid", "please", "MONGO_TEST_REQUIRE must be true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MONGODB_TEST_URI", "")
			t.Setenv("MONGO_TEST_IMAGE", "none") // no Docker: only the fallback is left
			t.Setenv("MONGO_TEST_REQUIRE", tt.require)

			s := start(t)
			if s.err == nil {
				t.Fatalf("start gave a server (%s) despite MONGO_TEST_REQUIRE=%s", s.desc, tt.require)
			}
			if !strings.Contains(s.err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", s.err, tt.want)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"", false, false},
		{"0", false, false},
		{"false", false, false},
		{"1", true, false},
		{"TRUE", true, false},
		{" true ", true, false},
		{"yes", false, true},
	}
	for _, tt := range tests {
		t.Setenv("MONGO_TEST_REQUIRE", tt.in)
		got, err := required()
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("MONGO_TEST_REQUIRE=%q: required() = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
