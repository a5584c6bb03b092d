package httpapi

import (
	"net/http"
	"time"
)

// Timeouts bound how long one connection may hold the server (see the
// HTTP_*_TIMEOUT settings in internal/config).
type Timeouts struct {
	// Read bounds receiving a whole request, headers and body: a client
	// that trickles its body is cut off after it.
	Read time.Duration
	// Write bounds the time from a request's headers to the end of its
	// response, so it must outlast the slowest legitimate request.
	Write time.Duration
	// Idle closes a keep-alive connection that sends no new request.
	Idle time.Duration
}

// maxHeaderWait bounds receiving the request headers, within Read.
const maxHeaderWait = 10 * time.Second

// NewServer returns the http.Server that serves handler with t, as main
// runs it; tests build their servers with it too.
func NewServer(handler http.Handler, t Timeouts) *http.Server {
	header := maxHeaderWait
	if t.Read > 0 {
		header = min(header, t.Read)
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: header,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
	}
}
