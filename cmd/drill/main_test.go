package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBadFlags checks that bad flags end with status 2 and a message, before
// anything is sent anywhere.
func TestBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"help", []string{"-h"}, 0, "usage: drill"},
		{"n 0", []string{"-n", "0"}, 2, "-n must be at least 1"},
		{"c negative", []string{"-c", "-1"}, 2, "-c must be at least 1"},
		{"mix too big", []string{"-mix", "1.5"}, 2, "-mix"},
		{"bad scheme", []string{"-urls", "ftp://127.0.0.1:3000"}, 2, "http://"},
		{"one bad URL of two", []string{"-urls", "http://127.0.0.1:1,127.0.0.1:2"}, 2, "127.0.0.1:2"},
		{"unknown flag", []string{"-bogus"}, 2, "flag provided but not defined"},
		{"not a number", []string{"-n", "many"}, 2, "invalid value"},
		{"stray argument", []string{"extra"}, 2, "unexpected arguments"},
		{"zero timeout", []string{"-timeout", "0s"}, 2, "-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr); got != tt.want {
				t.Errorf("run(%q) = %d, want %d; stderr:\n%s", tt.args, got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("run(%q) stderr %q, want it to mention %q", tt.args, stderr.String(), tt.msg)
			}
		})
	}
}
