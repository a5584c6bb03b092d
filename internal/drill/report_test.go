package drill

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// reportRun is a synthetic run of 3.2 seconds: attempts in seconds 0, 1 and
// 3 (none in 2), one of them dropped, one payment that never got a final
// answer and one that was never started.
func reportRun() Report {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	results := []Result{
		{ID: testPrefix + "0", Kind: KindOrder, Outcome: OutcomePaid},
		{ID: testPrefix + "1", Kind: KindIntent, Outcome: "succeeded"},
		{ID: testPrefix + "2", Kind: KindOrder, Outcome: OutcomeUnfinished, Reason: "no final answer to POST /orders (last: 503 )"},
		{ID: testPrefix + "3", Kind: KindOrder},
	}
	results[0].attempts = []attempt{{ms(10), ms(20), 201}}
	results[0].done = ms(30)
	results[1].attempts = []attempt{{ms(100), ms(40), 201}, {ms(1100), ms(300), 409}, {ms(1500), ms(5), 0}, {ms(3100), ms(80), 202}}
	results[1].done = ms(3180)
	results[2].attempts = []attempt{{ms(3000), ms(60), 503}}
	results[2].done = ms(3200)
	for i := range results {
		results[i].Attempts = len(results[i].attempts)
	}
	results[1].Conflicts, results[1].Dropped, results[2].ServerErrors = 1, 1, 1
	return Report{RunID: "drill-0badcafe", Seed: 42, Results: results, Elapsed: ms(3200), Checked: true}
}

func reportConfig() Config {
	return Config{URLs: []string{"http://127.0.0.1:3000"}, N: 4, Concurrency: 2, Mix: 0.5,
		MongoURI: "mongodb://drill:s3cret@127.0.0.1:27017", DB: "reliability_demo", APIKey: "sk_secret_key",
		Timeout: time.Second, Deadline: time.Minute, Refunds: true, Seed: 42}
}

// render writes the report and parses it.
func render(t *testing.T, rep Report, code int) (*html.Node, string) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteReport(&b, rep, reportConfig(), code); err != nil {
		t.Fatalf("WriteReport: %v", err)
	}
	doc, err := html.Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("parse the report: %v", err)
	}
	return doc, b.String()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// find returns the elements under n for which ok holds, in document order.
func findAll(n *html.Node, ok func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && ok(c) {
			out = append(out, c)
		}
	}
	return out
}

func byID(t *testing.T, doc *html.Node, id string) *html.Node {
	t.Helper()
	ns := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == id })
	if len(ns) != 1 {
		t.Fatalf("%d elements with id %q, want 1", len(ns), id)
	}
	return ns[0]
}

func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// counts sums data-count of a chart's bars by series and second.
func counts(t *testing.T, svg *html.Node) map[[2]string]int {
	t.Helper()
	out := map[[2]string]int{}
	for _, r := range findAll(svg, func(n *html.Node) bool { return n.Data == "rect" }) {
		n, err := strconv.Atoi(attr(r, "data-count"))
		if err != nil || n <= 0 {
			t.Fatalf("bar %v: data-count %q", r.Attr, attr(r, "data-count"))
		}
		out[[2]string{attr(r, "data-series"), attr(r, "data-second")}] += n
	}
	return out
}

