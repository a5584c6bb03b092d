package drill

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reliabledemo/payments/internal/latency"
)

//go:embed report.html.tmpl
var reportHTML string

var reportTmpl = template.Must(template.New("report").Parse(reportHTML))

// clientChecks are the checks that need no database: the others run only
// when the drill could read MongoDB.
var clientChecks = map[string]bool{"unexpected_4xx": true, "unexpected_answers": true, "no_final_answer": true}

// Check statuses in the report.
const (
	checkPass   = "pass"
	checkFail   = "fail"
	checkNotRun = "not run"
)

// reportPage is what the template draws.
type reportPage struct {
	Verdict  string // PASS, FAIL, INTERRUPTED, ERROR
	Class    string // the banner's colour: pass, fail, warn
	ExitCode int
	Headline string
	RunID    string
	Checked  bool
	Config   []summaryRow
	Summary  []summaryRow
	Checks   []checkRow
	Charts   []chart
}

// checkRow is one invariant check and what broke it.
type checkRow struct {
	Name, Status, Source string
	Items                []string
}

// WriteReport writes the run as one self-contained HTML page: a PASS or
// FAIL banner with exitCode, charts over time, the configuration, the
// summary and every invariant check.
func WriteReport(w io.Writer, rep Report, cfg Config, exitCode int) error {
	return reportTmpl.Execute(w, newReportPage(rep, cfg, exitCode))
}

func newReportPage(rep Report, cfg Config, exitCode int) reportPage {
	p := reportPage{ExitCode: exitCode, RunID: rep.RunID, Checked: rep.Checked,
		Config: configRows(cfg), Summary: summarize(rep), Checks: checkRows(rep)}
	final, violations := 0, 0
	for i := range rep.Results {
		if rep.Results[i].Final() {
			final++
		}
	}
	var failed []string
	for _, v := range rep.Violations {
		violations += len(v.Items)
		failed = append(failed, v.Check)
	}
	switch exitCode {
	case 0:
		p.Verdict, p.Class = "PASS", "pass"
		p.Headline = fmt.Sprintf("0 violations; %d of %d payments final", final, len(rep.Results))
	case 1:
		p.Verdict, p.Class = "FAIL", "fail"
		p.Headline = fmt.Sprintf("%d violations in %s", violations, strings.Join(failed, ", "))
	case 130:
		p.Verdict, p.Class = "INTERRUPTED", "warn"
		p.Headline = fmt.Sprintf("0 violations among the %d of %d payments that were final", final, len(rep.Results))
	default:
		p.Verdict, p.Class = "ERROR", "fail"
		p.Headline = "the drill could not run or check all it should; see its output"
	}
	if !rep.Checked {
		p.Headline += " (MongoDB checks not run: client-side checks only)"
	}
	p.Charts = timeCharts(rep)
	return p
}

// configRows names the run's settings as the flags do. The API key is not
// shown, nor a password in the MongoDB URI.
func configRows(cfg Config) []summaryRow {
	mongo := cfg.MongoURI
	if u, err := url.Parse(mongo); err == nil {
		mongo = u.Redacted()
	}
	if mongo == "" {
		mongo = "(none: MongoDB checks skipped)"
	}
	forText := "0 (send all -n)"
	if cfg.For > 0 {
		forText = cfg.For.String()
	}
	return []summaryRow{
		{"-urls", strings.Join(cfg.URLs, ", ")},
		{"-n", strconv.Itoa(cfg.N)},
		{"-for", forText},
		{"-c", strconv.Itoa(cfg.Concurrency)},
		{"-mix", strconv.FormatFloat(cfg.Mix, 'g', -1, 64)},
		{"-refunds", strconv.FormatBool(cfg.Refunds)},
		{"-abandon", strconv.FormatFloat(cfg.Abandon, 'g', -1, 64)},
		{"-recovery-wait", cfg.RecoveryWait.String()},
		{"-timeout", cfg.Timeout.String()},
		{"-deadline", cfg.Deadline.String()},
		{"-seed", strconv.FormatUint(cfg.Seed, 10)},
		{"-mongodb-uri", mongo},
		{"-db", cfg.DB},
	}
}

// checkRows lists every check in report order: failed when it has
// violations, not run when it needs MongoDB and the checks did not run.
func checkRows(rep Report) []checkRow {
	byCheck := map[string][]string{}
	var extra []string // checks outside checkOrder, should one appear
	for _, v := range rep.Violations {
		if _, seen := byCheck[v.Check]; !seen && !slices.Contains(checkOrder, v.Check) {
			extra = append(extra, v.Check)
		}
		byCheck[v.Check] = append(byCheck[v.Check], v.Items...)
	}
	var rows []checkRow
	for _, name := range append(slices.Clone(checkOrder), extra...) {
		r := checkRow{Name: name, Status: checkPass, Source: "MongoDB", Items: byCheck[name]}
		if clientChecks[name] {
			r.Source = "client"
		}
		switch {
		case len(r.Items) > 0:
			r.Status = checkFail
		case !clientChecks[name] && !rep.Checked:
			r.Status = checkNotRun
		}
		rows = append(rows, r)
	}
	return rows
}

