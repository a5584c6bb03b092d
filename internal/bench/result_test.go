package bench

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	samples := []sample{
		{lat: 10 * time.Millisecond, status: 201},
		{lat: 30 * time.Millisecond, status: 201, replayed: true},
		{lat: 20 * time.Millisecond, status: 409},
		{lat: 5 * time.Second, err: errors.New("connection refused")},
		{lat: 40 * time.Millisecond, err: errors.New("later error")},
	}
	r := summarize("race", samples, 2*time.Second)
	if r.Requests != 5 || r.Errors != 2 || r.ErrorSample != "connection refused" || r.Replays != 1 {
		t.Fatalf("counts: %+v", r)
	}
	if r.Status["201"] != 2 || r.Status["409"] != 1 || len(r.Status) != 2 {
		t.Fatalf("status: %v", r.Status)
	}
	if r.RPS != 2.5 {
		t.Fatalf("rps = %g, want 2.5", r.RPS)
	}
	// Failed requests have no latency to speak of: only answers count.
	if r.P50Ms != 20 || r.MaxMs != 30 {
		t.Fatalf("p50 %g max %g, want 20 and 30", r.P50Ms, r.MaxMs)
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mode Mode
		r    Result
		want int
	}{
		{"unique all created", ModeUnique, Result{Requests: 10, Status: map[string]int{"201": 10}}, 0},
		{"unique with a replay", ModeUnique, Result{Requests: 10, Status: map[string]int{"201": 10}, Replays: 1}, 1},
		{"unique with 5xx and a transport error", ModeUnique, Result{Requests: 10, Errors: 1, Status: map[string]int{"201": 7, "503": 2}}, 2},
		{"replay all replayed", ModeReplay, Result{Requests: 10, Status: map[string]int{"201": 10}, Replays: 10}, 0},
		{"replay not replayed", ModeReplay, Result{Requests: 10, Status: map[string]int{"201": 10}, Replays: 8}, 2},
		{"race 201 and 409", ModeRace, Result{Requests: 8, Status: map[string]int{"201": 5, "409": 3}}, 0},
		{"race 422", ModeRace, Result{Requests: 8, Status: map[string]int{"201": 5, "422": 3}}, 3},
		{"list 200", ModeList, Result{Requests: 4, Status: map[string]int{"200": 4}}, 0},
		{"list 429", ModeList, Result{Requests: 4, Status: map[string]int{"200": 3, "429": 1}}, 1},
		{"raw has only errors", ModeRaw, Result{Requests: 4, Errors: 1, Status: map[string]int{"ok": 3}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			judge(tt.mode, &tt.r)
			if tt.r.Unexpected != tt.want {
				t.Fatalf("Unexpected = %d, want %d", tt.r.Unexpected, tt.want)
			}
		})
	}
}

func f64(v float64) *float64 { return &v }

func TestWriteText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Result
		want []string // lines that must appear
		not  []string
	}{
		{
			name: "with server numbers",
			in: Result{Store: "embedded", Mode: "unique", StoredOrders: 5000, StoredExact: true, Concurrency: 16,
				Requests: 2000, ElapsedMs: 3210, RPS: 623.05, P50Ms: 21.4, P95Ms: 40.25, P99Ms: 101.6, MaxMs: 150,
				Status: map[string]int{"201": 2000}, CPUPerReqMs: f64(1.234), PeakRSSMB: f64(85.4)},
			want: []string{
				"unique (store embedded, 5000 stored orders, c=16)",
				"  requests  2000 in 3210 ms: 623.0 rps",
				"  latency   p50 21.4 ms  p95 40.2 ms  p99 102 ms  max 150 ms",
				"  status    201×2000",
				"  errors    0",
				"  server    CPU 1.23 ms/request, peak RSS 85 MB",
			},
			not: []string{"VIOLATIONS", "UNEXPECTED", "note"},
		},
		{
			name: "estimated store, errors, violations, no server",
			in: Result{Store: "external", Mode: "race", StoredOrders: 12, Concurrency: 8, Requests: 8,
				Status: map[string]int{"409": 3, "201": 4}, Errors: 1, ErrorSample: "EOF", Violations: 1, Unexpected: 0, Note: "n"},
			want: []string{
				"race (store external, ~12 stored orders, c=8)",
				"  status    201×4 409×3",
				"  errors    1 (first: EOF)",
				"  VIOLATIONS 1 race groups",
				"  note      n",
			},
			not: []string{"server"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			WriteText(&b, tt.in)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q in:\n%s", w, b.String())
				}
			}
			for _, w := range tt.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("unexpected %q in:\n%s", w, b.String())
				}
			}
		})
	}
}