func TestReportCharts(t *testing.T) {
	t.Parallel()
	doc, _ := render(t, reportRun(), 1)
	const seconds = "4" // 3.2 s, rounded up
	for _, id := range []string{"attempts", "outcomes", "latency", "statuses"} {
		if got := attr(byID(t, doc, "chart-"+id), "data-seconds"); got != seconds {
			t.Errorf("chart %s has %s seconds, want %s", id, got, seconds)
		}
	}

	attempts := counts(t, byID(t, doc, "chart-attempts"))
	want := map[[2]string]int{{"attempts", "0"}: 2, {"attempts", "1"}: 2, {"attempts", "3"}: 2}
	if !mapsEqual(attempts, want) {
		t.Errorf("attempts per second %v, want %v", attempts, want)
	}

	statuses := counts(t, byID(t, doc, "chart-statuses"))
	want = map[[2]string]int{{"201", "0"}: 2, {"409", "1"}: 1, {"dropped", "1"}: 1, {"202", "3"}: 1, {"503", "3"}: 1}
	if !mapsEqual(statuses, want) {
		t.Errorf("status mix %v, want %v", statuses, want)
	}

	outcomes := counts(t, byID(t, doc, "chart-outcomes"))
	want = map[[2]string]int{{OutcomePaid, "0"}: 1, {"succeeded", "3"}: 1, {OutcomeUnfinished, "3"}: 1}
	if !mapsEqual(outcomes, want) {
		t.Errorf("outcomes per second %v, want %v (the payment never started is not one)", outcomes, want)
	}

	// One point per second with attempts, for each percentile; second 0 has
	// 20 ms and 40 ms, so its p50 is 20 ms and its p99 40 ms.
	latency := byID(t, doc, "chart-latency")
	for _, p := range []string{"p50", "p90", "p99"} {
		pts := findAll(latency, func(n *html.Node) bool { return n.Data == "circle" && attr(n, "data-series") == p })
		var secs []string
		for _, pt := range pts {
			secs = append(secs, attr(pt, "data-second"))
		}
		if !slices.Equal(secs, []string{"0", "1", "3"}) {
			t.Errorf("%s has points at seconds %v, want 0, 1 and 3", p, secs)
		}
		if len(pts) > 0 {
			if got, want := attr(pts[0], "data-value"), map[string]string{"p50": "20.0ms", "p90": "40.0ms", "p99": "40.0ms"}[p]; got != want {
				t.Errorf("%s at second 0 = %s, want %s", p, got, want)
			}
		}
	}
}

func mapsEqual(a, b map[[2]string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestReportChecks checks that the verdict and the check table agree with
// the exit status, for the violations the drill's own checks find.
func TestReportChecks(t *testing.T) {
	t.Parallel()
	s, results := fixture()
	withDB := func(change func(s *snapshot, rs []Result)) Report {
		s, results := fixture()
		rs := slices.Clone(results)
		change(&s, rs)
		return Report{RunID: "drill-0badcafe", Results: rs, Checked: true,
			Violations: append(clientViolations(rs), evaluate(s, rs, testNow)...)}
	}
	clientOnly := func(change func(rs []Result)) Report {
		rs := slices.Clone(results)
		change(rs)
		return Report{RunID: "drill-0badcafe", Results: rs, Violations: clientViolations(rs)}
	}
	tests := []struct {
		name    string
		rep     Report
		code    int
		verdict string
		failed  map[string]string // check → an item it must list
		notRun  bool              // the MongoDB checks show as not run
	}{
		{"clean", Report{RunID: "drill-0badcafe", Results: results, Checked: true, Violations: evaluate(s, results, testNow)}, 0, "PASS", nil, false},
		{"two orders for one key", withDB(func(s *snapshot, _ []Result) {
			dup := s.orders[0]
			dup.ID = testOrderID
			s.orders = append(s.orders, dup)
		}), 1, "FAIL", map[string]string{"one_order_per_key": testPrefix + "0: 2 orders"}, false},
		{"no final answer, client checks only", clientOnly(func(rs []Result) {
			rs[0].Outcome, rs[0].Reason = OutcomeUnfinished, "no final answer to POST /orders"
		}), 1, "FAIL", map[string]string{"no_final_answer": testPrefix + "0: no final answer to POST /orders"}, true},
		{"client checks only", Report{RunID: "drill-0badcafe", Results: results}, 0, "PASS", nil, true},
		{"interrupted", Report{RunID: "drill-0badcafe", Results: results, Checked: true, Interrupted: true}, 130, "INTERRUPTED", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := len(tt.rep.Violations) > 0; got != (tt.code == 1) {
				t.Fatalf("the test case has violations %v, yet exit status %d", tt.rep.Violations, tt.code)
			}
			doc, _ := render(t, tt.rep, tt.code)
			banner := byID(t, doc, "verdict")
			if got := attr(banner, "data-verdict"); got != tt.verdict {
				t.Errorf("verdict %q, want %q", got, tt.verdict)
			}
			if got := attr(banner, "data-exit"); got != strconv.Itoa(tt.code) {
				t.Errorf("banner exit status %q, want %d", got, tt.code)
			}
			if !strings.HasPrefix(text(banner), tt.verdict) {
				t.Errorf("banner reads %q, want it to start with %s", text(banner), tt.verdict)
			}

			rows := findAll(byID(t, doc, "checks"), func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-check") != "" })
			var names []string
			for _, r := range rows {
				name, status := attr(r, "data-check"), attr(r, "data-status")
				names = append(names, name)
				want := checkPass
				switch {
				case tt.failed[name] != "":
					want = checkFail
					if !strings.Contains(text(r), tt.failed[name]) {
						t.Errorf("check %s row %q does not list %q", name, text(r), tt.failed[name])
					}
				case tt.notRun && !clientChecks[name]:
					want = checkNotRun
				}
				if status != want {
					t.Errorf("check %s is %q, want %q", name, status, want)
				}
			}
			if !slices.Equal(names, checkOrder) {
				t.Errorf("checks %v, want every check in order %v", names, checkOrder)
			}
			if got := len(findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "not-checked" })) == 1; got != tt.notRun {
				t.Errorf("the note that MongoDB was not checked shows: %v, want %v", got, tt.notRun)
			}
		})
	}
}

