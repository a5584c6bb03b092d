package drill

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{URLs: []string{DefaultURL}, N: 200, Concurrency: 16, Mix: 0.5, MongoURI: DefaultMongoURI,
		DB: DefaultDB, APIKey: "test_key", Timeout: 10 * time.Second, Deadline: 2 * time.Minute}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no MongoDB checks", func(c *Config) { c.MongoURI, c.DB = "", "" }, ""},
		{"mix 0", func(c *Config) { c.Mix = 0 }, ""},
		{"mix 1", func(c *Config) { c.Mix = 1 }, ""},
		{"https and several URLs", func(c *Config) { c.URLs = []string{"https://a.test:8443", "http://[::1]:3000/base"} }, ""},
		{"n 0", func(c *Config) { c.N = 0 }, "-n must be at least 1"},
		{"c 0", func(c *Config) { c.Concurrency = 0 }, "-c must be at least 1"},
		{"for a minute", func(c *Config) { c.For = time.Minute }, ""},
		{"for negative", func(c *Config) { c.For = -time.Second }, "-for must not be negative"},
		{"abandon a fifth", func(c *Config) { c.Abandon, c.RecoveryWait = 0.2, time.Minute }, ""},
		{"abandon over 1", func(c *Config) { c.Abandon = 1.2 }, "-abandon"},
		{"recovery wait negative", func(c *Config) { c.RecoveryWait = -time.Second }, "-recovery-wait"},
		{"mix negative", func(c *Config) { c.Mix = -0.1 }, "-mix"},
		{"mix over 1", func(c *Config) { c.Mix = 1.5 }, "-mix"},
		{"mix NaN", func(c *Config) { c.Mix = math.NaN() }, "-mix"},
		{"no URL", func(c *Config) { c.URLs = nil }, "at least one base URL"},
		{"no scheme", func(c *Config) { c.URLs = []string{"127.0.0.1:3000"} }, "must start with http"},
		{"ftp", func(c *Config) { c.URLs = []string{"ftp://127.0.0.1"} }, "must start with http"},
		{"no host", func(c *Config) { c.URLs = []string{"http://"} }, "no host"},
		{"query", func(c *Config) { c.URLs = []string{"http://127.0.0.1:3000?x=1"} }, "base URL"},
		{"unparsable", func(c *Config) { c.URLs = []string{"http://a b"} }, "not a URL"},
		{"empty key", func(c *Config) { c.APIKey = "" }, "-api-key"},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "-timeout"},
		{"negative deadline", func(c *Config) { c.Deadline = -time.Second }, "-deadline"},
		{"empty db", func(c *Config) { c.DB = "" }, "-db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"http://127.0.0.1:3000", []string{"http://127.0.0.1:3000"}},
		{"http://a:1/, http://b:2 ,,", []string{"http://a:1", "http://b:2"}},
		{"", nil},
		{" , ", nil},
	}
	for _, tt := range tests {
		if got := ParseURLs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("ParseURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
