package domain_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/reliabledemo/payments/internal/domain"
)

func TestNewWebhookEndpointValidate(t *testing.T) {
	t.Parallel()
	all := []string{"*"}
	tests := []struct {
		name     string
		in       domain.NewWebhookEndpoint
		allowAll bool
		code     string // "" means valid
		param    string
	}{
		{name: "https", in: domain.NewWebhookEndpoint{URL: "https://example.com/hooks", EnabledEvents: all}},
		{name: "http with port and query", in: domain.NewWebhookEndpoint{URL: "http://example.com:8080/h?x=1", EnabledEvents: []string{"order.paid"}}},
		{name: "loopback stays allowed", in: domain.NewWebhookEndpoint{URL: "http://127.0.0.1:9000/h", EnabledEvents: all}},
		{name: "IPv6 loopback", in: domain.NewWebhookEndpoint{URL: "http://[::1]:9000/h", EnabledEvents: all}},
		{name: "private network allowed", in: domain.NewWebhookEndpoint{URL: "http://10.0.0.5/h", EnabledEvents: all}},
		{name: "missing url", in: domain.NewWebhookEndpoint{EnabledEvents: all}, code: "invalid_url", param: "url"},
		{name: "ftp", in: domain.NewWebhookEndpoint{URL: "ftp://example.com/h", EnabledEvents: all}, code: "invalid_url", param: "url"},
		{name: "javascript", in: domain.NewWebhookEndpoint{URL: "javascript:alert(1)", EnabledEvents: all}, code: "invalid_url", param: "url"},
		{name: "relative", in: domain.NewWebhookEndpoint{URL: "/hooks", EnabledEvents: all}, code: "invalid_url", param: "url"},
		{name: "no host", in: domain.NewWebhookEndpoint{URL: "http:///hooks", EnabledEvents: all}, code: "invalid_url", param: "url"},
		{name: "userinfo", in: domain.NewWebhookEndpoint{URL: "https://user:pw@example.com/h", EnabledEvents: all}, code: "invalid_url", param: "url"},
		{name: "space", in: domain.NewWebhookEndpoint{URL: "https://example.com/a b", EnabledEvents: all}, code: "invalid_url", param: "url"},
		{name: "too long", in: domain.NewWebhookEndpoint{URL: "https://example.com/" + strings.Repeat("a", 2048), EnabledEvents: all}, code: "invalid_url", param: "url"},
		{name: "metadata IPv4", in: domain.NewWebhookEndpoint{URL: "http://169.254.169.254/latest/meta-data/", EnabledEvents: all}, code: "url_host_refused", param: "url"},
		{name: "link-local IPv4", in: domain.NewWebhookEndpoint{URL: "http://169.254.1.2:80/", EnabledEvents: all}, code: "url_host_refused", param: "url"},
		{name: "metadata IPv6 (AWS)", in: domain.NewWebhookEndpoint{URL: "http://[fd00:ec2::254]/latest/", EnabledEvents: all}, code: "url_host_refused", param: "url"},
		{name: "link-local IPv6", in: domain.NewWebhookEndpoint{URL: "http://[fe80::1]/", EnabledEvents: all}, code: "url_host_refused", param: "url"},
		{name: "link-local IPv6 with zone", in: domain.NewWebhookEndpoint{URL: "http://[fe80::1%25eth0]/", EnabledEvents: all}, code: "url_host_refused", param: "url"},
		{name: "IPv4-mapped metadata", in: domain.NewWebhookEndpoint{URL: "http://[::ffff:169.254.169.254]/", EnabledEvents: all}, code: "url_host_refused", param: "url"},
		{name: "metadata with allow-all", in: domain.NewWebhookEndpoint{URL: "http://169.254.169.254/", EnabledEvents: all}, allowAll: true},
		{name: "no events", in: domain.NewWebhookEndpoint{URL: "https://example.com/h"}, code: "invalid_enabled_events", param: "enabled_events"},
		{name: "unknown event", in: domain.NewWebhookEndpoint{URL: "https://example.com/h", EnabledEvents: []string{"order.shipped"}}, code: "invalid_enabled_events", param: "enabled_events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.in.Validate(tt.allowAll)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			e, ok := domain.AsError(err)
			if !ok || e.Kind != domain.KindValidation || e.Code != tt.code || e.Param != tt.param {
				t.Fatalf("Validate: %v, want %s on %s", err, tt.code, tt.param)
			}
		})
	}
}

func TestRefusedWebhookAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ip   string
		want bool
	}{
		{"169.254.169.254", true},
		{"169.254.0.1", true},
		{"fd00:ec2::254", true},
		{"fe80::abcd", true},
		{"::ffff:169.254.169.254", true},
		{"127.0.0.1", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"fd00:ec2::253", false},
		{"93.184.216.34", false},
	}
	for _, tt := range tests {
		if got := domain.RefusedWebhookAddr(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("RefusedWebhookAddr(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
}

func TestDeliveryID(t *testing.T) {
	t.Parallel()
	ev := "evt_65a1b2c3d4e5f60718293a4b"
	a, b := domain.DeliveryID(ev, "we_1"), domain.DeliveryID(ev, "we_2")
	if a != domain.DeliveryID(ev, "we_1") {
		t.Fatal("DeliveryID is not deterministic")
	}
	if a == b {
		t.Fatal("two endpoints share a delivery id")
	}
	if len(a) != len("whd_")+24 || !strings.HasPrefix(a, "whd_65a1b2c3d4e5") {
		t.Fatalf("DeliveryID = %q, want whd_ + the event's 12 time digits + 12 more", a)
	}
	if r := domain.DeliveryID("65a1b2c3d4e5f60718293a4b", "we_1"); r == a || len(r) != len(a) {
		t.Fatalf("redelivery id %q must differ from the event's delivery id %q", r, a)
	}
}

func TestWebhookFaultsApply(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	n := func(v int) *int { return &v }
	tests := []struct {
		name  string
		patch domain.WebhookFaultsPatch
		param string // "" means valid
	}{
		{name: "all set", patch: domain.WebhookFaultsPatch{DuplicateRate: f(0.2), DelayMs: n(10), JitterMs: n(5), ReorderWindowMs: n(2000), FailRate: f(0.1), ForgedRate: f(0.05)}},
		{name: "rate above 1", patch: domain.WebhookFaultsPatch{DuplicateRate: f(1.5)}, param: "duplicateRate"},
		{name: "negative rate", patch: domain.WebhookFaultsPatch{ForgedRate: f(-0.1)}, param: "forgedRate"},
		{name: "delay too long", patch: domain.WebhookFaultsPatch{ReorderWindowMs: n(60001)}, param: "reorderWindowMs"},
		{name: "negative jitter", patch: domain.WebhookFaultsPatch{JitterMs: n(-1)}, param: "jitterMs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := domain.WebhookFaults{FailRate: 0.3}
			got, err := before.Apply(tt.patch)
			if tt.param == "" {
				if err != nil || got.ReorderWindowMs != 2000 || got.ForgedRate != 0.05 {
					t.Fatalf("Apply = %+v, %v", got, err)
				}
				return
			}
			e, ok := domain.AsError(err)
			if !ok || e.Param != tt.param || got != before {
				t.Fatalf("Apply = %+v, %v; want %s refused and nothing changed", got, err, tt.param)
			}
		})
	}
}
