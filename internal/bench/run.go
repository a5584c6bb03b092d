package bench

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/reliabledemo/payments/internal/mongostore"
)

// Output says how results are printed.
type Output struct {
	W    io.Writer // results
	Log  io.Writer // progress and set-up lines
	JSON bool      // one JSON object per line instead of text
}

// Run prepares the server (starting it if asked), prefills the store, then
// measures each mode in turn and prints each result as it is known. It
// returns every result; an error means the run could not be made.
func Run(ctx context.Context, cfg Config, out Output) (results []Result, err error) {
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	base, pid, mongoURI, db, label := cfg.URL, cfg.PID, cfg.MongoURI, cfg.DB, cfg.Label

	if cfg.StartServer {
		if mongoURI != "" {
			// A database of its own, dropped afterwards: stored-order
			// counts then mean what they say.
			db = "bench_" + runID
		}
		srv, err := startServer(ctx, cfg.ServerBin, cfg.APIKey, cfg.AdminKey, mongoURI, db, cfg.UnsafeFerretDB, cfg.Timeout, out.Log)
		if err != nil {
			return nil, err
		}
		defer func() {
			failed := err != nil
			for _, r := range results {
				failed = failed || r.Failed()
			}
			srv.stop(failed)
			if failed {
				fmt.Fprintf(out.Log, "bench: server log kept in %s\n", srv.log)
			}
		}()
		base, pid, mongoURI = srv.url, srv.pid(), srv.mongoURI
		if label == "" {
			label = "embedded"
			if cfg.MongoURI != "" {
				label = "mongodb"
			}
		}
	}
	if label == "" {
		label = "external"
	}

	var mdb *mongo.Database
	if mongoURI != "" && (cfg.Has(ModeRaw) || cfg.Prefill > 0 || cfg.StartServer) {
		mc, err := connect(ctx, mongoURI)
		if err != nil {
			return nil, err
		}
		defer func() { _ = mc.Disconnect(context.Background()) }()
		mdb = mc.Database(db)
		if cfg.StartServer && cfg.MongoURI != "" {
			defer func() { _ = mdb.Drop(context.Background()) }()
		}
	}

	var cl *client
	if cfg.needsHTTP() || cfg.Prefill > 0 && mdb == nil {
		cl = newClient(base, cfg.APIKey, cfg.Concurrency, cfg.Timeout)
		defer cl.close()
		hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := cl.waitHealthy(hctx)
		cancel()
		if err != nil {
			return nil, err
		}
		if !cfg.KeepBehavior {
			if err := cl.zeroBehavior(ctx, cfg.AdminKey, runID); err != nil {
				return nil, err
			}
		}
	}

	// est counts the orders made during the run, for a store the bench
	// cannot count itself.
	est := int64(cfg.Prefill)
	if cfg.Prefill > 0 {
		t0 := time.Now()
		if mdb != nil {
			err = prefillStore(ctx, mdb, runID, cfg.Prefill)
		} else {
			err = prefillAPI(ctx, cl, runID, cfg.Prefill, cfg.Concurrency)
		}
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(out.Log, "bench: prefilled %d orders in %s\n", cfg.Prefill, time.Since(t0).Round(time.Millisecond))
	}

	var raw *rawRunner
	if cfg.Has(ModeRaw) {
		if raw, err = newRawRunner(ctx, mdb, runID); err != nil {
			return nil, err
		}
	}

	emit := func(r Result) error {
		r.Store, r.Concurrency = label, cfg.Concurrency
		results = append(results, r)
		if out.JSON {
			return WriteJSON(out.W, r)
		}
		WriteText(out.W, r)
		_, err := fmt.Fprintln(out.W)
		return err
	}
	// measure runs one measurement with the server metered around it and
	// the stored orders counted before it.
	measure := func(m Mode, f func() Result) Result {
		stored, exact := est, false
		if mdb != nil {
			if n, err := mdb.Collection(mongostore.OrdersCollection).CountDocuments(ctx, bson.M{}); err == nil {
				stored, exact = n, true
			}
		}
		mt := startMeter(pid)
		r := f()
		mt.finish(&r)
		r.StoredOrders, r.StoredExact = stored, exact
		judge(m, &r)
		est += int64(r.Status["201"] - r.Replays + r.Status["ok"])
		return r
	}

	for _, m := range cfg.Modes {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(out.Log, "bench: %s, %d requests, c=%d\n", m, cfg.N, cfg.Concurrency)
		switch m {
		case ModeUnique:
			err = emit(measure(m, func() Result { return runUnique(ctx, cl, runID, cfg.N, cfg.Concurrency) }))
		case ModeReplay:
			k, err := setupReplay(ctx, cl, runID, cfg.N, cfg.Concurrency)
			if err != nil {
				return results, err
			}
			est += int64(k)
			err = emit(measure(m, func() Result { return runReplay(ctx, cl, runID, cfg.N, cfg.Concurrency, k) }))
			if err != nil {
				return results, err
			}
		case ModeRace:
			err = emit(measure(m, func() Result { return runRace(ctx, cl, runID, cfg.N, cfg.Concurrency, cfg.Group) }))
		case ModeRaw:
			err = emit(measure(m, func() Result { return runRaw(ctx, raw, cfg.N, cfg.Concurrency) }))
		case ModeList:
			var rs []Result
			rs, err = runList(ctx, cl, cfg.N, cfg.Concurrency, func(f func() Result) Result { return measure(m, f) })
			for _, r := range rs {
				if err == nil {
					err = emit(r)
				}
			}
		}
		if err != nil {
			return results, err
		}
	}
	return results, ctx.Err()
}
