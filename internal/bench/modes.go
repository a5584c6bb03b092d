package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// runN calls do for i in [0, n) from c goroutines and returns the samples in
// order of i, and how long the whole took.
func runN(ctx context.Context, n, c int, do func(ctx context.Context, i int) sample) ([]sample, time.Duration) {
	out := make([]sample, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for range min(c, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				out[i] = do(ctx, i)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if err := ctx.Err(); err != nil {
		// Interrupted: keep what finished.
		done := out[:0]
		for _, s := range out {
			if s.lat != 0 || s.err != nil {
				done = append(done, s)
			}
		}
		out = done
	}
	return out, elapsed
}

// runUnique sends n first requests, each with a fresh key.
func runUnique(ctx context.Context, cl *client, runID string, n, c int) Result {
	samples, elapsed := runN(ctx, n, c, func(ctx context.Context, i int) sample {
		s, _ := cl.timed(ctx, "POST", "/orders", fmt.Sprintf("bench-%s-u%d", runID, i), orderBody(i))
		return s
	})
	return summarize(string(ModeUnique), samples, elapsed)
}

// replayKeys is how many completed keys replay mode cycles through.
const replayKeys = 64

func replayKey(runID string, i int) string { return fmt.Sprintf("bench-%s-r%d", runID, i) }

// setupReplay completes the keys replay mode re-sends and returns how many.
func setupReplay(ctx context.Context, cl *client, runID string, n, c int) (int, error) {
	k := min(n, replayKeys)
	setup, _ := runN(ctx, k, c, func(ctx context.Context, i int) sample {
		s, _ := cl.timed(ctx, "POST", "/orders", replayKey(runID, i), orderBody(i))
		return s
	})
	for _, s := range setup {
		if s.err != nil || s.status != http.StatusCreated {
			return 0, fmt.Errorf("replay: creating its keys: status %d, err %v", s.status, s.err)
		}
	}
	return k, ctx.Err()
}

// runReplay re-sends the k completed keys of setupReplay n times in turn:
// each answer should be the stored one.
func runReplay(ctx context.Context, cl *client, runID string, n, c, k int) Result {
	samples, elapsed := runN(ctx, n, c, func(ctx context.Context, i int) sample {
		s, _ := cl.timed(ctx, "POST", "/orders", replayKey(runID, i%k), orderBody(i%k))
		return s
	})
	return summarize(string(ModeReplay), samples, elapsed)
}

// runRace sends n requests in groups of group requests that share one key
// and are released together; c/group groups are in flight at once. In each
// group exactly one request must create the order (201, not replayed); the
// others get 409 idempotency_key_in_use or the replayed 201.
func runRace(ctx context.Context, cl *client, runID string, n, c, group int) Result {
	groups := (n + group - 1) / group
	var mu sync.Mutex
	var all []sample
	violations := 0
	_, elapsed := runN(ctx, groups, max(1, c/group), func(ctx context.Context, g int) sample {
		key := fmt.Sprintf("bench-%s-g%d", runID, g)
		body := orderBody(g)
		size := min(group, n-g*group)
		got := make([]sample, size)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for j := range size {
			wg.Go(func() {
				<-gate
				got[j], _ = cl.timed(ctx, "POST", "/orders", key, body)
			})
		}
		close(gate)
		wg.Wait()
		if creators(got) != 1 {
			mu.Lock()
			violations++
			mu.Unlock()
		}
		mu.Lock()
		all = append(all, got...)
		mu.Unlock()
		return sample{lat: 1} // marks the group done for runN
	})
	r := summarize(string(ModeRace), all, elapsed)
	r.Violations = violations
	return r
}

// creators counts the requests of a race group that created the order.
func creators(group []sample) int {
	n := 0
	for _, s := range group {
		if s.err == nil && s.status == http.StatusCreated && !s.replayed {
			n++
		}
	}
	return n
}

// listPages is how deep the deep-pagination variant of list mode starts.
const listPages = 50

// listVariant is one kind of GET /orders in list mode.
type listVariant struct {
	name  string
	query string
}

// runList measures GET /orders?limit=20 five ways, n/5 requests each:
// unfiltered; by userId (about 1% of the orders); by status PAYMENT_FAILED
// (none of the orders made over HTTP here, a tenth of the prefilled ones);
// by status CREATED, which no order has (the filter that reads the most
// where the store cannot look it up); and listPages pages deep through
// starting_after. measure wraps each variant's run.
func runList(ctx context.Context, cl *client, n, c int, measure func(func() Result) Result) ([]Result, error) {
	cursor, pages, err := deepCursor(ctx, cl, listPages)
	if err != nil {
		return nil, err
	}
	variants := []listVariant{
		{"list:all", "limit=20"},
		{"list:user", "limit=20&userId=u7"},
		{"list:status", "limit=20&status=PAYMENT_FAILED"},
		{"list:none", "limit=20&status=CREATED"},
	}
	deep := listVariant{"list:deep", "limit=20&starting_after=" + url.QueryEscape(cursor)}
	if cursor != "" {
		variants = append(variants, deep)
	}
	per := max(1, (n+4)/5)
	var out []Result
	for _, v := range variants {
		r := measure(func() Result {
			samples, elapsed := runN(ctx, per, c, func(ctx context.Context, _ int) sample {
				s, _ := cl.timed(ctx, "GET", "/orders?"+v.query, "", nil)
				return s
			})
			return summarize(v.name, samples, elapsed)
		})
		if v.name == deep.name && pages < listPages {
			r.Note = fmt.Sprintf("only %d pages deep: not enough orders for %d", pages, listPages)
		}
		out = append(out, r)
	}
	if cursor == "" {
		out = append(out, Result{Mode: deep.name, Status: map[string]int{}, Note: "skipped: fewer than 21 orders stored"})
	}
	return out, nil
}

// deepCursor pages through GET /orders?limit=20 and returns the cursor of
// page pages+1 (the last id of page pages), or of the last page that has one
// when there are fewer, and the number of pages it skips; "" if no page has
// a next one.
func deepCursor(ctx context.Context, cl *client, pages int) (string, int, error) {
	cursor := ""
	for p := 1; p <= pages; p++ {
		q := "/orders?limit=20"
		if cursor != "" {
			q += "&starting_after=" + url.QueryEscape(cursor)
		}
		a, err := cl.do(ctx, "GET", q, "", nil, "")
		if err != nil {
			return "", 0, fmt.Errorf("list: paging: %w", err)
		}
		if a.status != http.StatusOK {
			return "", 0, fmt.Errorf("list: paging: status %d: %s", a.status, truncate(a.body, 200))
		}
		var page struct {
			Orders []struct {
				ID string `json:"id"`
			} `json:"orders"`
			HasMore bool `json:"has_more"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			return "", 0, fmt.Errorf("list: paging: %w", err)
		}
		if !page.HasMore || len(page.Orders) == 0 {
			// Past the last page a query answers nothing; the cursor
			// that led here still returns rows.
			return cursor, p - 1, nil
		}
		cursor = page.Orders[len(page.Orders)-1].ID
	}
	return cursor, pages, nil
}