// Payment outcomes, in the order they are stacked, and their colours.
var outcomeSeries = []series{
	{OutcomePaid, "#2e7d32"}, {"succeeded", "#66bb6a"}, {OutcomePaymentFailed, "#f9a825"},
	{"failed", "#fbc02d"}, {"canceled", "#90a4ae"}, {OutcomeAbandoned, "#8e24aa"},
	{OutcomeUnexpected, "#c62828"}, {OutcomeUnfinished, "#e53935"}, {OutcomeInterrupted, "#424242"},
	{"other", "#bcaaa4"}, // an intent status the drill does not expect to end in
}

// runSeconds is how many one-second slots the charts have: the run's
// length, rounded up, and at least one.
func runSeconds(rep Report) int {
	n := max(1, int(math.Ceil(rep.Elapsed.Seconds())))
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Outcome != OutcomeNotStarted {
			n = max(n, int(r.done/time.Second)+1)
		}
		for _, a := range r.attempts {
			n = max(n, int(a.At/time.Second)+1)
		}
	}
	return n
}

// timeCharts draws the run second by second: attempts, payments ended by
// outcome, latency percentiles and the status codes answered.
func timeCharts(rep Report) []chart {
	n := runSeconds(rep)
	attempts := make([][]int, n)
	outcomes := make([][]int, n)
	lat := make([][]time.Duration, n)
	byStatus := map[int][]int{}
	for s := range n {
		attempts[s] = make([]int, 1)
		outcomes[s] = make([]int, len(outcomeSeries))
	}
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Outcome != OutcomeNotStarted {
			k := slices.IndexFunc(outcomeSeries, func(s series) bool { return s.Name == r.Outcome })
			if k < 0 {
				k = len(outcomeSeries) - 1
			}
			outcomes[int(r.done/time.Second)][k]++
		}
		for _, a := range r.attempts {
			s := int(a.At / time.Second)
			attempts[s][0]++
			lat[s] = append(lat[s], a.Latency)
			if byStatus[a.Status] == nil {
				byStatus[a.Status] = make([]int, n)
			}
			byStatus[a.Status][s]++
		}
	}

	pcts := []float64{50, 90, 99}
	latSeries := []series{{"p50", "#1e88e5"}, {"p90", "#fb8c00"}, {"p99", "#d81b60"}}
	values := make([][]float64, len(pcts))
	for i := range values {
		values[i] = make([]float64, n)
	}
	for s, ls := range lat {
		slices.Sort(ls)
		for i, p := range pcts {
			values[i][s] = math.NaN()
			if len(ls) > 0 {
				values[i][s] = float64(latency.Percentile(ls, p)) / float64(time.Millisecond)
			}
		}
	}

	codes := make([]int, 0, len(byStatus))
	for code := range byStatus {
		codes = append(codes, code)
	}
	// Answers by code, with dropped attempts (status 0) on top.
	slices.SortFunc(codes, func(a, b int) int { return cmpStatus(a) - cmpStatus(b) })
	statusSeries := make([]series, len(codes))
	mix := make([][]int, n)
	for s := range mix {
		mix[s] = make([]int, len(codes))
		for i, code := range codes {
			mix[s][i] = byStatus[code][s]
		}
	}
	for i, code := range codes {
		statusSeries[i] = series{statusName(code), statusColor(code)}
	}

	return []chart{
		stacked("attempts", "Attempts per second", "HTTP attempts sent in each second of the run, polls and retries included.",
			[]series{{"attempts", "#5c6bc0"}}, attempts),
		stacked("outcomes", "Payments ended per second, by outcome", "Each payment counted once, in the second it got its final answer or gave up.",
			outcomeSeries, outcomes),
		lines("latency", "Latency percentiles per second", "Latency of the attempts sent in each second (p50, p90, p99); a gap is a second without attempts.",
			"ms", latSeries, values),
		stacked("statuses", "Status codes per second", "Every attempt by the status it got, stacked; dropped: no answer at all.",
			statusSeries, mix),
	}
}

// cmpStatus orders status codes, with no answer last.
func cmpStatus(code int) int {
	if code == 0 {
		return 1000
	}
	return code
}

func statusName(code int) string {
	if code == 0 {
		return "dropped"
	}
	return strconv.Itoa(code)
}

// statusColor gives the codes the drill meets a colour of their own, and
// others one of their class.
func statusColor(code int) string {
	known := map[int]string{
		0: "#212121", 200: "#43a047", 201: "#2e7d32", 202: "#81c784",
		400: "#fdd835", 404: "#ff7043", 409: "#fb8c00", 425: "#ffb74d", 429: "#8d6e63",
		500: "#e53935", 502: "#ad1457", 503: "#c62828", 504: "#6a1b9a",
	}
	if c, ok := known[code]; ok {
		return c
	}
	switch {
	case code < 300:
		return "#a5d6a7"
	case code < 500:
		return "#ffcc80"
	}
	return "#ef9a9a"
}
