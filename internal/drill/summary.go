package drill

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/reliabledemo/payments/internal/latency"
)

// summaryRow is one line of the summary: a name and what it counts.
type summaryRow struct{ Name, Value string }

// writeSummary prints the run's numbers as a table.
func writeSummary(w io.Writer, rep Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range summarize(rep) {
		fmt.Fprintf(tw, "%s\t%s\n", r.Name, r.Value)
	}
	_ = tw.Flush()
}

// summarize computes the run's numbers, for the printed summary and the
// report alike, so that the two never disagree.
func summarize(rep Report) []summaryRow {
	var total tally
	n := map[string]int{}
	kinds := map[Kind]int{}
	for i := range rep.Results {
		r := &rep.Results[i]
		total.merge(r.tally)
		n[r.Outcome]++
		if r.Outcome != OutcomeNotStarted {
			kinds[r.Kind]++
		}
		for _, rf := range r.Refunds {
			n["refund_"+rf.Outcome]++
		}
	}
	lat := make([]time.Duration, len(total.attempts))
	for i, a := range total.attempts {
		lat[i] = a.Latency
	}
	slices.Sort(lat)
	ms := func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
	finished := len(rep.Results) - n[OutcomeNotStarted] - n[OutcomeUnfinished] - n[OutcomeInterrupted]

	var rows []summaryRow
	row := func(name, format string, args ...any) {
		rows = append(rows, summaryRow{name, fmt.Sprintf(format, args...)})
	}
	row("run", "%s (seed %d)", rep.RunID, rep.Seed)
	row("payments", "%d sent (orders %d, intents %d), %d final, in %s", kinds[KindOrder]+kinds[KindIntent],
		kinds[KindOrder], kinds[KindIntent], finished, rep.Elapsed.Round(time.Millisecond))
	row("orders", "paid %d, payment_failed %d", n[OutcomePaid], n[OutcomePaymentFailed])
	row("intents", "succeeded %d, failed %d, canceled %d", n["succeeded"], n["failed"], n["canceled"])
	row("refunds", "ok %d, refused %d, unexpected %d, unfinished %d, interrupted %d", n["refund_"+RefundOK], n["refund_"+RefundRefused],
		n["refund_"+OutcomeUnexpected], n["refund_"+OutcomeUnfinished], n["refund_"+OutcomeInterrupted])
	row("not final", "unfinished %d, interrupted %d, not started %d", n[OutcomeUnfinished], n[OutcomeInterrupted], n[OutcomeNotStarted])
	row("abandoned", "%d payments, %d refunds (left to the service's completer)", n[OutcomeAbandoned], n["refund_"+OutcomeAbandoned])
	row("unexpected", "%d", len(total.unexpected))
	row("attempts", "%d (polls %d)", total.Attempts, total.Polls)
	row("replays", "%d", total.Replays)
	row("409 in use", "%d", total.Conflicts)
	row("425 too early", "%d", total.TooEarly)
	row("429 rate limited", "%d", total.RateLimited)
	row("5xx", "%d", total.ServerErrors)
	row("dropped", "%d", total.Dropped)
	row("latency", "p50 %s, p90 %s, p99 %s, max %s", ms(latency.Percentile(lat, 50)), ms(latency.Percentile(lat, 90)),
		ms(latency.Percentile(lat, 99)), ms(latency.Percentile(lat, 100)))
	return rows
}

// writeVerdict prints the violations and the last line.
func writeVerdict(w io.Writer, rep Report) {
	total := 0
	for _, v := range rep.Violations {
		fmt.Fprintf(w, "VIOLATION %s: %s\n", v.Check, v.details(maxListed))
		total += len(v.Items)
	}
	if !rep.Checked {
		fmt.Fprintln(w, "(MongoDB checks not run: client-side checks only)")
	}
	final := 0
	for i := range rep.Results {
		if rep.Results[i].Final() {
			final++
		}
	}
	switch {
	case total > 0:
		if rep.Interrupted {
			fmt.Fprintf(w, "INTERRUPTED: %d of %d payments final; the checks cover those\n", final, len(rep.Results))
		}
		fmt.Fprintf(w, "FAILED: %d violations\n", total)
	case rep.Interrupted:
		fmt.Fprintf(w, "INTERRUPTED: 0 violations among the %d of %d payments that were final\n", final, len(rep.Results))
	default:
		fmt.Fprintln(w, "OK: 0 violations")
	}
}
