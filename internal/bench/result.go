package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reliabledemo/payments/internal/latency"
)

// Result is what one mode measured. Numbers the run could not know (the
// server's CPU without its PID) are nil, so that JSON readers can tell
// "unknown" from zero.
type Result struct {
	Store        string         `json:"store"`
	Mode         string         `json:"mode"` // a mode, or list:<variant>
	StoredOrders int64          `json:"storedOrders"`
	StoredExact  bool           `json:"storedExact"` // counted in the store, not estimated
	Concurrency  int            `json:"concurrency"`
	Requests     int            `json:"requests"`
	ElapsedMs    float64        `json:"elapsedMs"`
	RPS          float64        `json:"rps"`
	P50Ms        float64        `json:"p50Ms"`
	P95Ms        float64        `json:"p95Ms"`
	P99Ms        float64        `json:"p99Ms"`
	MaxMs        float64        `json:"maxMs"`
	Status       map[string]int `json:"status"` // HTTP status → count; raw mode: "ok"
	Replays      int            `json:"replays"`
	Errors       int            `json:"errors"`     // no answer: transport or driver errors
	Unexpected   int            `json:"unexpected"` // answers the mode should not get
	ErrorSample  string         `json:"errorSample,omitempty"`
	Violations   int            `json:"violations,omitempty"` // race groups without exactly one creator
	CPUPerReqMs  *float64       `json:"cpuPerRequestMs,omitempty"`
	PeakRSSMB    *float64       `json:"peakRssMB,omitempty"`
	// DriverCPUPerReqMs (raw mode) is this process's CPU per request: the
	// MongoDB driver's cost for the service's commands, without HTTP.
	DriverCPUPerReqMs *float64 `json:"driverCpuPerRequestMs,omitempty"`
	Note              string   `json:"note,omitempty"`
}

// Failed reports whether the mode met errors, unexpected answers or
// violations: its numbers then describe something else than intended.
func (r Result) Failed() bool { return r.Errors+r.Unexpected+r.Violations > 0 }

// judge counts the answers mode m should not get.
func judge(m Mode, r *Result) {
	answered := r.Requests - r.Errors
	switch m {
	case ModeUnique:
		r.Unexpected = answered - r.Status["201"] + r.Replays
	case ModeReplay:
		r.Unexpected = answered - r.Replays
	case ModeRace:
		r.Unexpected = answered - r.Status["201"] - r.Status["409"]
	case ModeList:
		r.Unexpected = answered - r.Status["200"]
	}
}

// sample is one request's outcome.
type sample struct {
	lat      time.Duration
	status   int // 0: no answer
	replayed bool
	err      error
}

// summarize turns samples into a Result (without server numbers).
func summarize(mode string, samples []sample, elapsed time.Duration) Result {
	r := Result{Mode: mode, Requests: len(samples), ElapsedMs: ms(elapsed), Status: map[string]int{}}
	lat := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		if s.err != nil {
			r.Errors++
			if r.ErrorSample == "" {
				r.ErrorSample = s.err.Error()
			}
			continue
		}
		lat = append(lat, s.lat)
		key := "ok"
		if s.status != 0 {
			key = strconv.Itoa(s.status)
		}
		r.Status[key]++
		if s.replayed {
			r.Replays++
		}
	}
	slices.Sort(lat)
	if elapsed > 0 {
		r.RPS = float64(len(samples)) / elapsed.Seconds()
	}
	r.P50Ms, r.P95Ms, r.P99Ms = ms(latency.Percentile(lat, 50)), ms(latency.Percentile(lat, 95)), ms(latency.Percentile(lat, 99))
	r.MaxMs = ms(latency.Percentile(lat, 100))
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// WriteText prints r for a person.
func WriteText(w io.Writer, r Result) {
	stored := fmt.Sprintf("%d stored orders", r.StoredOrders)
	if !r.StoredExact {
		stored = fmt.Sprintf("~%d stored orders", r.StoredOrders)
	}
	fmt.Fprintf(w, "%s (store %s, %s, c=%d)\n", r.Mode, r.Store, stored, r.Concurrency)
	fmt.Fprintf(w, "  requests  %d in %s: %.1f rps\n", r.Requests, fmtMs(r.ElapsedMs), r.RPS)
	fmt.Fprintf(w, "  latency   p50 %s  p95 %s  p99 %s  max %s\n", fmtMs(r.P50Ms), fmtMs(r.P95Ms), fmtMs(r.P99Ms), fmtMs(r.MaxMs))
	fmt.Fprintf(w, "  status    %s\n", FormatStatus(r.Status))
	fmt.Fprintf(w, "  replays   %d\n", r.Replays)
	fmt.Fprintf(w, "  errors    %d", r.Errors)
	if r.ErrorSample != "" {
		fmt.Fprintf(w, " (first: %s)", r.ErrorSample)
	}
	fmt.Fprintln(w)
	if r.Unexpected > 0 {
		fmt.Fprintf(w, "  UNEXPECTED %d answers this mode should not get\n", r.Unexpected)
	}
	if r.Violations > 0 {
		fmt.Fprintf(w, "  VIOLATIONS %d race groups without exactly one creating request\n", r.Violations)
	}
	if r.CPUPerReqMs != nil || r.PeakRSSMB != nil {
		fmt.Fprintf(w, "  server    CPU %s/request, peak RSS %s\n", fmtCPU(r.CPUPerReqMs), fmtRSS(r.PeakRSSMB))
	}
	if r.DriverCPUPerReqMs != nil {
		fmt.Fprintf(w, "  driver    CPU %s/request in this process: the service's floor for the same commands\n", fmtCPU(r.DriverCPUPerReqMs))
	}
	if r.Note != "" {
		fmt.Fprintf(w, "  note      %s\n", r.Note)
	}
}

// FormatStatus lists status counts in order: "201×1990 409×10".
func FormatStatus(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// fmtMs prints a duration in milliseconds with precision that suits its size.
func fmtMs(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

func fmtCPU(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmtMs(*v)
}

func fmtRSS(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.0f MB", *v)
}

// WriteJSON prints r as one line of JSON.
func WriteJSON(w io.Writer, r Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// ReadResults reads JSON lines written by WriteJSON; blank lines are skipped.
func ReadResults(rd io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// WriteTable prints results as one markdown table, in the order given.
func WriteTable(w io.Writer, rs []Result) {
	fmt.Fprintln(w, "| store | stored orders | mode | rps | p50 | p99 | CPU/req | RSS |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		stored := groupThousands(r.StoredOrders)
		if !r.StoredExact {
			stored = "~" + stored
		}
		mode := r.Mode
		if r.Requests == 0 {
			fmt.Fprintf(w, "| %s | %s | %s (skipped) | – | – | – | – | – |\n", r.Store, stored, mode)
			continue
		}
		if r.DriverCPUPerReqMs != nil {
			mode += " (driver " + fmtCPU(r.DriverCPUPerReqMs) + ")"
		}
		if r.Failed() {
			mode += fmt.Sprintf(" (%d errors, %d unexpected, %d violations)", r.Errors, r.Unexpected, r.Violations)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Store, stored, mode,
			groupThousands(int64(math.Round(r.RPS))), fmtMs(r.P50Ms), fmtMs(r.P99Ms), fmtCPU(r.CPUPerReqMs), fmtRSS(r.PeakRSSMB))
	}
}

// groupThousands prints 20000 as "20,000".
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
