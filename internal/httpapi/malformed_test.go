package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// hostile is one malformed request and the 4xx it must get.
type hostile struct {
	name       string
	req        request
	wantStatus int
	// stream sends the body without a Content-Length, so only the reading
	// limit, not the declared length, can refuse it.
	stream bool
}

// autoKey in a table entry is replaced by a key unique to the entry.
const autoKey = "\x00auto"

func malOrder(body string) request {
	return request{method: "POST", path: "/orders", body: body, key: strp(autoKey)}
}

func malOrderKey(key *string, body string) request {
	return request{method: "POST", path: "/orders", body: body, key: key}
}

func malAdmin(body string) request {
	return request{method: "POST", path: "/admin/payment-behavior", body: body, key: strp(autoKey), auth: adminKey}
}

func malGet(path string) request { return request{method: "GET", path: path} }

// nested returns depth arrays nested in each other around inner.
func nested(depth int, inner string) string {
	return strings.Repeat("[", depth) + inner + strings.Repeat("]", depth)
}

func hostileRequests() []hostile {
	const ok = `"userId":"mal-user","amount":500,"currency":"USD"`
	valid := "{" + ok + "}"
	tenMB := `{"userId":"` + strings.Repeat("x", 10<<20) + `","amount":500,"currency":"USD"}`
	justOver := `{"userId":"u","amount":500,"currency":"USD","pad":"` + strings.Repeat(" ", 1<<20) + `"}`
	return append([]hostile{
		// Not a JSON object at all.
		{"empty body", malOrder(""), 422, false},
		{"whitespace body", malOrder(" \n\t "), 422, false},
		{"null body", malOrder(`null`), 400, false},
		{"empty array", malOrder(`[]`), 400, false},
		{"array of the order", malOrder("[" + valid + "]"), 400, false},
		{"string body", malOrder(`"userId"`), 400, false},
		{"number body", malOrder(`500`), 400, false},
		{"boolean body", malOrder(`true`), 400, false},
		{"truncated object", malOrder(`{"userId":"u","amount":5`), 400, false},
		{"trailing garbage", malOrder(valid + `garbage`), 400, false},
		{"two objects", malOrder(valid + valid), 400, false},
		{"trailing comma", malOrder(`{` + ok + `,}`), 400, false},
		{"single quotes", malOrder(`{'userId':'u','amount':500,'currency':'USD'}`), 400, false},
		{"comment", malOrder(`{/* hi */` + ok + `}`), 400, false},
		{"BOM prefix", malOrder("\xef\xbb\xbf" + valid), 400, false},
		{"invalid UTF-8 in value", malOrder("{\"userId\":\"\xff\xfe\",\"amount\":500,\"currency\":\"USD\"}"), 400, false},
		{"invalid UTF-8 in key", malOrder("{\"user\xc3\":\"u\",\"amount\":500,\"currency\":\"USD\"}"), 400, false},
		{"UTF-8 encoded surrogate", malOrder("{\"userId\":\"\xed\xa0\x80\",\"amount\":500,\"currency\":\"USD\"}"), 400, false},
		{"lone surrogate escape", malOrder(`{"userId":"\ud800","amount":500,"currency":"USD"}`), 400, false},
		{"raw control character in string", malOrder("{\"userId\":\"a\x01b\",\"amount\":500,\"currency\":\"USD\"}"), 400, false},
		{"duplicate keys", malOrder(`{"userId":"a","userId":"b","amount":500,"currency":"USD"}`), 400, false},
		{"duplicate keys through an escape", malOrder(`{"userId":"a","user\u0049d":"b","amount":500,"currency":"USD"}`), 400, false},
		{"duplicate amount", malOrder(`{"userId":"a","amount":1,"amount":500,"currency":"USD"}`), 400, false},

		// Unknown fields and nested junk.
		{"unknown field", malOrder(`{` + ok + `,"status":"PAID"}`), 400, false},
		{"unknown _id field", malOrder(`{` + ok + `,"_id":"64b7f0c2a1b2c3d4e5f60718"}`), 400, false},
		{"__proto__ field", malOrder(`{` + ok + `,"__proto__":{"admin":true}}`), 400, false},
		{"nested junk", malOrder(`{` + ok + `,"meta":{"a":[1,{"b":null,"c":[[[]]]}]}}`), 400, false},
		{"case-variant field", malOrder(`{"UserId":"u","amount":500,"currency":"USD"}`), 400, false},

		// Operator injection and wrong types.
		{"userId $gt operator", malOrder(`{"userId":{"$gt":""},"amount":500,"currency":"USD"}`), 422, false},
		{"currency $ne operator", malOrder(`{"userId":"u","amount":500,"currency":{"$ne":null}}`), 422, false},
		{"amount $gt operator", malOrder(`{"userId":"u","amount":{"$gt":0},"currency":"USD"}`), 422, false},
		{"userId $where", malOrder(`{"userId":{"$where":"sleep(1000)"},"amount":500,"currency":"USD"}`), 422, false},
		{"userId number", malOrder(`{"userId":42,"amount":500,"currency":"USD"}`), 422, false},
		{"userId array", malOrder(`{"userId":["u"],"amount":500,"currency":"USD"}`), 422, false},
		{"userId boolean", malOrder(`{"userId":true,"amount":500,"currency":"USD"}`), 422, false},
		{"userId empty", malOrder(`{"userId":"","amount":500,"currency":"USD"}`), 422, false},
		{"userId 129 characters", malOrder(`{"userId":"` + strings.Repeat("é", 129) + `","amount":500,"currency":"USD"}`), 422, false},
		{"currency number", malOrder(`{"userId":"u","amount":500,"currency":840}`), 422, false},
		{"currency unknown", malOrder(`{"userId":"u","amount":500,"currency":"ZZZ"}`), 422, false},
		{"currency too short", malOrder(`{"userId":"u","amount":500,"currency":"US"}`), 422, false},
		{"currency with NUL", malOrder(`{"userId":"u","amount":500,"currency":"US\u0000D"}`), 422, false},
		{"currency with spaces", malOrder(`{"userId":"u","amount":500,"currency":" USD "}`), 422, false},

		// Nulls.
		{"null userId", malOrder(`{"userId":null,"amount":500,"currency":"USD"}`), 422, false},
		{"null amount", malOrder(`{"userId":"u","amount":null,"currency":"USD"}`), 422, false},
		{"null currency", malOrder(`{"userId":"u","amount":500,"currency":null}`), 422, false},
		{"null everywhere", malOrder(`{"userId":null,"amount":null,"currency":null}`), 422, false},
		{"empty object", malOrder(`{}`), 422, false},

		// Amounts.
		{"amount 5.5", malOrder(`{"userId":"u","amount":5.5,"currency":"USD"}`), 422, false},
		{"amount 1e3", malOrder(`{"userId":"u","amount":1e3,"currency":"USD"}`), 422, false},
		{"amount 1E3", malOrder(`{"userId":"u","amount":1E3,"currency":"USD"}`), 422, false},
		{"amount 10.0", malOrder(`{"userId":"u","amount":10.0,"currency":"USD"}`), 422, false},
		{"amount string", malOrder(`{"userId":"u","amount":"500","currency":"USD"}`), 422, false},
		{"amount boolean", malOrder(`{"userId":"u","amount":true,"currency":"USD"}`), 422, false},
		{"amount array", malOrder(`{"userId":"u","amount":[500],"currency":"USD"}`), 422, false},
		{"amount zero", malOrder(`{"userId":"u","amount":0,"currency":"USD"}`), 422, false},
		{"amount minus zero", malOrder(`{"userId":"u","amount":-0,"currency":"USD"}`), 422, false},
		{"amount negative", malOrder(`{"userId":"u","amount":-500,"currency":"USD"}`), 422, false},
		{"amount above the maximum", malOrder(`{"userId":"u","amount":100000000,"currency":"USD"}`), 422, false},
		{"amount MaxInt64", malOrder(`{"userId":"u","amount":9223372036854775807,"currency":"USD"}`), 422, false},
		{"amount overflowing int64", malOrder(`{"userId":"u","amount":123456789012345678901234567890,"currency":"USD"}`), 422, false},
		{"amount hugely negative", malOrder(`{"userId":"u","amount":-123456789012345678901234567890,"currency":"USD"}`), 422, false},
		{"amount out of float range", malOrder(`{"userId":"u","amount":1e400,"currency":"USD"}`), 400, false},
		{"amount of 400 digits", malOrder(`{"userId":"u","amount":1` + strings.Repeat("0", 400) + `,"currency":"USD"}`), 400, false},
		{"amount NaN", malOrder(`{"userId":"u","amount":NaN,"currency":"USD"}`), 400, false},
		{"amount Infinity", malOrder(`{"userId":"u","amount":Infinity,"currency":"USD"}`), 400, false},
		{"amount hex", malOrder(`{"userId":"u","amount":0x1f4,"currency":"USD"}`), 400, false},
		{"amount leading zero", malOrder(`{"userId":"u","amount":0500,"currency":"USD"}`), 400, false},
		{"amount plus sign", malOrder(`{"userId":"u","amount":+500,"currency":"USD"}`), 400, false},

		// Nesting and size.
		{"10k nested arrays", malOrder(`{"userId":` + nested(10_000, "1") + `,"amount":500,"currency":"USD"}`), 400, false},
		{"9998 nested arrays", malOrder(`{"userId":` + nested(9_998, "1") + `,"amount":500,"currency":"USD"}`), 422, false},
		{"100k nested arrays", malOrder(nested(100_000, "")), 400, false},
		{"10k nested objects", malOrder(strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000)), 400, false},
		{"unclosed nesting", malOrder(strings.Repeat("[", 50_000)), 400, false},
		{"10 MB body", malOrder(tenMB), 413, false},
		{"10 MB body without length", malOrder(tenMB), 413, true},
		{"just over 1 MiB", malOrder(justOver), 413, false},
		{"just over 1 MiB without length", malOrder(justOver), 413, true},

		// Idempotency-Key header.
		{"key missing", malOrderKey(nil, valid), 400, false},
		{"key empty", malOrderKey(strp(""), valid), 400, false},
		{"key 256 characters", malOrderKey(strp(strings.Repeat("k", 256)), valid), 400, false},
		{"key 10k characters", malOrderKey(strp(strings.Repeat("k", 10_000)), valid), 400, false},
		{"key with NUL", malOrderKey(strp("key\x00nul"), valid), 400, false},
		{"key with newline", malOrderKey(strp("key\nnext"), valid), 400, false},
		{"key with tab", malOrderKey(strp("key\tx"), valid), 400, false},
		{"key with DEL", malOrderKey(strp("key\x7f"), valid), 400, false},
		{"key with escape sequence", malOrderKey(strp("key\x1b[31m"), valid), 400, false},
		{"key non-ASCII", malOrderKey(strp("clé-ü"), valid), 400, false},
		{"key invalid UTF-8", malOrderKey(strp("key\xff"), valid), 400, false},

		// Credentials and methods.
		{"no credentials", request{method: "POST", path: "/orders", body: valid, key: strp(autoKey), auth: "-"}, 401, false},
		{"wrong key", request{method: "POST", path: "/orders", body: valid, key: strp(autoKey), auth: "nope"}, 401, false},
		{"basic auth", request{method: "POST", path: "/orders", body: valid, key: strp(autoKey), auth: "-",
			header: map[string]string{"Authorization": "Basic dGVzdDp0ZXN0"}}, 401, false},
		{"api key on admin route", request{method: "POST", path: "/admin/payment-behavior", body: `{"failureRate":0.5}`, key: strp(autoKey)}, 401, false},
		{"PUT /orders", request{method: "PUT", path: "/orders", body: valid, key: strp(autoKey)}, 405, false},
		{"DELETE /orders/:id", request{method: "DELETE", path: "/orders/64b7f0c2a1b2c3d4e5f60718"}, 405, false},
		{"POST /orders/:id", request{method: "POST", path: "/orders/64b7f0c2a1b2c3d4e5f60718", body: valid, key: strp(autoKey)}, 405, false},

		// POST /admin/payment-behavior.
		{"admin rate above 1", malAdmin(`{"failureRate":1.5}`), 422, false},
		{"admin rate negative", malAdmin(`{"failureRate":-0.1}`), 422, false},
		{"admin rate string", malAdmin(`{"failureRate":"0.5"}`), 422, false},
		{"admin rate operator", malAdmin(`{"failureRate":{"$gt":0}}`), 422, false},
		{"admin rate NaN", malAdmin(`{"failureRate":NaN}`), 400, false},
		{"admin rate 1e400", malAdmin(`{"failureRate":1e400}`), 400, false},
		{"admin rate null", malAdmin(`{"failureRate":null,"minDelayMs":-5}`), 422, false},
		{"admin delay float", malAdmin(`{"minDelayMs":5.5}`), 422, false},
		{"admin delay 1e3", malAdmin(`{"maxDelayMs":1e3}`), 422, false},
		{"admin delay negative", malAdmin(`{"minDelayMs":-1}`), 422, false},
		{"admin delay above a minute", malAdmin(`{"maxDelayMs":60001}`), 422, false},
		{"admin delay overflowing int64", malAdmin(`{"maxDelayMs":99999999999999999999999}`), 422, false},
		{"admin delay min above max", malAdmin(`{"minDelayMs":5000,"maxDelayMs":100}`), 422, false},
		{"admin delay min above the stored max", malAdmin(`{"minDelayMs":60000}`), 422, false},
		{"admin unknown field", malAdmin(`{"failureRate":0.5,"enabled":true}`), 400, false},
		{"admin array body", malAdmin(`[{"failureRate":0.5}]`), 400, false},
		{"admin trailing garbage", malAdmin(`{"failureRate":0.5}}`), 400, false},
		{"admin duplicate keys", malAdmin(`{"failureRate":0.5,"failureRate":1}`), 400, false},
		// The key is optional on admin routes (see TestAdminSeedCurl), the
		// validation is not.
		{"admin key missing, rate above 1", request{method: "POST", path: "/admin/payment-behavior", body: `{"failureRate":1.5}`, auth: adminKey}, 422, false},
		{"admin key 256 characters", request{method: "POST", path: "/admin/payment-behavior", body: `{"failureRate":0.5}`, key: strp(strings.Repeat("a", 256)), auth: adminKey}, 400, false},

		// GET /orders with bad query parameters.
		{"list limit 0", malGet("/orders?limit=0"), 422, false},
		{"list limit negative", malGet("/orders?limit=-1"), 422, false},
		{"list limit 101", malGet("/orders?limit=101"), 422, false},
		{"list limit huge", malGet("/orders?limit=99999999999999999999"), 422, false},
		{"list limit float", malGet("/orders?limit=1.5"), 422, false},
		{"list limit text", malGet("/orders?limit=ten"), 422, false},
		{"list limit empty", malGet("/orders?limit="), 422, false},
		{"list status lower-case", malGet("/orders?status=paid"), 422, false},
		{"list status unknown", malGet("/orders?status=REFUNDED"), 422, false},
		{"list status operator", malGet("/orders?status=%7B%22%24ne%22%3Anull%7D"), 422, false},
		{"list cursor not an id", malGet("/orders?starting_after=abc"), 422, false},
		{"list cursor 24 non-hex", malGet("/orders?starting_after=zzzzzzzzzzzzzzzzzzzzzzzz"), 422, false},
		{"list cursor operator", malGet("/orders?starting_after=%7B%22%24gt%22%3A%22%22%7D"), 422, false},
		{"list cursor NUL", malGet("/orders?starting_after=%00"), 422, false},
		{"list without credentials", request{method: "GET", path: "/orders", auth: "-"}, 401, false},

		// GET /orders/:id with weird ids.
		{"id not hex", malGet("/orders/not-an-id"), 404, false},
		{"id unknown", malGet("/orders/000000000000000000000000"), 404, false},
		{"id 24 non-hex", malGet("/orders/zzzzzzzzzzzzzzzzzzzzzzzz"), 404, false},
		{"id 25 hex", malGet("/orders/64b7f0c2a1b2c3d4e5f607180"), 404, false},
		{"id operator", malGet("/orders/%7B%22%24ne%22%3Anull%7D"), 404, false},
		{"id $gt", malGet("/orders/$gt"), 404, false},
		{"id NUL", malGet("/orders/%00"), 404, false},
		{"id invalid UTF-8", malGet("/orders/%ff%fe"), 404, false},
		{"id 4096 characters", malGet("/orders/" + strings.Repeat("a", 4096)), 404, false},
		{"id with slash", malGet("/orders/a%2Fb"), 404, false},
		{"id path traversal", malGet("/orders/../admin/payment-behavior"), 404, false},
		{"id extra segment", malGet("/orders/64b7f0c2a1b2c3d4e5f60718/payment"), 404, false},
	}, refusedAsHostile()...)
}

