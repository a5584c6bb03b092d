package config

import (
	"strings"
	"testing"
)

func TestMetricsAddr(t *testing.T) {
	tests := []struct {
		name    string
		in      string // "" leaves METRICS_ADDR unset
		want    string
		invalid bool
	}{
		{"loopback by default", "", "127.0.0.1:9090", false},
		{"off", "off", "off", false},
		{"every interface, as in compose", "0.0.0.0:9090", "0.0.0.0:9090", false},
		{"empty host", ":9091", ":9091", false},
		{"any free port", "127.0.0.1:0", "127.0.0.1:0", false},
		{"IPv6 loopback", "[::1]:9090", "[::1]:9090", false},
		{"port alone", "9090", "", true},
		{"no port", "127.0.0.1:", "", true},
		{"named port", "127.0.0.1:http", "", true},
		{"port out of range", "127.0.0.1:70000", "", true},
		{"negative port", "127.0.0.1:-1", "", true},
		{"a URL", "http://127.0.0.1:9090", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"API_KEY": "k"}
			if tt.in != "" {
				env["METRICS_ADDR"] = tt.in
			}
			c, err := Parse(lookup(env))
			if tt.invalid {
				if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
					t.Fatalf("err = %v, want one naming METRICS_ADDR", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.MetricsAddr != tt.want {
				t.Fatalf("MetricsAddr = %q, want %q", c.MetricsAddr, tt.want)
			}
		})
	}
}
