// Package bench measures the payments service under load: the rate and
// latency of first requests, replays, racing requests and listing, the raw
// ceiling of its store for the same command pattern, and what each request
// costs the server in CPU time and memory.
package bench

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Mode is one kind of load.
type Mode string

// The modes.
const (
	// ModeUnique sends first requests: POST /orders, each with a fresh key.
	ModeUnique Mode = "unique"
	// ModeReplay re-sends a fixed set of completed keys: every answer is a replay.
	ModeReplay Mode = "replay"
	// ModeRace sends groups of concurrent requests sharing one key: one
	// creates, the others get 409 or a replay.
	ModeRace Mode = "race"
	// ModeList reads GET /orders?limit=20: unfiltered, by userId, by status,
	// and 50 pages deep.
	ModeList Mode = "list"
	// ModeRaw issues a first POST /orders' store commands through the
	// driver, without HTTP: the store's ceiling for the service.
	ModeRaw Mode = "raw"
)

// Modes lists every mode in the order of the usage text.
var Modes = []Mode{ModeUnique, ModeReplay, ModeRace, ModeList, ModeRaw}

// Config is one bench run: one or more modes against one server.
type Config struct {
	Modes        []Mode
	Concurrency  int
	N            int // requests per mode
	URL          string
	APIKey       string
	AdminKey     string
	Prefill      int    // orders stored before measuring
	PID          int    // server process to measure; 0: none
	StartServer  bool   // build nothing, run ServerBin on a free port
	ServerBin    string // the server binary for StartServer
	MongoURI     string // the store, for raw mode and a fast prefill; with StartServer, the server's store too
	DB           string
	KeepBehavior bool          // leave the provider's delay and failure rate as they are
	Group        int           // race mode: requests per key
	Timeout      time.Duration // per HTTP request
	Label        string        // the store's name in reports
	// UnsafeFerretDB starts the server with MONGODB_UNSAFE_FERRETDB=true,
	// so that it accepts a FerretDB reached directly (-mongo-uri), whose
	// conditional updates are not atomic. For measurements only.
	UnsafeFerretDB bool
}

// Defaults for the command's flags.
const (
	DefaultURL         = "http://127.0.0.1:3000"
	DefaultConcurrency = 16
	DefaultN           = 2000
	DefaultDB          = "reliability_demo"
	DefaultGroup       = 4
)

// ParseModes reads a comma-separated list of modes; "all" is every mode.
func ParseModes(s string) ([]Mode, error) {
	var out []Mode
	seen := map[Mode]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if f == "all" {
			return ParseModes("list,raw,unique,replay,race")
		}
		m := Mode(f)
		if !validMode(m) {
			return nil, fmt.Errorf("-mode: unknown mode %q (want %s, or all)", f, modeNames())
		}
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-mode: at least one mode is needed (%s)", modeNames())
	}
	return out, nil
}

func validMode(m Mode) bool {
	for _, k := range Modes {
		if k == m {
			return true
		}
	}
	return false
}

func modeNames() string {
	names := make([]string, len(Modes))
	for i, m := range Modes {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// Has reports whether the run includes mode m.
func (c Config) Has(m Mode) bool {
	for _, k := range c.Modes {
		if k == m {
			return true
		}
	}
	return false
}

// needsHTTP reports whether any mode talks to the service.
func (c Config) needsHTTP() bool {
	for _, m := range c.Modes {
		if m != ModeRaw {
			return true
		}
	}
	return false
}

// Validate checks every field and names all the bad ones at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Modes) == 0 {
		errs = append(errs, errors.New("-mode: at least one mode is needed"))
	}
	for _, m := range c.Modes {
		if !validMode(m) {
			errs = append(errs, fmt.Errorf("-mode: unknown mode %q", m))
		}
	}
	if c.Concurrency < 1 || c.Concurrency > 4096 {
		errs = append(errs, fmt.Errorf("-c must be between 1 and 4096, got %d", c.Concurrency))
	}
	if c.N < 1 {
		errs = append(errs, fmt.Errorf("-n must be at least 1, got %d", c.N))
	}
	if c.Prefill < 0 {
		errs = append(errs, fmt.Errorf("-prefill must not be negative, got %d", c.Prefill))
	}
	if c.PID < 0 {
		errs = append(errs, fmt.Errorf("-pid must not be negative, got %d", c.PID))
	}
	if c.StartServer && c.PID != 0 {
		errs = append(errs, errors.New("-pid and -start-server exclude each other: a started server's PID is known"))
	}
	if c.StartServer && c.ServerBin == "" {
		errs = append(errs, errors.New("-server-bin must name the server binary"))
	}
	if !c.StartServer && (c.needsHTTP() || c.Prefill > 0 && c.MongoURI == "") {
		if err := checkBaseURL(c.URL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.APIKey == "" {
		errs = append(errs, errors.New("-api-key must not be empty"))
	}
	if !c.KeepBehavior && c.needsHTTP() && c.AdminKey == "" {
		errs = append(errs, errors.New("-admin-key must not be empty (or pass -keep-behavior)"))
	}
	if c.StartServer && c.AdminKey != "" && c.AdminKey == c.APIKey {
		errs = append(errs, errors.New("-admin-key must differ from -api-key: the server refuses to start otherwise"))
	}
	if c.Has(ModeRaw) && c.MongoURI == "" && !c.StartServer {
		errs = append(errs, errors.New("-mode raw needs -mongo-uri (or -start-server, whose embedded store it then uses)"))
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		errs = append(errs, errors.New("-mongo-uri must start with mongodb:// or mongodb+srv://"))
	}
	if c.DB == "" || strings.ContainsAny(c.DB, "/\\. \"$") {
		errs = append(errs, fmt.Errorf("-db must be a valid database name, got %q", c.DB))
	}
	if c.Has(ModeRace) && (c.Group < 2 || c.Group > c.Concurrency) {
		errs = append(errs, fmt.Errorf("-group must be between 2 and -c (%d), got %d", c.Concurrency, c.Group))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("-timeout must be positive, got %v", c.Timeout))
	}
	return errors.Join(errs...)
}

// checkBaseURL accepts http(s)://host[:port] with an optional path.
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("-url: %q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("-url: %q must start with http:// or https://", s)
	case u.Host == "":
		return fmt.Errorf("-url: %q has no host", s)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("-url: %q must be a base URL, without query or fragment", s)
	}
	return nil
}
