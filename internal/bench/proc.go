package bench

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux ABI Go supports; reading sysconf would need cgo.
const clockTicks = 100

// procCPU returns the CPU time (user + system) process pid has used.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// selfCPU is this process's CPU time so far.
func selfCPU() (time.Duration, error) { return procCPU(os.Getpid()) }

// parseStatCPU reads utime and stime from a /proc/PID/stat line. The command
// name in parentheses may hold spaces and parentheses, so fields are counted
// from the last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("stat: no command name")
	}
	// After ")": state is field 3; utime and stime are fields 14 and 15.
	f := strings.Fields(stat[end+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the name, want at least 13", len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("stat: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// procPeakRSS returns process pid's peak resident set size (VmHWM) in bytes.
func procPeakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseStatusKB(bufio.NewScanner(f), "VmHWM")
}

// parseStatusKB returns a "Name:   123 kB" field of /proc/PID/status in bytes.
func parseStatusKB(sc *bufio.Scanner, name string) (int64, error) {
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("status: %s: unexpected %q", name, v)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("status: %s: %w", name, err)
		}
		return n * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("status: no %s", name)
}

// resetPeakRSS asks the kernel to restart pid's VmHWM from its current RSS,
// so each mode reports its own peak. It needs the rights to ptrace pid
// (our own child, or the same user); without them peaks accumulate.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// meter measures a server process around one mode.
type meter struct {
	pid      int
	cpu0     time.Duration
	reset    bool // the peak was reset for this mode
	startErr error
}

func startMeter(pid int) *meter {
	if pid == 0 {
		return nil
	}
	m := &meter{pid: pid}
	m.reset = resetPeakRSS(pid) == nil
	m.cpu0, m.startErr = procCPU(pid)
	return m
}

// finish adds the server's CPU per request and peak RSS to r.
func (m *meter) finish(r *Result) {
	if m == nil || m.startErr != nil {
		return
	}
	if cpu1, err := procCPU(m.pid); err == nil && r.Requests > 0 {
		v := ms(cpu1-m.cpu0) / float64(r.Requests)
		r.CPUPerReqMs = &v
	}
	if peak, err := procPeakRSS(m.pid); err == nil {
		v := float64(peak) / (1 << 20)
		r.PeakRSSMB = &v
		if !m.reset {
			r.Note = joinNote(r.Note, "peak RSS since the server started (could not reset it)")
		}
	}
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