// refusedAsHostile adds the cases of TestRefusedInput, which also checks
// their codes, to the hostile table, which checks that nothing is stored.
func refusedAsHostile() []hostile {
	var out []hostile
	for _, r := range refusedInput() {
		out = append(out, hostile{name: r.name, req: r.req, wantStatus: r.status})
	}
	return out
}

func TestHostileRequests(t *testing.T) {
	a := newApp(t, appOptions{})
	behavior := func() string {
		return a.do(request{method: "GET", path: "/admin/payment-behavior", auth: adminKey}).Body.String()
	}
	before := behavior()
	cases := hostileRequests()
	if len(cases) < 50 {
		t.Fatalf("only %d cases", len(cases))
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a.t = t
			req := tc.req
			if req.key != nil && *req.key == autoKey {
				req.key = strp(fmt.Sprintf("mal-%03d", i))
			}
			req.stream = tc.stream
			rec := a.do(req)
			leftovers := a.stored()
			if len(leftovers) > 0 {
				a.wipe() // so that the other cases start clean
			}
			if rec.Code >= 500 {
				t.Errorf("got %d, want %d (never 5xx): %.300s", rec.Code, tc.wantStatus, rec.Body)
			} else if rec.Code != tc.wantStatus {
				t.Errorf("got %d, want %d: %.300s", rec.Code, tc.wantStatus, rec.Body)
			}
			if err := checkErrorFormat(rec); err != nil {
				t.Error(err)
			}
			if len(leftovers) > 0 {
				t.Errorf("the refused request stored: %s", strings.Join(leftovers, "; "))
			}
		})
	}
	a.t = t
	if after := behavior(); after != before {
		t.Errorf("refused admin requests changed the payment behavior:\n before %s\n after  %s", before, after)
	}
}

