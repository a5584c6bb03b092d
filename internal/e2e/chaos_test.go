package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMultiInstanceChaos runs the drill across three servers sharing one
// standalone store while one server at a time is killed with SIGKILL at a
// random moment and restarted. Provider failures, dropped responses and
// lost processes all happen at once; the drill retries every payment with
// its one key until it has a final answer, except a fifth of the clients,
// which give up after one attempt and leave the rest to the servers'
// completers; then it checks the invariants in MongoDB. It must find no
// violation.
//
// The run is sized by time, not by a payment count: the drill starts
// payments for a fixed time while the kills go on, so a faster store makes
// the run stronger (more payments under the same number of kills) instead of
// shorter.
// chaosFor is how long the chaos drill starts payments.
const chaosFor = 50 * time.Second

func TestMultiInstanceChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos drill skipped in -short mode")
	}
	t.Parallel()
	dir := t.TempDir()
	storeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startStore(t, storeAddr, dir)
	uri := "mongodb://" + storeAddr

	env := []string{
		"MONGODB_URI=" + uri, "MONGODB_TIMEOUT=3s", "FAULTS_ENABLED=true",
		"IDEMPOTENCY_LEASE=2s", "WORKER_LEASE=2s", "WORKER_POLL_INTERVAL=50ms", "WORKER_CONCURRENCY=4",
		"ASYNC_DELAY=100ms", "ASYNC_JITTER=200ms", "BEHAVIOR_REFRESH=200ms", "SHUTDOWN_TIMEOUT=2s",
		"RECOVERY_AFTER=1s", "COMPLETER_INTERVAL=300ms",
		// Webhooks: retries within 20 s (8 attempts), so a delivery whose
		// attempts failed on purpose, or whose instance was killed, still
		// arrives within the drill's webhook wait.
		"WEBHOOK_RETRY_WINDOW=20s", "WEBHOOK_TIMEOUT=3s", "WEBHOOK_POLL_INTERVAL=50ms",
	}
	servers := make([]*server, 3)
	urls := make([]string, len(servers))
	for i := range servers {
		servers[i] = startServer(t, fmt.Sprintf("server-%d", i), dir, env)
		urls[i] = servers[i].url
	}
	// A 30% failure rate for orders and intents, and a small random delay,
	// in the shared store: every instance, and every restart, uses it.
	if r := servers[0].call("POST", "/admin/payment-behavior", "chaos-behavior", adminKey,
		`{"failureRate":0.3,"intentFailureRate":0.3,"minDelayMs":0,"maxDelayMs":40}`); r.err != nil || r.status != http.StatusOK {
		t.Fatalf("set behavior: %v %d %s", r.err, r.status, r.body)
	}
	dropResponses := func(s *server) {
		t.Helper()
		key := fmt.Sprintf("chaos-drop-%d", time.Now().UnixNano())
		if r := s.call("POST", "/admin/faults", key, adminKey, `{"drop_response_rate":0.1}`); r.err != nil || r.status != http.StatusOK {
			t.Fatalf("arm dropped responses on %s: %v %d %s", s.name, r.err, r.status, r.body)
		}
	}
	for _, s := range servers {
		dropResponses(s)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	drill := exec.CommandContext(ctx, binary(t, "drill"),
		"-urls", strings.Join(urls, ","), "-mongodb-uri", uri, "-db", "reliability_demo",
		"-api-key", apiKey, "-n", "100000", "-for", chaosFor.String(), "-c", "16", "-mix", "0.5",
		"-timeout", "5s", "-deadline", "2m", "-abandon", "0.2", "-recovery-wait", "60s", "-quiet",
		// The drill's webhook consumer, under the delivery faults:
		// 20% duplicates, a 2 s reorder window, 10% failed attempts, 5%
		// forged copies.
		"-webhooks", "-admin-key", adminKey, "-webhook-duplicate", "0.2", "-webhook-reorder", "2s",
		"-webhook-fail", "0.1", "-webhook-forged", "0.05", "-webhook-wait", "90s")
	out := &syncBuffer{}
	drill.Stdout, drill.Stderr = out, out
	if err := drill.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- drill.Wait() }()

	// Kill one server at a random moment, restart it, and again, until the
	// drill has its answers. The test goroutine does it, so that failures
	// can stop the test.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills := 0
	var err error
loop:
	for {
		select {
		case err = <-done:
			break loop
		case <-time.After(time.Duration(1500+rng.IntN(2500)) * time.Millisecond):
			s := servers[rng.IntN(len(servers))]
			s.proc.kill()
			kills++
			time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
			s.restart(t)
			dropResponses(s)
		}
	}
	t.Logf("drill output:\n%s", out.String())
	// A kill comes every 1.5-4 s, so the drill's time holds at least this
	// many unless something stalled the loop.
	if minKills := int(chaosFor / (4 * time.Second)); kills < minKills {
		t.Errorf("only %d servers were killed during the drill, want at least %d", kills, minKills)
	}
	if err != nil {
		t.Fatalf("drill failed after %d kills: %v", kills, err)
	}
	if !strings.Contains(out.String(), "0 violations") {
		t.Fatalf("drill did not report zero violations")
	}
	t.Logf("%d servers killed and restarted during the drill", kills)
}
