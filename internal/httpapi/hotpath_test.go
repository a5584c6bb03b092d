package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/orders"
	"github.com/reliabledemo/payments/internal/testmongo"
)

// shardKeys is docs/scaling.md's table: the field every hot-path command
// on a collection must name with an equality, so that on a sharded cluster
// it goes to one shard, and on the embedded store it reads one document
// through the _id index.
var shardKeys = map[string]string{
	"idempotencykeys": "_id",
	"orders":          "_id",
	"charges":         "_id",
	"paymentintents":  "_id",
	"refunds":         "_id",
	"settings":        "_id",
	"intentjobs":      "_id",
}

// untargeted are the hot-path commands docs/scaling.md lists as
// deliberately not keyed: the job claim looks for any due job, in a
// collection that holds only pending work.
var untargeted = map[string]bool{"findAndModify intentjobs": true}

// filtersOf returns a command's name, collection and filters; inserts have
// none (their documents carry the key).
func filtersOf(cmd bson.Raw) (name, coll string, filters []bson.Raw) {
	first, _ := cmd.IndexErr(0)
	name = first.Key()
	coll, _ = first.Value().StringValueOK()
	switch name {
	case "find":
		filters = append(filters, cmd.Lookup("filter").Document())
	case "findAndModify":
		filters = append(filters, cmd.Lookup("query").Document())
	case "update", "delete":
		vals, _ := cmd.Lookup(map[string]string{"update": "updates", "delete": "deletes"}[name]).Array().Values()
		for _, v := range vals {
			filters = append(filters, v.Document().Lookup("q").Document())
		}
	}
	return name, coll, filters
}

// keyedBy reports whether filter names field with a plain equality.
func keyedBy(filter bson.Raw, field string) bool {
	v, err := filter.LookupErr(field)
	if err != nil {
		return false
	}
	if doc, ok := v.DocumentOK(); ok {
		_, err := doc.LookupErr("$eq")
		return err == nil
	}
	return true
}

// TestHotPathCommandsAreKeyed drives every hot path and checks each command
// it sends against the shard-key table of docs/scaling.md: one key
// equality per command, so each touches one document however many are
// stored, and stays on one shard.
func TestHotPathCommandsAreKeyed(t *testing.T) {
	t.Parallel()
	log := &commandCounter{}
	db := testmongo.OpenWith(t, options.Client().SetMonitor(log.monitor()))
	crashed := &crash{}
	a := newApp(t, appOptions{db: db, lease: 30 * time.Second, hooks: orders.Hooks{AfterCharge: crashed.hit}})

	paths := []struct {
		name string
		run  func()
	}{
		{"order: create, replay, read", func() {
			rec := a.postOrder("k-hot", orderJSON)
			a.postOrder("k-hot", orderJSON)
			a.do(request{method: "GET", path: "/orders/" + decode[orderBody](t, rec).ID})
		}},
		{"order: crash, takeover, complete", func() {
			crashed.armed.Store(true)
			a.postOrder("k-hot-crash", orderJSON)
			a.clock.Advance(31 * time.Second)
			if rec := a.postOrder("k-hot-crash", orderJSON); rec.Code != http.StatusCreated {
				t.Errorf("takeover: %d %s", rec.Code, rec.Body)
			}
		}},
		{"intent: create, confirm, process, read, payment, refund", func() {
			it := a.createIntent(intentJSON)
			a.action("confirm", it.ID, `{}`, newKey())
			a.process(it.ID)
			a.getIntent(it.ID)
			p := decode[struct {
				PaymentID string `json:"payment_id"`
			}](t, a.do(request{method: "GET", path: "/payments/" + it.ID}))
			a.do(request{method: "POST", path: "/refunds", key: newKey(),
				body: `{"payment_id":"` + p.PaymentID + `","amount":100,"reason":"requested_by_customer"}`})
		}},
		{"intent: capture and cancel", func() {
			it := a.intentIn("requires_capture")
			a.action("capture", it.ID, `{}`, newKey())
			a.action("cancel", a.createIntent(intentJSON).ID, `{}`, newKey())
		}},
		{"worker: claim, finish", func() {
			if err := a.store.EnqueueJob(context.Background(), "pi_hot", a.clock.Now(), a.clock.Now()); err != nil {
				t.Fatal(err)
			}
			job, err := a.store.ClaimJob(context.Background(), "w", a.clock.Now(), a.clock.Now().Add(time.Minute))
			if err != nil || job == nil {
				t.Fatalf("claim: %v %v", job, err)
			}
			if _, err := a.store.DeleteJob(context.Background(), job.ID, "w"); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, p := range paths {
		seen := 0
		for _, cmd := range log.record(p.run) {
			name, coll, filters := filtersOf(cmd)
			key, hot := shardKeys[coll]
			if !hot {
				continue // the driver's own commands
			}
			seen++
			what := fmt.Sprintf("%s %s", name, coll)
			if untargeted[what] {
				continue
			}
			for _, f := range filters {
				if !keyedBy(f, key) {
					t.Errorf("%s: %s filters on %s, not on %s", p.name, what, f, key)
				}
			}
		}
		if seen == 0 {
			t.Errorf("%s: no command seen", p.name)
		}
	}
}
