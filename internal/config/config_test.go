package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Parse(lookup(map[string]string{"API_KEY": "k"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 3000 || c.MongoDB != "reliability_demo" || !c.Embedded() || c.AdminAPIKey != "" ||
		c.IdempotencyTTL != 24*time.Hour || c.IdempotencyLease != 30*time.Second ||
		c.EmbeddedDataDir != "./data" || c.EmbeddedMongoAddr != "127.0.0.1:27017" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestValues(t *testing.T) {
	c, err := Parse(lookup(map[string]string{
		"API_KEY": "k", "ADMIN_API_KEY": "adm", "PORT": "8080", "MONGODB_URI": "embedded",
		"IDEMPOTENCY_TTL": "1h", "IDEMPOTENCY_LEASE": "1500", "EMBEDDED_MONGO_ADDR": "off",
		"ASYNC_DELAY": "0", "ASYNC_JITTER": "250", "CORS_ORIGINS": "https://a.example, https://b.example",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.AdminAPIKey != "adm" || !c.Embedded() || c.IdempotencyTTL != time.Hour ||
		c.IdempotencyLease != 1500*time.Millisecond || c.EmbeddedMongoAddr != "off" ||
		c.AsyncDelay != 0 || c.AsyncJitter != 250*time.Millisecond || len(c.CORSOrigins) != 2 || c.CORSOrigins[1] != "https://b.example" {
		t.Fatalf("values: %+v", c)
	}
}

func TestWebhookSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"defaults", map[string]string{}, Config{WebhookMaxAttempts: 8, WebhookRetryWindow: time.Hour, WebhookTimeout: 10 * time.Second,
			WebhookConcurrency: 8, WebhookPoll: 200 * time.Millisecond, WebhookRefresh: time.Second}},
		{"drill", map[string]string{"WEBHOOK_MAX_ATTEMPTS": "10", "WEBHOOK_RETRY_WINDOW": "30s", "WEBHOOK_TIMEOUT": "2s",
			"WEBHOOK_ALLOW_ALL_HOSTS": "true", "WEBHOOK_CONCURRENCY": "16", "WEBHOOK_POLL_INTERVAL": "50ms", "WEBHOOK_REFRESH": "500ms"},
			Config{WebhookMaxAttempts: 10, WebhookRetryWindow: 30 * time.Second, WebhookTimeout: 2 * time.Second, WebhookAllowAllHosts: true,
				WebhookConcurrency: 16, WebhookPoll: 50 * time.Millisecond, WebhookRefresh: 500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["API_KEY"] = "k"
			c, err := Parse(lookup(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			if c.WebhookMaxAttempts != w.WebhookMaxAttempts || c.WebhookRetryWindow != w.WebhookRetryWindow ||
				c.WebhookTimeout != w.WebhookTimeout || c.WebhookAllowAllHosts != w.WebhookAllowAllHosts ||
				c.WebhookConcurrency != w.WebhookConcurrency || c.WebhookPoll != w.WebhookPoll || c.WebhookRefresh != w.WebhookRefresh {
				t.Fatalf("webhook settings: %+v", c)
			}
		})
	}
}

func TestUnsafeFerretDB(t *testing.T) {
	tests := []struct {
		name string
		in   string // "" leaves the variable unset
		want bool
	}{
		{"off by default", "", false},
		{"true", "true", true},
		{"1", "1", true},
		{"false", "false", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"API_KEY": "k"}
			if tt.in != "" {
				env["MONGODB_UNSAFE_FERRETDB"] = tt.in
			}
			c, err := Parse(lookup(env))
			if err != nil {
				t.Fatal(err)
			}
			if c.UnsafeFerretDB != tt.want {
				t.Fatalf("UnsafeFerretDB = %v, want %v", c.UnsafeFerretDB, tt.want)
			}
		})
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no API key", map[string]string{}, "API_KEY"},
		{"port text", map[string]string{"API_KEY": "k", "PORT": "http"}, "PORT"},
		{"port range", map[string]string{"API_KEY": "k", "PORT": "70000"}, "PORT"},
		{"ttl", map[string]string{"API_KEY": "k", "IDEMPOTENCY_TTL": "forever"}, "IDEMPOTENCY_TTL"},
		{"lease negative", map[string]string{"API_KEY": "k", "IDEMPOTENCY_LEASE": "-5s"}, "IDEMPOTENCY_LEASE"},
		{"embedded addr", map[string]string{"API_KEY": "k", "EMBEDDED_MONGO_ADDR": "27017"}, "EMBEDDED_MONGO_ADDR"},
		{"db name", map[string]string{"API_KEY": "k", "MONGODB_DB": "a.b"}, "MONGODB_DB"},
		{"failure rate", map[string]string{"API_KEY": "k", "PAYMENT_FAILURE_RATE": "2"}, "PAYMENT_FAILURE_RATE"},
		{"delays", map[string]string{"API_KEY": "k", "PAYMENT_MIN_DELAY_MS": "500", "PAYMENT_MAX_DELAY_MS": "100"}, "PAYMENT_MIN_DELAY_MS"},
		{"log level", map[string]string{"API_KEY": "k", "LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"async delay", map[string]string{"API_KEY": "k", "ASYNC_DELAY": "2m"}, "ASYNC_DELAY"},
		{"intent failure rate", map[string]string{"API_KEY": "k", "INTENT_FAILURE_RATE": "-0.5"}, "INTENT_FAILURE_RATE"},
		{"workers", map[string]string{"API_KEY": "k", "WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY"},
		{"worker lease", map[string]string{"API_KEY": "k", "WORKER_LEASE": "soon"}, "WORKER_LEASE"},
		{"rate limit", map[string]string{"API_KEY": "k", "RATE_LIMIT_RPS": "fast"}, "RATE_LIMIT_RPS"},
		{"faults", map[string]string{"API_KEY": "k", "FAULTS_ENABLED": "maybe"}, "FAULTS_ENABLED"},
		{"burst", map[string]string{"API_KEY": "k", "RATE_LIMIT_BURST": "0"}, "RATE_LIMIT_BURST"},
		{"unsafe ferretdb", map[string]string{"API_KEY": "k", "MONGODB_UNSAFE_FERRETDB": "yes please"}, "MONGODB_UNSAFE_FERRETDB"},
		{"webhook attempts", map[string]string{"API_KEY": "k", "WEBHOOK_MAX_ATTEMPTS": "0"}, "WEBHOOK_MAX_ATTEMPTS"},
		{"webhook attempts too many", map[string]string{"API_KEY": "k", "WEBHOOK_MAX_ATTEMPTS": "21"}, "WEBHOOK_MAX_ATTEMPTS"},
		{"webhook window", map[string]string{"API_KEY": "k", "WEBHOOK_RETRY_WINDOW": "a while"}, "WEBHOOK_RETRY_WINDOW"},
		{"webhook timeout", map[string]string{"API_KEY": "k", "WEBHOOK_TIMEOUT": "-1s"}, "WEBHOOK_TIMEOUT"},
		{"webhook hosts", map[string]string{"API_KEY": "k", "WEBHOOK_ALLOW_ALL_HOSTS": "sure"}, "WEBHOOK_ALLOW_ALL_HOSTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(lookup(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestEnvironmentWinsOverFile(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/.env"
	if err := os.WriteFile(file, []byte("API_KEY=from_file\nPORT=4000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PORT", "5000")
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if c.APIKey != "from_file" || c.Port != 5000 {
		t.Fatalf("got API_KEY=%q PORT=%d", c.APIKey, c.Port)
	}
	if _, err := Load(dir + "/missing.env"); err == nil || !strings.Contains(err.Error(), "API_KEY") {
		t.Fatalf("missing file should be fine but API_KEY required: %v", err)
	}
}

func TestRecovery(t *testing.T) {
	tests := []struct {
		name          string
		env           map[string]string
		after, every  time.Duration
		wantErrorName string
	}{
		{"three leases by default", map[string]string{}, 90 * time.Second, 15 * time.Second, ""},
		{"follows the lease", map[string]string{"IDEMPOTENCY_LEASE": "2s"}, 6 * time.Second, 15 * time.Second, ""},
		{"set", map[string]string{"RECOVERY_AFTER": "5s", "COMPLETER_INTERVAL": "500ms"}, 5 * time.Second, 500 * time.Millisecond, ""},
		{"bad after", map[string]string{"RECOVERY_AFTER": "soon"}, 0, 0, "RECOVERY_AFTER"},
		{"bad interval", map[string]string{"COMPLETER_INTERVAL": "-1s"}, 0, 0, "COMPLETER_INTERVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"API_KEY": "k"}
			for k, v := range tt.env {
				env[k] = v
			}
			c, err := Parse(lookup(env))
			if tt.wantErrorName != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrorName) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErrorName)
				}
				return
			}
			if err != nil || c.RecoveryAfter != tt.after || c.CompleterInterval != tt.every {
				t.Fatalf("RecoveryAfter %v, CompleterInterval %v, err %v; want %v, %v", c.RecoveryAfter, c.CompleterInterval, err, tt.after, tt.every)
			}
		})
	}
}
