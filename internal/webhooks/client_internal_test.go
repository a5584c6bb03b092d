package webhooks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
)

func TestRefuseAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		refused bool
	}{
		{"169.254.169.254:80", true},
		{"[fd00:ec2::254]:80", true},
		{"[fe80::1]:443", true},
		{"[::ffff:169.254.169.254]:80", true},
		{"127.0.0.1:8080", false},
		{"[::1]:8080", false},
		{"10.0.0.1:443", false},
		{"not-an-ip:80", true},
	}
	for _, tt := range tests {
		if err := refuseAddresses("tcp", tt.addr, nil); (err != nil) != tt.refused {
			t.Errorf("refuseAddresses(%s) = %v, want refused %v", tt.addr, err, tt.refused)
		}
	}
}

func TestPost(t *testing.T) {
	t.Parallel()
	var redirected atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { redirected.Add(1) }))
	defer target.Close()
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(http.StatusNoContent)
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
		case "/redirect":
			http.Redirect(w, r, target.URL, http.StatusFound)
		case "/hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	defer close(hang)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	c := newHTTPClient(200*time.Millisecond, false)
	tests := []struct {
		name   string
		url    string
		status int
		code   string
	}{
		{"2xx", srv.URL + "/ok", 204, ""},
		{"5xx", srv.URL + "/fail", 500, domain.AttemptHTTPStatus},
		{"redirect not followed", srv.URL + "/redirect", 302, domain.AttemptHTTPStatus},
		{"timeout", srv.URL + "/hang", 0, domain.AttemptTimeout},
		{"connection refused", closedURL, 0, domain.AttemptConnection},
		// Refused by the dialer before any packet is sent.
		{"metadata address", "http://169.254.169.254/latest/meta-data/", 0, domain.AttemptRefusedAddress},
		{"metadata address, IPv6", "http://[fd00:ec2::254]/", 0, domain.AttemptRefusedAddress},
	}
	for _, tt := range tests {
		status, code := post(context.Background(), c, tt.url, http.Header{}, []byte(`{}`))
		if status != tt.status || code != tt.code {
			t.Errorf("%s: post = %d %q, want %d %q", tt.name, status, code, tt.status, tt.code)
		}
	}
	if n := redirected.Load(); n != 0 {
		t.Fatalf("the redirect was followed %d times", n)
	}
}
