package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/event"
)

// CommandMonitor returns a driver monitor that records every command's
// latency by name. Set it on the client's options before connecting.
// Command names come from the driver, not from clients, so the label stays
// bounded.
func (m *Metrics) CommandMonitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			m.mongoDuration.WithLabelValues(e.CommandName, "succeeded").Observe(e.Duration.Seconds())
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			m.mongoDuration.WithLabelValues(e.CommandName, "failed").Observe(e.Duration.Seconds())
		},
	}
}

// OldestJobFunc reports when the oldest pending job was queued, or ok=false
// when none is pending.
type OldestJobFunc func(ctx context.Context) (queuedAt time.Time, ok bool, err error)

// WatchJobs exports payments_jobs_oldest_pending_age_seconds, computed by
// oldest at scrape time (once per scrape, within timeout), so an idle
// service costs no query and a scrape never waits long on a slow store.
// On the embedded store the query reads the whole intentjobs collection,
// which holds pending work only.
func (m *Metrics) WatchJobs(oldest OldestJobFunc, now func() time.Time, timeout time.Duration) {
	if now == nil {
		now = time.Now
	}
	m.reg.MustRegister(&jobAge{
		desc: prometheus.NewDesc("payments_jobs_oldest_pending_age_seconds",
			"Age of the oldest pending payment intent job (0 when none is pending); it includes the asynchronous delay before a job is due.",
			nil, nil),
		oldest: oldest, now: now, timeout: timeout,
	})
}

// jobAge is a collector rather than a gauge updated in the background: the
// value is read only when someone asks for it.
type jobAge struct {
	desc    *prometheus.Desc
	oldest  OldestJobFunc
	now     func() time.Time
	timeout time.Duration
}

func (j *jobAge) Describe(ch chan<- *prometheus.Desc) { ch <- j.desc }

func (j *jobAge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), j.timeout)
	defer cancel()
	at, ok, err := j.oldest(ctx)
	if err != nil {
		// The scrape reports the failure (promhttp answers with the error
		// listed) instead of a made-up age.
		ch <- prometheus.NewInvalidMetric(j.desc, err)
		return
	}
	age := 0.0
	if ok {
		age = max(j.now().Sub(at).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(j.desc, prometheus.GaugeValue, age)
}
