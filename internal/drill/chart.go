package drill

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The charts are drawn in Go as inline SVG, so that the report is one file
// that opens anywhere, offline, with no script. Every chart has one slot
// per second of the run.

// Chart geometry, in SVG user units.
const (
	chartW, chartH  = 960, 220
	padL, padR      = 52, 12
	padT, padB      = 10, 26
	plotW, plotH    = chartW - padL - padR, chartH - padT - padB
	maxMarkedPoints = 600 // beyond this many seconds, lines have no dots
)

// chart is one SVG chart.
type chart struct {
	ID, Title, Caption string
	Seconds            int // slots on the x axis, one per second
	W, H               int
	Left, Top          int    // the plot area's corner
	Right, Bottom      int    // the plot area's other corner
	YUnit              string // "", "ms"
	XTicks, YTicks     []tick
	Bars               []bar
	Lines              []line
	Legend             []series
}

// tick is a labelled grid line at X or Y.
type tick struct {
	Pos   string
	Label string
}

// series is a named, coloured set of values.
type series struct{ Name, Color string }

// bar is one segment of a stacked bar: Count of Series in second Second.
type bar struct {
	X, Y, W, H string
	Color      string
	Second     int
	Series     string
	Count      int
}

// line is one series as an SVG path, with a dot per second that has a value.
type line struct {
	Series, Color string
	D             string
	Points        []point
}

// point is a value of a line.
type point struct {
	X, Y   string
	Second int
	Value  string
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, for a y axis.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func newChart(id, title, caption string, seconds int, yMax float64, yUnit string) chart {
	c := chart{ID: id, Title: title, Caption: caption, Seconds: seconds, W: chartW, H: chartH, Left: padL, Top: padT,
		Right: padL + plotW, Bottom: padT + plotH, YUnit: yUnit}
	top := niceCeil(yMax)
	for i := range 5 {
		v := top * float64(i) / 4
		c.YTicks = append(c.YTicks, tick{num(padT + plotH - v/top*plotH), strconv.FormatFloat(v, 'g', 4, 64) + yUnit})
	}
	step := 1
	for _, s := range []int{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600} {
		if step = s; seconds/s <= 12 {
			break
		}
	}
	for s := 0; s <= seconds; s += step {
		c.XTicks = append(c.XTicks, tick{num(padL + float64(s)/float64(seconds)*plotW), fmt.Sprintf("%ds", s)})
	}
	return c
}

// stacked draws counts[s][i], the count of series i in second s, as one
// stacked bar per second.
func stacked(id, title, caption string, ss []series, counts [][]int) chart {
	seconds := len(counts)
	most := 0
	for _, row := range counts {
		t := 0
		for _, n := range row {
			t += n
		}
		most = max(most, t)
	}
	c := newChart(id, title, caption, seconds, float64(most), "")
	c.Legend = ss
	top := niceCeil(float64(most))
	slot := float64(plotW) / float64(seconds)
	w := slot
	if slot > 3 {
		w = slot - 1 // a gap between bars, while they are wide enough
	}
	for s, row := range counts {
		y := float64(padT + plotH)
		for i, n := range row {
			if n == 0 {
				continue
			}
			h := float64(n) / top * plotH
			y -= h
			c.Bars = append(c.Bars, bar{X: num(padL + float64(s)*slot), Y: num(y), W: num(w), H: num(h),
				Color: ss[i].Color, Second: s, Series: ss[i].Name, Count: n})
		}
	}
	return c
}

// lines draws values[i][s], the value of series i in second s (NaN: none),
// as one line per series.
func lines(id, title, caption, unit string, ss []series, values [][]float64) chart {
	seconds := 1
	most := 0.0
	for _, vs := range values {
		seconds = max(seconds, len(vs))
		for _, v := range vs {
			if !math.IsNaN(v) {
				most = max(most, v)
			}
		}
	}
	c := newChart(id, title, caption, seconds, most, unit)
	c.Legend = ss
	top := niceCeil(most)
	slot := float64(plotW) / float64(seconds)
	for i, vs := range values {
		l := line{Series: ss[i].Name, Color: ss[i].Color}
		var d strings.Builder
		pen := "M"
		for s, v := range vs {
			if math.IsNaN(v) {
				pen = "M" // a second without attempts breaks the line
				continue
			}
			x, y := num(padL+(float64(s)+0.5)*slot), num(padT+plotH-v/top*plotH)
			fmt.Fprintf(&d, "%s%s %s ", pen, x, y)
			pen = "L"
			if seconds <= maxMarkedPoints {
				l.Points = append(l.Points, point{X: x, Y: y, Second: s, Value: strconv.FormatFloat(v, 'f', 1, 64) + unit})
			}
		}
		l.D = strings.TrimSpace(d.String())
		c.Lines = append(c.Lines, l)
	}
	return c
}
