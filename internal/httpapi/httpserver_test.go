package httpapi_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/internal/httpapi"
	"github.com/reliabledemo/payments/internal/provider"
)

// TestServerTimeouts runs the real handler in the server main builds, on a
// loopback port, with short timeouts, and checks what each one is for: a
// client trickling its body is cut, an idle keep-alive connection is
// closed, and a slow charge still outlasts the read timeout.
func TestServerTimeouts(t *testing.T) {
	t.Parallel()
	const (
		readTimeout = 2 * time.Second
		idleTimeout = time.Second
		chargeDelay = 3 * time.Second // longer than readTimeout
		// cutWithin is generous: the point is that the connection IS cut,
		// long before the trickled body (30 s) could be complete.
		cutWithin = 12 * time.Second
	)
	a := newApp(t, appOptions{behavior: provider.Behavior{MinDelayMs: int(chargeDelay / time.Millisecond), MaxDelayMs: int(chargeDelay / time.Millisecond)}})
	srv := httpapi.NewServer(a.handler, httpapi.Timeouts{Read: readTimeout, Write: 20 * time.Second, Idle: idleTimeout})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()
	dial := func(t *testing.T) net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}

	t.Run("a trickled body is cut", func(t *testing.T) {
		t.Parallel()
		body := `{"userId":"trickler","amount":500,"currency":"USD","pad":"` + strings.Repeat("x", 10) + `"}`
		conn := dial(t)
		head := "POST /orders HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + apiKey + "\r\n" +
			"Idempotency-Key: trickle-1\r\nContent-Type: application/json\r\n" +
			fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stop := make(chan struct{})
		sent := make(chan int, 1)
		go func() {
			n := 0
			defer func() { sent <- n }()
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for n < len(body) {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if _, err := conn.Write([]byte{body[n]}); err != nil {
					return
				}
				n++
			}
		}()
		_ = conn.SetReadDeadline(start.Add(cutWithin))
		answer, err := io.ReadAll(conn) // until the server closes the connection
		cut := time.Since(start)
		close(stop)
		n := <-sent
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the connection was still open after %s (%d of %d body bytes sent)", cutWithin, n, len(body))
		}
		if n >= len(body) {
			t.Fatalf("the whole body went through (%d bytes) before the cut", n)
		}
		first, _, _ := strings.Cut(string(answer), "\r\n")
		t.Logf("cut after %s with %d of %d body bytes sent; read timeout %s; answer %q, read error %v",
			cut.Round(10*time.Millisecond), n, len(body), readTimeout, first, err)
		if first != "" && !strings.HasPrefix(first, "HTTP/1.1 4") {
			t.Fatalf("answer %q, want a 4xx or none", first)
		}
		if c := a.count("idempotencykeys", bson.M{"key": "trickle-1"}) + a.count("orders", bson.M{"userId": "trickler"}); c != 0 {
			t.Fatalf("the cut request stored %d documents", c)
		}
	})

	t.Run("an idle keep-alive connection is closed", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		br := bufio.NewReader(conn)
		get := func() {
			t.Helper()
			if _, err := io.WriteString(conn, "GET /health HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Close {
				t.Fatalf("health: %d, close %v", resp.StatusCode, resp.Close)
			}
		}
		get()
		time.Sleep(idleTimeout / 4)
		get() // still open: keep-alive works within the idle timeout
		idleFrom := time.Now()
		_ = conn.SetReadDeadline(idleFrom.Add(cutWithin))
		_, err := br.ReadByte()
		idle := time.Since(idleFrom)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the idle connection was still open after %s", cutWithin)
		}
		if err == nil {
			t.Fatal("the server sent bytes on an idle connection")
		}
		if idle < idleTimeout/2 {
			t.Fatalf("closed after %s idle, before the idle timeout of %s", idle, idleTimeout)
		}
		t.Logf("idle connection closed after %s (idle timeout %s): %v", idle.Round(10*time.Millisecond), idleTimeout, err)
	})

	t.Run("a slow charge outlasts the read timeout", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequest("POST", "http://"+addr+"/orders", strings.NewReader(`{"userId":"patient","amount":500,"currency":"USD"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "slow-charge-1")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusCreated || took < chargeDelay {
			t.Fatalf("%d after %s, want 201 after the %s charge", resp.StatusCode, took, chargeDelay)
		}
	})
}
