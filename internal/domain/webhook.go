package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// WebhookEndpoint is a URL that is sent the events of the types it enabled,
// signed with its secret.
type WebhookEndpoint struct {
	ID            string
	URL           string
	EnabledEvents []string // event types, or "*" for all
	// Secret signs deliveries (Standard Webhooks, "whsec_" + base64). It is
	// shown to the client once, in the response that creates the endpoint.
	Secret  string
	Created time.Time
}

// WebhookEndpointIDPrefix begins every endpoint id.
const WebhookEndpointIDPrefix = "we_"

// AllEvents, in EnabledEvents, subscribes an endpoint to every event type.
const AllEvents = "*"

// Matches reports whether the endpoint subscribed to events of type t.
func (e WebhookEndpoint) Matches(t EventType) bool {
	for _, s := range e.EnabledEvents {
		if s == AllEvents || s == string(t) {
			return true
		}
	}
	return false
}

// NewWebhookEndpoint is what a client sends to create an endpoint.
type NewWebhookEndpoint struct {
	URL           string
	EnabledEvents []string
}

// Limits of an endpoint's fields.
const (
	MaxWebhookURLLen = 2048
	maxEnabledEvents = 32
)

// Validate checks the URL and the event types. Unless allowAllHosts, a URL
// whose host is a literal link-local or cloud-metadata address is refused:
// the service POSTs to it from inside its own network, and those addresses
// answer with the instance's credentials. Hostnames are checked again when
// the delivery connects, after DNS (see RefusedWebhookAddr).
func (n NewWebhookEndpoint) Validate(allowAllHosts bool) error {
	if n.URL == "" {
		return Invalid("url", "invalid_url", "url is required.")
	}
	if len(n.URL) > MaxWebhookURLLen || !validIdentifier(n.URL, MaxWebhookURLLen) || strings.ContainsAny(n.URL, " \t") {
		return Invalid("url", "invalid_url", "url must be an absolute http or https URL of at most %d characters, without spaces.", MaxWebhookURLLen)
	}
	u, err := url.Parse(n.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return Invalid("url", "invalid_url", "url must be an absolute http or https URL with a host.")
	}
	if u.User != nil {
		// Credentials in the URL would be shown by every GET of the endpoint.
		return Invalid("url", "invalid_url", "url must not contain a user name or password.")
	}
	if u.Fragment != "" {
		return Invalid("url", "invalid_url", "url must not contain a fragment.")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !allowAllHosts && RefusedWebhookAddr(ip) {
		return Invalid("url", "url_host_refused", "url must not point at a link-local or cloud metadata address.")
	}
	if len(n.EnabledEvents) == 0 {
		return Invalid("enabled_events", "invalid_enabled_events", "enabled_events must list at least one event type, or \"*\".")
	}
	if len(n.EnabledEvents) > maxEnabledEvents {
		return Invalid("enabled_events", "invalid_enabled_events", "enabled_events may list at most %d event types.", maxEnabledEvents)
	}
	for _, t := range n.EnabledEvents {
		if t != AllEvents && !EventType(t).Valid() {
			return Invalid("enabled_events", "invalid_enabled_events", "enabled_events must hold known event types or \"*\".")
		}
	}
	return nil
}

// refusedPrefixes are where deliveries never go: link-local networks, where
// cloud metadata services answer (169.254.169.254 on every major cloud),
// and AWS's IPv6 metadata address.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// RefusedWebhookAddr reports whether deliveries must not connect to ip
// (unless WEBHOOK_ALLOW_ALL_HOSTS). Loopback is allowed: tests, drills and
// local consumers listen there.
func RefusedWebhookAddr(ip netip.Addr) bool {
	ip = ip.Unmap() // ::ffff:169.254.169.254 is 169.254.169.254
	for _, p := range refusedPrefixes {
		if p.Contains(ip.WithZone("")) {
			return true
		}
	}
	return false
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses: pending until an attempt gets a 2xx (succeeded) or
// the attempts run out (failed).
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Final reports whether no more attempts will be made.
func (s DeliveryStatus) Final() bool { return s == DeliverySucceeded || s == DeliveryFailed }

// WebhookDelivery is one event sent to one endpoint, with its attempts.
type WebhookDelivery struct {
	ID         string
	EventID    string
	EventType  EventType
	EndpointID string
	// Redelivery is set on a delivery queued by POST /events/:id/redeliver.
	Redelivery    bool
	Status        DeliveryStatus
	Attempts      []DeliveryAttempt
	NextAttemptAt time.Time // when pending: when the next attempt is due
	Created       time.Time
	Updated       time.Time
}

// DeliveryAttempt is one try at a delivery.
type DeliveryAttempt struct {
	At         time.Time
	StatusCode int // 0 when no response came
	Latency    time.Duration
	Error      string // "" on success; one of the AttemptError codes otherwise
	Simulated  bool   // failRate: nothing was sent
	Duplicated bool   // duplicateRate: the request was sent twice
	Forged     bool   // forgedRate: a copy with a wrong signature was sent too
}

// Succeeded reports whether the attempt got a 2xx.
func (a DeliveryAttempt) Succeeded() bool {
	return a.Error == "" && a.StatusCode >= 200 && a.StatusCode < 300
}

// Codes of a failed attempt.
const (
	AttemptTimeout          = "timeout"           // no answer within WEBHOOK_TIMEOUT
	AttemptSimulatedTimeout = "simulated_timeout" // failRate: treated as a timeout, nothing sent
	AttemptConnection       = "connection_error"  // DNS, refused connection, TLS, reset
	AttemptRefusedAddress   = "refused_address"   // the host resolved to a refused address
	AttemptHTTPStatus       = "http_status"       // a response other than 2xx
	AttemptEndpointDeleted  = "endpoint_deleted"  // the endpoint is gone: given up
	AttemptEventMissing     = "event_missing"     // the event is gone: given up
)

// DeliveryIDPrefix begins every delivery id.
const DeliveryIDPrefix = "whd_"

// DeliveryID is the id of the delivery of source to endpointID, where source
// is an event id (the delivery the event itself causes) or a redelivery
// request's resource id. Deriving it makes queueing idempotent: a repeated
// enqueue finds the delivery queued before. Its first 12 hex digits are the
// source's (an event id's time; a resource id's seconds), so ids sort
// roughly by time; the rest is a hash of (source, endpoint).
func DeliveryID(source, endpointID string) string {
	hexPart := source[strings.LastIndexByte(source, '_')+1:]
	h := sha256.Sum256([]byte(source + "\x00" + endpointID))
	prefix := hexPart
	if len(prefix) > 12 {
		prefix = prefix[:12]
	}
	return DeliveryIDPrefix + prefix + hex.EncodeToString(h[:])[:24-len(prefix)]
}

// DeliveryFilter selects an endpoint's deliveries, newest first.
type DeliveryFilter struct {
	EndpointID    string
	StartingAfter string // a delivery id: list only older ones
	Limit         int
}

// WebhookFaults are the delivery faults of a drill. They are stored in
// MongoDB, like the provider's behavior, so they reach every instance.
type WebhookFaults struct {
	DuplicateRate   float64 // chance an attempt sends its request twice
	DelayMs         int     // each attempt waits this long…
	JitterMs        int     // …plus up to this much, before sending
	ReorderWindowMs int     // a new delivery becomes due up to this long after it is queued
	FailRate        float64 // chance an attempt sends nothing and counts as a timeout
	ForgedRate      float64 // chance an attempt also sends a copy with an invalid signature
}

// MaxWebhookDelayMs bounds the delivery delays: one minute, as the
// provider's.
const MaxWebhookDelayMs = 60_000

// WebhookFaultsPatch is a partial update: nil fields are left as they are.
type WebhookFaultsPatch struct {
	DuplicateRate   *float64
	DelayMs         *int
	JitterMs        *int
	ReorderWindowMs *int
	FailRate        *float64
	ForgedRate      *float64
}

// Validate checks each field the patch sets.
func (p WebhookFaultsPatch) Validate() error {
	for _, f := range []struct {
		name string
		v    *float64
	}{{"duplicateRate", p.DuplicateRate}, {"failRate", p.FailRate}, {"forgedRate", p.ForgedRate}} {
		if f.v != nil && (math.IsNaN(*f.v) || *f.v < 0 || *f.v > 1) {
			return Invalid(f.name, "invalid_rate", "%s must be a number between 0 and 1.", f.name)
		}
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"delayMs", p.DelayMs}, {"jitterMs", p.JitterMs}, {"reorderWindowMs", p.ReorderWindowMs}} {
		if f.v != nil && (*f.v < 0 || *f.v > MaxWebhookDelayMs) {
			return Invalid(f.name, "invalid_delay", "%s must be an integer between 0 and %d.", f.name, MaxWebhookDelayMs)
		}
	}
	return nil
}

// Apply returns f with p applied, or the first invalid field's error.
func (f WebhookFaults) Apply(p WebhookFaultsPatch) (WebhookFaults, error) {
	if err := p.Validate(); err != nil {
		return f, err
	}
	setIf(&f.DuplicateRate, p.DuplicateRate)
	setIf(&f.DelayMs, p.DelayMs)
	setIf(&f.JitterMs, p.JitterMs)
	setIf(&f.ReorderWindowMs, p.ReorderWindowMs)
	setIf(&f.FailRate, p.FailRate)
	setIf(&f.ForgedRate, p.ForgedRate)
	return f, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
