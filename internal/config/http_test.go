package config

import (
	"strings"
	"testing"
	"time"
)

func TestHTTPTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		env               map[string]string
		read, write, idle time.Duration
		wantErrNaming     string // "" means valid
	}{
		{"defaults", map[string]string{}, 15 * time.Second, 75 * time.Second, 60 * time.Second, ""},
		{"set", map[string]string{"HTTP_READ_TIMEOUT": "5s", "HTTP_WRITE_TIMEOUT": "2m", "HTTP_IDLE_TIMEOUT": "30s"},
			5 * time.Second, 2 * time.Minute, 30 * time.Second, ""},
		{"milliseconds", map[string]string{"HTTP_READ_TIMEOUT": "2500"}, 2500 * time.Millisecond, 75 * time.Second, 60 * time.Second, ""},
		{"read not a duration", map[string]string{"HTTP_READ_TIMEOUT": "slow"}, 0, 0, 0, "HTTP_READ_TIMEOUT"},
		{"read zero", map[string]string{"HTTP_READ_TIMEOUT": "0s"}, 0, 0, 0, "HTTP_READ_TIMEOUT"},
		{"read not below write", map[string]string{"HTTP_READ_TIMEOUT": "75s"}, 0, 0, 0, "HTTP_READ_TIMEOUT"},
		{"write negative", map[string]string{"HTTP_WRITE_TIMEOUT": "-1s"}, 0, 0, 0, "HTTP_WRITE_TIMEOUT"},
		{"write at the provider's longest delay", map[string]string{"HTTP_WRITE_TIMEOUT": "60s"}, 0, 0, 0, "HTTP_WRITE_TIMEOUT"},
		{"write too short", map[string]string{"HTTP_WRITE_TIMEOUT": "30s"}, 0, 0, 0, "HTTP_WRITE_TIMEOUT"},
		{"idle zero", map[string]string{"HTTP_IDLE_TIMEOUT": "0"}, 0, 0, 0, "HTTP_IDLE_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.env["API_KEY"] = "k"
			c, err := Parse(lookup(tt.env))
			if tt.wantErrNaming != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrNaming) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErrNaming)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTPReadTimeout != tt.read || c.HTTPWriteTimeout != tt.write || c.HTTPIdleTimeout != tt.idle {
				t.Fatalf("read %s write %s idle %s, want %s %s %s", c.HTTPReadTimeout, c.HTTPWriteTimeout, c.HTTPIdleTimeout, tt.read, tt.write, tt.idle)
			}
		})
	}
}

func TestAdminAPIKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		env           map[string]string
		want          string
		wantErrNaming string
	}{
		// Unset, the admin routes are off: they are never open to API_KEY.
		{"unset", map[string]string{"API_KEY": "k"}, "", ""},
		{"blank", map[string]string{"API_KEY": "k", "ADMIN_API_KEY": "  "}, "", ""},
		{"set", map[string]string{"API_KEY": "k", "ADMIN_API_KEY": "adm"}, "adm", ""},
		{"same as the API key", map[string]string{"API_KEY": "k", "ADMIN_API_KEY": "k"}, "", "ADMIN_API_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(lookup(tt.env))
			if tt.wantErrNaming != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrNaming) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErrNaming)
				}
				return
			}
			if err != nil || c.AdminAPIKey != tt.want {
				t.Fatalf("AdminAPIKey = %q, %v; want %q", c.AdminAPIKey, err, tt.want)
			}
		})
	}
}
