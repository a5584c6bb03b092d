package webhooks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/reliabledemo/payments/internal/domain"
)

// maxResponseBody is how much of an endpoint's answer is read (and
// discarded): enough to reuse the connection after a typical reply, without
// letting an endpoint stream into our memory or hold a worker.
const maxResponseBody = 64 << 10

// errRefusedAddress is returned by the dialer for a refused address.
var errRefusedAddress = errors.New("webhooks: refused address")

// newHTTPClient returns the client deliveries are sent with. It checks
// every address it connects to, after DNS resolution, so a hostname that
// resolves (or is rebound) to a metadata address is refused too; validating
// the URL at creation cannot catch that. It uses no proxy from the
// environment (the proxy would connect instead, unchecked), follows no
// redirects (a 3xx is a failed attempt, not an invitation elsewhere), and
// bounds each request by timeout.
func newHTTPClient(timeout time.Duration, allowAll bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowAll {
		dialer.Control = refuseAddresses
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// refuseAddresses is a net.Dialer Control: it runs for the resolved
// address just before each connect.
func refuseAddresses(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errRefusedAddress // not an IP: never expected after resolution
	}
	if domain.RefusedWebhookAddr(ap.Addr()) {
		return errRefusedAddress
	}
	return nil
}

// post sends one request and classifies the result: the status code (0 if
// no response came) and "" or an AttemptError code.
func post(ctx context.Context, c *http.Client, url string, h http.Header, body []byte) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, domain.AttemptConnection
	}
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "reliabledemo-webhooks/1")
	resp, err := c.Do(req)
	if err != nil {
		return 0, classify(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, domain.AttemptHTTPStatus
	}
	return resp.StatusCode, ""
}

// classify names a transport error without keeping its text, which holds
// addresses and internals that do not belong in an API response.
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errRefusedAddress):
		return domain.AttemptRefusedAddress
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return domain.AttemptTimeout
	default:
		return domain.AttemptConnection
	}
}