// checkErrorFormat checks that a response body is exactly
// {"error":{"type","code","message"[,"param"]}} with non-empty strings.
func checkErrorFormat(rec *httptest.ResponseRecorder) error {
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	var e struct {
		Error *struct {
			Type    *string `json:"type"`
			Code    *string `json:"code"`
			Message *string `json:"message"`
			Param   *string `json:"param"`
		} `json:"error"`
	}
	if err := dec.Decode(&e); err != nil {
		return fmt.Errorf("body is not the error format (%v): %.300s", err, rec.Body)
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the error: %.300s", rec.Body)
	}
	if e.Error == nil || e.Error.Type == nil || e.Error.Code == nil || e.Error.Message == nil ||
		*e.Error.Type == "" || *e.Error.Code == "" || *e.Error.Message == "" {
		return fmt.Errorf("error without type, code or message: %.300s", rec.Body)
	}
	return nil
}

// storedCollections are where a request could leave an effect.
var storedCollections = []string{"orders", "charges", "idempotencykeys"}

// stored describes every document in storedCollections.
func (a *app) stored() []string {
	var out []string
	for _, c := range storedCollections {
		cur, err := a.db.Collection(c).Find(context.Background(), bson.M{})
		if err != nil {
			a.t.Fatalf("find %s: %v", c, err)
		}
		var docs []bson.M
		if err := cur.All(context.Background(), &docs); err != nil {
			a.t.Fatalf("read %s: %v", c, err)
		}
		for _, d := range docs {
			delete(d, "responseBody")
			desc := fmt.Sprintf("%s %v", c, d)
			if len(desc) > 300 {
				desc = desc[:300] + "…"
			}
			out = append(out, desc)
		}
	}
	return out
}

func (a *app) wipe() {
	for _, c := range storedCollections {
		if _, err := a.db.Collection(c).DeleteMany(context.Background(), bson.M{}); err != nil {
			a.t.Fatalf("wipe %s: %v", c, err)
		}
	}
}