// TestReportSummary checks that the summary table holds what the drill
// prints, and that the configuration keeps its secrets.
func TestReportSummary(t *testing.T) {
	t.Parallel()
	rep := reportRun()
	doc, page := render(t, rep, 1)
	var printed bytes.Buffer
	writeSummary(&printed, rep)
	lines := strings.Split(strings.TrimSpace(printed.String()), "\n")
	rows := findAll(byID(t, doc, "summary"), func(n *html.Node) bool { return n.Data == "tr" })
	if len(rows) != len(lines) {
		t.Fatalf("summary has %d rows, the drill prints %d lines", len(rows), len(lines))
	}
	for i, r := range rows {
		cells := findAll(r, func(n *html.Node) bool { return n.Data == "td" })
		name, value := text(cells[0]), text(cells[1])
		if !strings.HasPrefix(lines[i], name+"  ") || !strings.HasSuffix(lines[i], value) {
			t.Errorf("summary row %q | %q, printed %q", name, value, lines[i])
		}
	}
	if !strings.Contains(page, "attempts") || !strings.Contains(text(byID(t, doc, "summary")), "6 (polls 0)") {
		t.Errorf("the summary does not count the 6 attempts")
	}
	for _, secret := range []string{"sk_secret_key", "s3cret"} {
		if strings.Contains(page, secret) {
			t.Errorf("the report shows the secret %q", secret)
		}
	}
}

// TestReportSelfContained checks that the page loads nothing: no script, no
// stylesheet, font or image from elsewhere.
func TestReportSelfContained(t *testing.T) {
	t.Parallel()
	doc, page := render(t, reportRun(), 0)
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		switch n.Data {
		case "script", "link", "iframe", "object", "embed", "img", "image", "use":
			t.Errorf("the report has a <%s> element", n.Data)
		}
		for _, a := range n.Attr {
			k := strings.ToLower(a.Key)
			if k == "src" || strings.HasSuffix(k, "href") || k == "srcset" || k == "action" {
				t.Errorf("<%s %s=%q>: a reference", n.Data, a.Key, a.Val)
			}
			if k == "style" && strings.Contains(a.Val, "url(") {
				t.Errorf("<%s style=%q>: a url()", n.Data, a.Val)
			}
		}
	}
	for _, bad := range []string{"@import", "url(", "<script", "@font-face"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the report contains %q", bad)
		}
	}
}

// TestReportInBrowser renders the page in headless Chromium, when there is
// one, to check that a browser loads it and builds the charts.
func TestReportInBrowser(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium on PATH")
	}
	var b bytes.Buffer
	if err := WriteReport(&b, reportRun(), reportConfig(), 1); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "drill.html")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
		"--no-first-run", "--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+path).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("parse chromium's DOM: %v", err)
	}
	if got := attr(byID(t, doc, "verdict"), "data-verdict"); got != "FAIL" {
		t.Errorf("chromium shows verdict %q, want FAIL", got)
	}
	if n := len(findAll(byID(t, doc, "chart-statuses"), func(n *html.Node) bool { return n.Data == "rect" })); n != 5 {
		t.Errorf("chromium shows %d status bars, want 5", n)
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		total, done int
		started     int
		interrupted bool
		want        string
	}{
		{"all done", 3, 3, 3, false, "3/3"},
		{"-for started fewer", 5, 2, 2, false, "2/2"},
		{"interrupted", 5, 2, 5, true, "payments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			p := newProgress(&b, tt.total)
			for range tt.done {
				p.done()
			}
			p.stop(tt.started, tt.interrupted)
			out := b.String()
			if !strings.Contains(out, tt.want) || !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
				t.Errorf("bar drew %q, want it to show %q and end one line", out, tt.want)
			}
		})
	}
	var none *progress // no terminal: nothing drawn, nothing to fail
	none.done()
	none.stop(1, false)
}
