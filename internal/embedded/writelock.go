package embedded

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FerretDB v1 runs an update, delete or findAndModify as a read followed by
// a separate write, so two concurrent conditional updates of one document
// can both match it: a compare-and-swap such as {_id, status: "a"} → "b"
// lets several callers win. MongoDB applies each such command atomically,
// and the service relies on that for every state change.
//
// writeLock restores that guarantee for the embedded server. It sits between
// clients and FerretDB, speaking the wire protocol only as far as framing
// and the command name, and lets one write command at a time through: the
// lock is taken when a write's request is forwarded and released when its
// reply comes back. Reads pass freely. SQLite admits one writer at a time
// anyway, so little concurrency is lost.
type writeLock struct {
	ln      net.Listener
	backend func() (net.Conn, error)
	log     *slog.Logger

	mu sync.Mutex // held from a write's request to its reply

	wg     sync.WaitGroup
	connMu sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// writeCommands are the commands FerretDB implements as read-then-write.
var writeCommands = map[string]bool{"insert": true, "update": true, "delete": true, "findandmodify": true}

// replyTimeout bounds how long a client may leave a write's reply unread
// while it holds the lock.
const replyTimeout = time.Minute

const (
	opMsg        = 2013
	moreToCome   = 1 << 1
	headerLen    = 16
	maxMessageMB = 48 // MongoDB's maxMessageSizeBytes
)

func newWriteLock(ln net.Listener, backend func() (net.Conn, error), log *slog.Logger) *writeLock {
	w := &writeLock{ln: ln, backend: backend, log: log, conns: map[net.Conn]struct{}{}}
	w.wg.Add(1)
	go w.accept()
	return w
}

func (w *writeLock) accept() {
	defer w.wg.Done()
	for {
		c, err := w.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				w.log.Error("embedded: accept failed", "error", err)
			}
			return
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.serve(c)
		}()
	}
}

// track registers c so that close can cut it; it reports false once closed.
func (w *writeLock) track(c net.Conn) bool {
	w.connMu.Lock()
	defer w.connMu.Unlock()
	if w.closed {
		return false
	}
	w.conns[c] = struct{}{}
	return true
}

func (w *writeLock) untrack(c net.Conn) {
	w.connMu.Lock()
	delete(w.conns, c)
	w.connMu.Unlock()
}

// serve relays one client connection to its own FerretDB connection.
func (w *writeLock) serve(client net.Conn) {
	defer client.Close()
	server, err := w.backend()
	if err != nil {
		w.log.Error("embedded: cannot reach FerretDB", "error", err)
		return
	}
	defer server.Close()
	if !w.track(client) || !w.track(server) {
		return
	}
	defer w.untrack(client)
	defer w.untrack(server)

	// holding is true while this connection's write awaits its reply. A
	// connection has at most one request in flight, so the next reply is
	// that write's. answered gets a token at each release.
	var holding atomic.Bool
	answered := make(chan struct{}, 1)
	release := func() {
		if holding.CompareAndSwap(true, false) {
			w.mu.Unlock()
			select {
			case answered <- struct{}{}:
			default:
			}
		}
	}
	defer release()

	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close() // unblocks the request side
		for {
			msg, err := readMessage(server)
			if err != nil {
				return
			}
			if holding.Load() {
				_ = client.SetWriteDeadline(time.Now().Add(replyTimeout))
			}
			_, err = client.Write(msg)
			_ = client.SetWriteDeadline(time.Time{})
			release()
			if err != nil {
				return
			}
		}
	}()

	for {
		msg, err := readMessage(client)
		if err != nil {
			break
		}
		write, oneWay := classify(msg)
		if write {
			select { // drop the token of an earlier write
			case <-answered:
			default:
			}
			w.mu.Lock()
			holding.Store(true)
		}
		_, err = server.Write(msg)
		if write && (oneWay || err != nil) {
			release() // no reply will come
		}
		if err != nil {
			break
		}
	}
	// The client is gone, perhaps with a write still running in FerretDB
	// (a killed process, a driver timeout). FerretDB may finish that write
	// even though nobody reads its reply, so the lock stays held until the
	// reply comes: releasing it earlier would let the next write interleave
	// with this one.
	if holding.Load() {
		select {
		case <-answered:
		case <-done:
		case <-time.After(replyTimeout):
		}
	}
	server.Close()
	<-done
}

// readMessage reads one length-prefixed wire message.
func readMessage(r io.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.LittleEndian.Uint32(head[:])))
	if n < headerLen || n > maxMessageMB<<20 {
		return nil, errors.New("embedded: invalid wire message length")
	}
	msg := make([]byte, n)
	copy(msg, head[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// classify reports whether msg is a write command, and whether its sender
// expects no reply (moreToCome). It reads an OP_MSG's first section, whose
// document's first key is the command name.
func classify(msg []byte) (write, oneWay bool) {
	if len(msg) < headerLen+4+1+4+1 || int32(binary.LittleEndian.Uint32(msg[12:16])) != opMsg {
		return false, false
	}
	flags := binary.LittleEndian.Uint32(msg[16:20])
	body := msg[20:]
	if body[0] != 0 { // kind 0: the command document comes first in practice
		return false, false
	}
	doc := body[1:]
	// document: int32 length, then elements: type byte, cstring name, value.
	elem := doc[4:]
	if elem[0] == 0 {
		return false, false
	}
	name := elem[1:]
	end := strings.IndexByte(string(name[:min(len(name), 64)]), 0)
	if end < 0 {
		return false, false
	}
	return writeCommands[strings.ToLower(string(name[:end]))], flags&moreToCome != 0
}

// close stops accepting, cuts every connection and waits for the relays.
func (w *writeLock) close() {
	w.connMu.Lock()
	w.closed = true
	_ = w.ln.Close()
	for c := range w.conns {
		_ = c.Close()
	}
	w.connMu.Unlock()
	w.wg.Wait()
}
