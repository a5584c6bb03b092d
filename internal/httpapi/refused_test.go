package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// refused is a request the hardening refuses, with the exact error.
type refused struct {
	name   string
	req    request
	status int
	typ    string
	code   string
	param  string
}

func withHeader(r request, kv ...string) request {
	r.header = map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		r.header[kv[i]] = kv[i+1]
	}
	return r
}

func malIntent(body string) request {
	return request{method: "POST", path: "/payment_intents", body: body, key: strp(autoKey)}
}

// refusedInput are control characters in identifiers, bodies not declared
// as JSON and repeated Idempotency-Keys.
func refusedInput() []refused {
	order := func(userID string) request {
		return malOrder(`{"userId":"` + userID + `","amount":500,"currency":"USD"}`)
	}
	intent := func(fields string) request {
		return malIntent(`{"amount":500,"currency":"USD",` + fields + `}`)
	}
	const pm = `"payment_method_id":"pm_fake_visa"`
	const cus = `"customer_id":"cus_1"`
	valid := `{"userId":"u","amount":500,"currency":"USD"}`
	const v, ir = "validation_error", "invalid_request_error"
	return []refused{
		// Identifiers: JSON escapes get control and format characters past
		// the JSON parser, so the domain refuses them.
		{"userId NUL", order(`u\u0000`), 422, v, "invalid_user_id", "userId"},
		{"userId only NUL", order(`\u0000`), 422, v, "invalid_user_id", "userId"},
		{"userId right-to-left override", order(`\u202eu1`), 422, v, "invalid_user_id", "userId"},
		{"userId one space", order(` `), 422, v, "invalid_user_id", "userId"},
		{"userId tab", order(`\t`), 422, v, "invalid_user_id", "userId"},
		{"userId newline inside", order(`u\n1`), 422, v, "invalid_user_id", "userId"},
		{"userId zero-width space", order(`u\u200b`), 422, v, "invalid_user_id", "userId"},
		{"userId escape sequence", order(`\u001b[31mu`), 422, v, "invalid_user_id", "userId"},
		{"userId ideographic spaces", order(`\u3000\u3000`), 422, v, "invalid_user_id", "userId"},
		{"customer_id NUL", intent(`"customer_id":"cus\u0000",` + pm), 422, v, "invalid_customer_id", "customer_id"},
		{"customer_id right-to-left override", intent(`"customer_id":"\u202ecus",` + pm), 422, v, "invalid_customer_id", "customer_id"},
		{"customer_id one space", intent(`"customer_id":" ",` + pm), 422, v, "invalid_customer_id", "customer_id"},
		{"payment_method_id NUL", intent(cus + `,"payment_method_id":"pm_fake_visa\u0000"`), 422, v, "invalid_payment_method", "payment_method_id"},
		{"payment_method_id right-to-left override", intent(cus + `,"payment_method_id":"\u202epm_fake_visa"`), 422, v, "invalid_payment_method", "payment_method_id"},
		{"metadata value NUL", intent(cus + `,` + pm + `,"metadata":{"k":"a\u0000"}`), 422, v, "invalid_metadata", "metadata"},
		{"metadata value carriage return", intent(cus + `,` + pm + `,"metadata":{"k":"a\rb"}`), 422, v, "invalid_metadata", "metadata"},
		{"metadata value right-to-left override", intent(cus + `,` + pm + `,"metadata":{"k":"\u202eexe.pdf"}`), 422, v, "invalid_metadata", "metadata"},
		{"metadata key right-to-left override", intent(cus + `,` + pm + `,"metadata":{"\u202ek":"v"}`), 422, v, "invalid_metadata", "metadata"},
		{"metadata key newline", intent(cus + `,` + pm + `,"metadata":{"a\nb":"v"}`), 422, v, "invalid_metadata", "metadata"},
		{"metadata key one space", intent(cus + `,` + pm + `,"metadata":{" ":"v"}`), 422, v, "invalid_metadata", "metadata"},
		{"refund payment_id NUL", request{method: "POST", path: "/refunds", body: `{"payment_id":"pay_\u0000","reason":"duplicate"}`, key: strp(autoKey)},
			422, v, "invalid_payment_id", "payment_id"},

		// Bodies must be declared as JSON.
		{"text/plain", withHeader(malOrder(valid), "Content-Type", "text/plain"), 415, ir, "unsupported_media_type", "Content-Type"},
		{"no Content-Type", withHeader(malOrder(valid), "Content-Type", ""), 415, ir, "unsupported_media_type", "Content-Type"},
		{"form type outside admin", withHeader(malOrder(valid), "Content-Type", "application/x-www-form-urlencoded"), 415, ir, "unsupported_media_type", "Content-Type"},
		{"multipart", withHeader(malOrder(valid), "Content-Type", "multipart/form-data; boundary=x"), 415, ir, "unsupported_media_type", "Content-Type"},
		{"JSON in Latin-1", withHeader(malOrder(valid), "Content-Type", "application/json; charset=iso-8859-1"), 415, ir, "unsupported_media_type", "Content-Type"},
		{"JSON-ish text type", withHeader(malOrder(valid), "Content-Type", "text/json"), 415, ir, "unsupported_media_type", "Content-Type"},
		{"unparsable type", withHeader(malOrder(valid), "Content-Type", "application/json; ;;"), 415, ir, "unsupported_media_type", "Content-Type"},
		{"two Content-Types", func() request {
			r := malOrder(valid)
			r.addHeader = [][2]string{{"Content-Type", "application/json"}}
			return r
		}(), 415, ir, "unsupported_media_type", "Content-Type"},
		{"text/plain on intents", withHeader(intent(cus+`,`+pm), "Content-Type", "text/plain"), 415, ir, "unsupported_media_type", "Content-Type"},
		{"text/plain on confirm", withHeader(request{method: "PATCH", path: "/payment_intents/pi_x/confirm", body: `{}`, key: strp(autoKey)}, "Content-Type", "text/plain"),
			415, ir, "unsupported_media_type", "Content-Type"},
		{"text/plain on refunds", withHeader(request{method: "POST", path: "/refunds", body: `{"payment_id":"pay_x","reason":"duplicate"}`, key: strp(autoKey)}, "Content-Type", "text/plain"),
			415, ir, "unsupported_media_type", "Content-Type"},
		{"admin text/plain", withHeader(malAdmin(`{"failureRate":0.5}`), "Content-Type", "text/plain"), 415, ir, "unsupported_media_type", "Content-Type"},
		{"admin form fields", withHeader(malAdmin(`failureRate=0.5`), "Content-Type", "application/x-www-form-urlencoded"), 415, ir, "unsupported_media_type", "Content-Type"},
		{"admin form type, JSON array", withHeader(malAdmin(`[{"failureRate":0.5}]`), "Content-Type", "application/x-www-form-urlencoded"), 415, ir, "unsupported_media_type", "Content-Type"},
		{"admin untyped form fields", withHeader(malAdmin(`failureRate=0.5`), "Content-Type", ""), 415, ir, "unsupported_media_type", "Content-Type"},

		// One Idempotency-Key, not two.
		{"two keys", func() request {
			r := malOrder(valid)
			r.addHeader = [][2]string{{"Idempotency-Key", "second-key"}}
			return r
		}(), 400, ir, "idempotency_key_invalid", "Idempotency-Key"},
		{"the same key twice", request{method: "POST", path: "/orders", body: valid,
			addHeader: [][2]string{{"Idempotency-Key", "same-key"}, {"Idempotency-Key", "same-key"}}}, 400, ir, "idempotency_key_invalid", "Idempotency-Key"},
		{"two keys on admin", func() request {
			r := malAdmin(`{"failureRate":0.5}`)
			r.addHeader = [][2]string{{"Idempotency-Key", "second-key"}}
			return r
		}(), 400, ir, "idempotency_key_invalid", "Idempotency-Key"},
	}
}

