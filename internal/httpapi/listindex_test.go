package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/testmongo"
)

// TestListQueriesUseAnIndex sends every filtered list and asks the store to
// explain the finds it got: each must be answered from an index, never by
// reading the collection, so that a page costs the same however many
// documents are stored. On the embedded store that is SQLite's plan (no
// "SCAN"); on MongoDB, the winning plan (no COLLSCAN).
func TestListQueriesUseAnIndex(t *testing.T) {
	t.Parallel()
	log := &commandCounter{}
	db := testmongo.OpenWith(t, options.Client().SetMonitor(log.monitor()))
	a := newApp(t, appOptions{db: db})
	var orderID string
	for i := range 3 {
		rec := a.postOrder(fmt.Sprintf("k-listidx-%d", i), fmt.Sprintf(`{"userId":"u%d","amount":500,"currency":"USD"}`, i))
		if rec.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		orderID = decode[orderBody](t, rec).ID
	}
	events := a.eventsOf(orderID)
	if len(events) == 0 {
		t.Fatal("no event for the order")
	}

	for _, path := range []string{
		"/orders?userId=u1&limit=2",
		"/orders?status=PAID&limit=2",
		"/orders?status=PAYMENT_FAILED&limit=2", // matches nothing
		"/orders?userId=u1&starting_after=" + orderID,
		"/events?object_id=" + orderID,
		"/events?type=order.payment_failed", // matches nothing
		"/events?type=order.paid&starting_after=" + events[0].ID,
	} {
		t.Run(path, func(t *testing.T) {
			var finds []bson.Raw
			for _, cmd := range log.record(func() {
				if rec := a.do(request{method: "GET", path: path}); rec.Code != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
				}
			}) {
				if cmd.Index(0).Key() == "find" {
					finds = append(finds, cmd)
				}
			}
			if len(finds) != 1 {
				t.Fatalf("GET %s sent %d finds, want 1", path, len(finds))
			}
			find := bson.D{}
			for _, k := range []string{"find", "filter", "sort", "limit"} {
				if v, err := finds[0].LookupErr(k); err == nil {
					find = append(find, bson.E{Key: k, Value: v})
				}
			}
			var plan bson.Raw
			if err := db.RunCommand(t.Context(), bson.D{{Key: "explain", Value: find}}).Decode(&plan); err != nil {
				t.Fatalf("explain %v: %v", find, err)
			}
			s := plan.String()
			if strings.Contains(s, "detail=SCAN") || strings.Contains(s, "COLLSCAN") ||
				!(strings.Contains(s, "USING INDEX") || strings.Contains(s, "IXSCAN")) {
				t.Fatalf("GET %s: find %v is not answered from an index: %s", path, find, s)
			}
		})
	}
}
