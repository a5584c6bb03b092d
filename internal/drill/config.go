// Package drill runs a failure drill against the payments service: many
// logical payments, each retried with its own Idempotency-Key until it gets a
// final answer, followed by invariant checks read straight from MongoDB. It
// is the client side of the service's promise that, however a client
// retries, each operation takes effect exactly once.
package drill

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config is one drill run.
type Config struct {
	URLs        []string      // base URLs of the service, tried in turn
	N           int           // logical payments
	For         time.Duration // stop starting payments after this long; 0: start all N
	Concurrency int           // payments in flight at once
	Mix         float64       // fraction of payments that are intents rather than orders
	MongoURI    string        // "": skip the MongoDB checks
	DB          string        // database name
	APIKey      string        // bearer key
	Timeout     time.Duration // per HTTP attempt
	Deadline    time.Duration // per logical payment, retries and polling included
	Refunds     bool          // refund succeeded intents, partly and concurrently
	Seed        uint64        // drives every random choice of the run
	Progress    bool          // draw a progress bar on stderr
	// Abandon is the share of clients that send each write once and give
	// up without a final answer; RecoveryWait is how long the drill then
	// gives the service's completer to finish what they left before it
	// checks.
	Abandon      float64
	RecoveryWait time.Duration
	// Webhooks runs a webhook consumer on a loopback port, registered for
	// every event, and checks what it received; WebhookFaults, if set, are
	// the delivery faults to set first (with AdminKey); WebhookWait is how
	// long, after the payments, deliveries may take to arrive.
	Webhooks      bool
	WebhookFaults *WebhookFaults
	WebhookWait   time.Duration
	AdminKey      string
}

// Defaults for the command's flags.
const (
	DefaultURL      = "http://127.0.0.1:3000"
	DefaultMongoURI = "mongodb://127.0.0.1:27017"
	DefaultDB       = "reliability_demo"
)

// Validate checks every field and names all the bad ones at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.URLs) == 0 {
		errs = append(errs, errors.New("-urls: at least one base URL is needed"))
	}
	for _, u := range c.URLs {
		if err := checkBaseURL(u); err != nil {
			errs = append(errs, err)
		}
	}
	if c.N < 1 {
		errs = append(errs, fmt.Errorf("-n must be at least 1, got %d", c.N))
	}
	if c.For < 0 {
		errs = append(errs, fmt.Errorf("-for must not be negative, got %v", c.For))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("-c must be at least 1, got %d", c.Concurrency))
	}
	if !(c.Mix >= 0 && c.Mix <= 1) { // also refuses NaN
		errs = append(errs, fmt.Errorf("-mix must be between 0 and 1, got %g", c.Mix))
	}
	if !(c.Abandon >= 0 && c.Abandon <= 1) {
		errs = append(errs, fmt.Errorf("-abandon must be between 0 and 1, got %g", c.Abandon))
	}
	if c.RecoveryWait < 0 {
		errs = append(errs, fmt.Errorf("-recovery-wait must not be negative, got %v", c.RecoveryWait))
	}
	if c.WebhookFaults != nil && c.AdminKey == "" {
		errs = append(errs, errors.New("-admin-key is needed to set webhook faults"))
	}
	if c.WebhookWait < 0 {
		errs = append(errs, fmt.Errorf("-webhook-wait must not be negative, got %v", c.WebhookWait))
	}
	if c.MongoURI != "" && c.DB == "" {
		errs = append(errs, errors.New("-db must not be empty"))
	}
	if c.APIKey == "" {
		errs = append(errs, errors.New("-api-key must not be empty"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("-timeout must be positive, got %v", c.Timeout))
	}
	if c.Deadline <= 0 {
		errs = append(errs, fmt.Errorf("-deadline must be positive, got %v", c.Deadline))
	}
	return errors.Join(errs...)
}

// ParseURLs splits a comma-separated list of base URLs, dropping blanks and
// trailing slashes so that paths can be appended as they are.
func ParseURLs(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			out = append(out, u)
		}
	}
	return out
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case !strings.Contains(s, "://"):
		return fmt.Errorf("-urls: %q must start with http:// or https://", s)
	case err != nil:
		return fmt.Errorf("-urls: %q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("-urls: %q must start with http:// or https://", s)
	case u.Host == "":
		return fmt.Errorf("-urls: %q has no host", s)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("-urls: %q must be a base URL, without query or fragment", s)
	}
	return nil
}
