package bench

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []Mode
		wantErr string
	}{
		{"unique", []Mode{ModeUnique}, ""},
		{" raw , list ", []Mode{ModeRaw, ModeList}, ""},
		{"replay,replay,race", []Mode{ModeReplay, ModeRace}, ""},
		{"all", []Mode{ModeList, ModeRaw, ModeUnique, ModeReplay, ModeRace}, ""},
		{"", nil, "at least one mode"},
		{",,", nil, "at least one mode"},
		{"unique,fast", nil, `unknown mode "fast"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseModes(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("ParseModes(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	valid := Config{
		Modes: []Mode{ModeUnique}, Concurrency: 16, N: 100, URL: DefaultURL, APIKey: "k", AdminKey: "a",
		DB: DefaultDB, Group: DefaultGroup, Timeout: time.Second,
	}
	tests := []struct {
		name string
		edit func(*Config)
		want []string // substrings of the error; none: valid
	}{
		{"valid", func(*Config) {}, nil},
		{"raw with a store", func(c *Config) { c.Modes = []Mode{ModeRaw}; c.MongoURI = "mongodb://127.0.0.1:27017"; c.URL = "" }, nil},
		{"raw on a started server", func(c *Config) { c.Modes = []Mode{ModeRaw}; c.StartServer = true; c.ServerBin = "bin/server" }, nil},
		{"raw without a store", func(c *Config) { c.Modes = []Mode{ModeRaw} }, []string{"-mode raw needs -mongo-uri"}},
		{"keep behavior needs no admin key", func(c *Config) { c.AdminKey = ""; c.KeepBehavior = true }, nil},
		{"admin key needed", func(c *Config) { c.AdminKey = "" }, []string{"-admin-key"}},
		{"started server needs distinct keys", func(c *Config) { c.StartServer = true; c.ServerBin = "b"; c.AdminKey = "k" }, []string{"must differ"}},
		{"every bad field at once", func(c *Config) {
			c.Concurrency, c.N, c.Prefill, c.Timeout, c.APIKey = 0, 0, -1, 0, ""
		}, []string{"-c must", "-n must", "-prefill", "-timeout", "-api-key"}},
		{"pid and start-server", func(c *Config) { c.PID = 42; c.StartServer = true; c.ServerBin = "b" }, []string{"exclude each other"}},
		{"bad URL", func(c *Config) { c.URL = "127.0.0.1:3000" }, []string{"-url"}},
		{"URL with a query", func(c *Config) { c.URL = "http://x/?a=1" }, []string{"base URL"}},
		{"URL ignored with start-server", func(c *Config) { c.URL = "nonsense"; c.StartServer = true; c.ServerBin = "b" }, nil},
		{"bad mongo URI", func(c *Config) { c.MongoURI = "localhost:27017" }, []string{"-mongo-uri"}},
		{"bad db", func(c *Config) { c.DB = "a.b" }, []string{"-db"}},
		{"race group too large", func(c *Config) { c.Modes = []Mode{ModeRace}; c.Group = 32 }, []string{"-group"}},
		{"race group of one", func(c *Config) { c.Modes = []Mode{ModeRace}; c.Group = 1 }, []string{"-group"}},
		{"group ignored without race", func(c *Config) { c.Group = 0 }, nil},
		{"unknown mode", func(c *Config) { c.Modes = []Mode{"fast"} }, []string{`unknown mode "fast"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid
			c.Modes = slices.Clone(valid.Modes)
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
