package drill

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress draws the payments done as a bar on a terminal. It is nil when
// there is no terminal to draw on, and then does nothing.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress draws an empty bar of total payments on w.
func newProgress(w io.Writer, total int) *progress {
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("payments"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		// Every payment that ends redraws the bar; at 16 or more in
		// flight that would be thousands of redraws a second.
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	_ = bar.RenderBlank()
	return &progress{bar: bar}
}

// done counts one more payment done. It is safe for concurrent use.
func (p *progress) done() {
	if p != nil {
		_ = p.bar.Add(1)
	}
}

// stop draws the bar one last time and ends its line. A run that -for cut
// short ends full at the payments it started; an interrupted one stays
// where it was.
func (p *progress) stop(started int, interrupted bool) {
	if p == nil {
		return
	}
	if interrupted || started == 0 {
		_ = p.bar.Exit()
		return
	}
	p.bar.ChangeMax(started)
	_ = p.bar.Finish()
}