func TestTableRoundTrip(t *testing.T) {
	t.Parallel()
	in := []Result{
		{Store: "embedded", Mode: "raw", StoredOrders: 20000, StoredExact: true, Requests: 10, RPS: 1234.4, P50Ms: 9.87, P99Ms: 31,
			Status: map[string]int{"ok": 10}, CPUPerReqMs: f64(0.8), PeakRSSMB: f64(120.2), DriverCPUPerReqMs: f64(0.55)},
		{Store: "external", Mode: "list:deep", StoredOrders: 5, Requests: 9, RPS: 99.6, P50Ms: 150, P99Ms: 300, Errors: 2},
		{Store: "embedded", Mode: "list:deep", StoredOrders: 0, StoredExact: true, Note: "skipped: fewer than 21 orders stored"},
	}
	var jsonl bytes.Buffer
	for _, r := range in {
		if err := WriteJSON(&jsonl, r); err != nil {
			t.Fatal(err)
		}
		jsonl.WriteString("\n") // blank lines are skipped
	}
	got, err := ReadResults(&jsonl)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	WriteTable(&b, got)
	want := "| store | stored orders | mode | rps | p50 | p99 | CPU/req | RSS |\n" +
		"|---|---:|---|---:|---:|---:|---:|---:|\n" +
		"| embedded | 20,000 | raw (driver 0.55 ms) | 1,234 | 9.87 ms | 31.0 ms | 0.80 ms | 120 MB |\n" +
		"| external | ~5 | list:deep (2 errors, 0 unexpected, 0 violations) | 100 | 150 ms | 300 ms | – | – |\n" +
		"| embedded | 0 | list:deep (skipped) | – | – | – | – | – |\n"
	if b.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestReadResultsBadLine(t *testing.T) {
	t.Parallel()
	_, err := ReadResults(strings.NewReader(`{"mode":"raw"}` + "\nnot json\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming line 2", err)
	}
}

func TestGroupThousands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {20000, "20,000"}, {1234567, "1,234,567"}, {-5000, "-5,000"},
	}
	for _, tt := range tests {
		if got := groupThousands(tt.in); got != tt.want {
			t.Errorf("groupThousands(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	// Fields 14 and 15 (utime, stime) are 250 and 50 ticks: 3 s.
	line := "1234 (my server) S 1 1234 1234 0 -1 4194560 9000 0 0 0 250 50 0 0 20 0 12 0 100 1000000 2000"
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"plain", line, 3 * time.Second, false},
		{"name with parentheses", strings.Replace(line, "(my server)", "(a) b (c))", 1), 3 * time.Second, false},
		{"no name", "1234 S 1", 0, true},
		{"truncated", "1234 (x) S 1 2 3", 0, true},
		{"not a number", strings.Replace(line, " 250 ", " x ", 1), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStatCPU(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseStatusKB(t *testing.T) {
	t.Parallel()
	status := "Name:\tserver\nVmPeak:\t  900000 kB\nVmHWM:\t   87040 kB\nVmRSS:\t   80000 kB\n"
	tests := []struct {
		name    string
		in      string
		field   string
		want    int64
		wantErr bool
	}{
		{"VmHWM", status, "VmHWM", 87040 * 1024, false},
		{"VmRSS", status, "VmRSS", 80000 * 1024, false},
		{"missing", status, "VmSwap", 0, true},
		{"no unit", "VmHWM:\t 5\n", "VmHWM", 0, true},
		{"not a prefix match", "VmHWMx:\t 5 kB\n", "VmHWM", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStatusKB(bufio.NewScanner(strings.NewReader(tt.in)), tt.field)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStatusKB = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017"},
		{"mongodb://user:p%40ss@db1:27017,db2:27017/app?authSource=admin", "mongodb://db1:27017,db2:27017"},
		{"mongodb+srv://u:p@cluster.example.net/?retryWrites=true", "mongodb+srv://cluster.example.net"},
		{"not a uri", "(unparseable URI)"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
