package paymentstest

import (
	"context"
	"net"
	"runtime"
	"sync"

	"github.com/reliabledemo/payments/internal/app"
)

// instance is one run of the service: from a start to its stop or crash.
// After a crash the Service starts another on the same address and store,
// as a supervisor would restart a process.
type instance struct {
	s      *Service
	ln     *connTracker
	cancel context.CancelFunc
	exited chan error // app.Run's result
	once   sync.Once  // one crash per instance
}

// launch runs app.Run on ln, unless the Service is stopping. It returns
// nil then.
func (s *Service) launch(ln net.Listener) *instance {
	ctx, cancel := context.WithCancel(context.Background())
	inst := &instance{s: s, ln: newConnTracker(ln), cancel: cancel, exited: make(chan error, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		cancel()
		_ = ln.Close()
		return nil
	}
	s.current = inst
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		inst.exited <- app.Run(ctx, s.cfg, s.log, app.Options{Listener: inst.ln, Exit: inst.exit})
	}()
	return inst
}

// exit is the service's os.Exit: a crash point reached by a request or a
// worker crashes the instance, then ends the goroutine that reached it, so
// that nothing after the crash point runs on it (os.Exit never returns).
func (inst *instance) exit(int) {
	inst.crash()
	runtime.Goexit()
}

// crash ends the instance abruptly, the way a killed process looks from
// outside: the port closes, open connections are cut without an answer,
// and nothing more is accepted. Then it schedules the restart.
func (inst *instance) crash() {
	inst.once.Do(func() {
		s := inst.s
		s.crashes.Add(1)
		s.log.Warn("paymentstest: the service crashed; restarting it", "crashes", s.crashes.Load())
		inst.ln.abort()
		inst.cancel()
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			s.runs.Add(1)
			go s.restart()
		}
	})
}

// connTracker is a listener that can cut every connection it accepted, as
// the kernel does when a process dies.
type connTracker struct {
	net.Listener
	mu      sync.Mutex
	conns   map[*trackedConn]struct{}
	aborted bool
}

func newConnTracker(ln net.Listener) *connTracker {
	return &connTracker{Listener: ln, conns: map[*trackedConn]struct{}{}}
}

func (l *connTracker) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.aborted {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

// abort closes the listener and every open connection.
func (l *connTracker) abort() {
	l.mu.Lock()
	l.aborted = true
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	_ = l.Listener.Close()
	for _, c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