func TestRefusedInput(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	for i, tc := range refusedInput() {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if req.key != nil && *req.key == autoKey {
				req.key = strp(fmt.Sprintf("refused-%03d", i))
			}
			e := wantError(t, a.do(req), tc.status, tc.typ, tc.code)
			if e.Error.Param != tc.param {
				t.Fatalf("param %q, want %q", e.Error.Param, tc.param)
			}
		})
	}
	if n := a.count("idempotencykeys", nil) + a.count("orders", nil) + a.count("paymentintents", nil); n != 0 {
		t.Fatalf("refused requests stored %d documents", n)
	}
}

// TestJSONContentTypes checks what the media-type rule lets through: JSON
// under its usual spellings, and requests without a body whatever they say.
func TestJSONContentTypes(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	valid := `{"userId":"ct-user","amount":500,"currency":"USD"}`
	for i, ct := range []string{
		"application/json",
		"application/json; charset=utf-8",
		"application/json;charset=UTF-8",
		"Application/JSON",
		"application/merchant+json",
		"application/vnd.api+json; charset=utf-8",
	} {
		t.Run(ct, func(t *testing.T) {
			rec := a.do(withHeader(request{method: "POST", path: "/orders", body: valid, key: strp(fmt.Sprintf("ct-%d", i))}, "Content-Type", ct))
			if rec.Code != http.StatusCreated {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
	if n := a.count("orders", nil); n != 6 {
		t.Fatalf("orders = %d, want 6", n)
	}

	// Without a body, the Content-Type does not matter, nor its absence.
	created := a.do(request{method: "POST", path: "/payment_intents", key: strp("ct-intent"),
		body: `{"amount":500,"currency":"USD","customer_id":"cus_ct","payment_method_id":"pm_fake_visa"}`})
	if created.Code != http.StatusCreated {
		t.Fatalf("create intent: %d %s", created.Code, created.Body)
	}
	id := decode[struct{ ID string }](t, created).ID
	for _, tc := range []struct {
		name string
		req  request
		want int
	}{
		{"GET with text/plain", withHeader(request{method: "GET", path: "/payment_intents/" + id}, "Content-Type", "text/plain"), http.StatusOK},
		{"POST without body or type", request{method: "POST", path: "/payment_intents/" + id + "/cancel", key: strp("ct-cancel")}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rec := a.do(tc.req); rec.Code != tc.want || strings.Contains(rec.Body.String(), "unsupported_media_type") {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
}
