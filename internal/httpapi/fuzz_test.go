package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/reliabledemo/payments/internal/provider"
	"github.com/reliabledemo/payments/internal/testmongo"
)

// FuzzCreateOrder sends any body with any Idempotency-Key to POST /orders
// and checks that:
//   - the only 5xx is 502 payment_failed;
//   - every 4xx is in the error format;
//   - a 4xx stores nothing: no order, no charge, no idempotency record, and an
//     existing record of the same key is left as it was;
//   - a 201 is a PAID order and a 502 carries a PAYMENT_FAILED order, and
//     either leaves a COMPLETED record of the key.
//
// One database serves the whole fuzz run (per fuzzing worker process), so
// inputs also meet the keys and orders of earlier inputs: replays, reused
// keys and mismatches. The database is opened before f.Fuzz; the app on it is
// built by the harness's newApp on the first input, because newApp needs a
// *testing.T, which only f.Fuzz provides. Inputs run one at a time in a
// process, so the app's t is simply pointed at the current input.
func FuzzCreateOrder(f *testing.F) {
	for _, s := range []struct{ body, key string }{
		{`{"userId":"u1","amount":500,"currency":"INR"}`, "fz-1"},
		{`{"currency":"INR", "amount":500, "userId":"u1"}`, "fz-1"},
		{`{"userId":"u1","amount":501,"currency":"INR"}`, "fz-1"},
		{`{"userId":"u2","amount":99999999,"currency":"usd"}`, "fz-2"},
		{`{"userId":"u","amount":5.5,"currency":"USD"}`, "fz-3"},
		{`{"userId":{"$gt":""},"amount":500,"currency":"USD"}`, "fz-4"},
		{`{"userId":"u","amount":500,"currency":{"$ne":null}}`, "fz-5"},
		{`{"userId":"\u0000","amount":1,"currency":"JPY"}`, "fz-6"},
		{`{"userId":"a","userId":"b","amount":500,"currency":"USD"}`, "fz-7"},
		{"{\"userId\":\"\xff\",\"amount\":500,\"currency\":\"USD\"}", "fz-8"},
		{`[{"userId":"u","amount":500,"currency":"USD"}]`, "fz-9"},
		{`null`, "fz-10"},
		{``, "fz-11"},
		{`{"userId":"u","amount":500,"currency":"USD","extra":1}`, "fz-12"},
		{`{"userId":"u","amount":500,"currency":"USD"}`, ""},
		{`{"userId":"u","amount":500,"currency":"USD"}`, strings.Repeat("k", 256)},
		{`{"userId":"u","amount":500,"currency":"USD"}`, "ctl\x01key"},
		{`{"userId":"u","amount":123456789012345678901234567890,"currency":"USD"}`, "fz-13"},
		{`{"userId":"` + strings.Repeat("é", 128) + `","amount":7,"currency":"EUR"}`, "fz-14"},
	} {
		f.Add([]byte(s.body), s.key)
	}
	db := testmongo.Open(f)
	var a *app
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		if a == nil {
			a = newApp(t, appOptions{db: db, behavior: provider.Behavior{FailureRate: 0.3}})
		}
		a.t = t
		before := a.fuzzState(key)
		rec := a.do(request{method: "POST", path: "/orders", body: string(body), key: &key})
		after := a.fuzzState(key)

		switch {
		case rec.Code == http.StatusCreated:
			if o := decode[orderBody](t, rec); o.Status != "PAID" || o.Payment == nil {
				t.Fatalf("201 without a PAID order: %s", rec.Body)
			}
		case rec.Code == http.StatusBadGateway:
			var e struct {
				apiError
				Order orderBody `json:"order"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != "payment_failed" {
				t.Fatalf("502 other than payment_failed: %s", rec.Body)
			}
			if e.Order.Status != "PAYMENT_FAILED" || e.Order.ID == "" {
				t.Fatalf("502 without a PAYMENT_FAILED order: %s", rec.Body)
			}
		case rec.Code >= 400 && rec.Code < 500:
			if err := checkErrorFormat(rec); err != nil {
				t.Fatal(err)
			}
			if !before.equal(after) {
				t.Fatalf("%d left a trace:\nbefore %+v\nafter  %+v\nbody: %s", rec.Code, before, after, rec.Body)
			}
			return
		default:
			t.Fatalf("unexpected status %d: %.500s", rec.Code, rec.Body)
		}
		// 201 or 502: the outcome is stored under the key.
		if after.completed == 0 {
			t.Fatalf("%d but no COMPLETED record for key %q", rec.Code, key)
		}
		if rec.Header().Get("Idempotent-Replayed") != "true" && after.orders != before.orders+1 {
			t.Fatalf("a new %d made %d orders", rec.Code, after.orders-before.orders)
		}
	})
}

// fuzzState is what a refused request must not change.
type fuzzState struct {
	orders, charges, records int64
	completed                int64    // COMPLETED records of the key
	keyRecords               [][]byte // the key's records, as stored
}

func (s fuzzState) equal(o fuzzState) bool {
	if s.orders != o.orders || s.charges != o.charges || s.records != o.records || len(s.keyRecords) != len(o.keyRecords) {
		return false
	}
	for i := range s.keyRecords {
		if !bytes.Equal(s.keyRecords[i], o.keyRecords[i]) {
			return false
		}
	}
	return true
}

func (a *app) fuzzState(key string) fuzzState {
	s := fuzzState{orders: a.count("orders", nil), charges: a.count("charges", nil), records: a.count("idempotencykeys", nil)}
	if !printable(key) {
		return s // such a key is refused, and never stored
	}
	cur, err := a.db.Collection("idempotencykeys").Find(context.Background(), bson.M{"key": key})
	if err != nil {
		a.t.Fatalf("find records: %v", err)
	}
	var docs []bson.Raw
	if err := cur.All(context.Background(), &docs); err != nil {
		a.t.Fatalf("read records: %v", err)
	}
	for _, d := range docs {
		s.keyRecords = append(s.keyRecords, d)
		if st, _ := d.Lookup("status").StringValueOK(); st == "COMPLETED" {
			s.completed++
		}
	}
	return s
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
