package embedded

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math"
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

// IdentifyCommand is a command the write lock answers itself, without
// FerretDB: {reliabledemoWriteLock: 1} gets {writesSerialised: true, ok: 1}.
// The service sends it to a FerretDB server at start-up to learn whether
// its conditional updates are atomic (internal/mongostore, Topology); plain
// FerretDB answers CommandNotFound. A command of our own, rather than an
// extra field in buildInfo or hello, keeps the relay from ever rewriting
// FerretDB's replies.
const IdentifyCommand = "reliabledemoWriteLock"

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

	// clientMu orders the relayed replies and the write lock's own answers.
	var clientMu sync.Mutex

	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close() // unblocks the request side
		for {
			msg, err := readMessage(server)
			if err != nil {
				return
			}
			clientMu.Lock()
			if holding.Load() {
				_ = client.SetWriteDeadline(time.Now().Add(replyTimeout))
			}
			_, err = client.Write(msg)
			_ = client.SetWriteDeadline(time.Time{})
			clientMu.Unlock()
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
		name, oneWay := command(msg)
		if name == IdentifyCommand {
			if oneWay {
				continue
			}
			clientMu.Lock()
			_, err = client.Write(identifyReply(msg))
			clientMu.Unlock()
			if err != nil {
				break
			}
			continue
		}
		write := writeCommands[strings.ToLower(name)]
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

// command returns msg's command name ("" if msg is not an OP_MSG command),
// and whether its sender expects no reply (moreToCome). It reads an
// OP_MSG's first section, whose document's first key is the command name.
func command(msg []byte) (name string, oneWay bool) {
	if len(msg) < headerLen+4+1+4+1 || int32(binary.LittleEndian.Uint32(msg[12:16])) != opMsg {
		return "", false
	}
	flags := binary.LittleEndian.Uint32(msg[16:20])
	body := msg[20:]
	if body[0] != 0 { // kind 0: the command document comes first in practice
		return "", false
	}
	doc := body[1:]
	// document: int32 length, then elements: type byte, cstring name, value.
	elem := doc[4:]
	if elem[0] == 0 {
		return "", false
	}
	raw := elem[1:]
	end := strings.IndexByte(string(raw[:min(len(raw), 64)]), 0)
	if end < 0 {
		return "", false
	}
	return string(raw[:end]), flags&moreToCome != 0
}

// identifyReply is the OP_MSG answering IdentifyCommand request req.
func identifyReply(req []byte) []byte {
	// {writesSerialised: true, ok: 1.0}, encoded by hand: the relay speaks
	// the wire protocol without a BSON library.
	var doc []byte
	doc = append(doc, 0, 0, 0, 0)
	doc = append(doc, 0x08)
	doc = append(doc, "writesSerialised\x00"...)
	doc = append(doc, 1)
	doc = append(doc, 0x01)
	doc = append(doc, "ok\x00"...)
	doc = binary.LittleEndian.AppendUint64(doc, math.Float64bits(1))
	doc = append(doc, 0)
	binary.LittleEndian.PutUint32(doc, uint32(len(doc)))

	out := make([]byte, headerLen+4+1, headerLen+4+1+len(doc))
	binary.LittleEndian.PutUint32(out[4:8], 0)                                     // requestID: nothing answers a reply
	binary.LittleEndian.PutUint32(out[8:12], binary.LittleEndian.Uint32(req[4:8])) // responseTo
	binary.LittleEndian.PutUint32(out[12:16], opMsg)
	// flags (out[16:20]) 0, then section kind 0 (out[20]) and the document.
	out = append(out, doc...)
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))
	return out
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
