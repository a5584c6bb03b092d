package idempotency

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// FuzzFingerprint checks, for any method, path and body:
//   - Fingerprint never panics, is deterministic and is 64 hex digits;
//   - it accepts only valid JSON (or a blank body, fingerprinted as empty);
//   - re-encoding an accepted body with encoding/json (other key order,
//     whitespace and escaping) gives the same fingerprint, when every number
//     in it survives a float64 round-trip;
//   - another method or path gives another fingerprint. Fingerprint separates
//     the fields with NUL, so this holds for NUL-free methods and paths: an
//     HTTP method or request URI never holds a NUL.
func FuzzFingerprint(f *testing.F) {
	seeds := []struct {
		method, path string
		body         string
		method2      string
		path2        string
	}{
		{"POST", "/orders", `{"userId":"u1","amount":500,"currency":"INR"}`, "PATCH", "/orders"},
		{"POST", "/orders", "{ \"currency\": \"INR\",\n \"amount\": 500, \"userId\": \"u1\" }", "POST", "/orders?x=1"},
		{"POST", "/orders", `{"a":1.0,"b":"\u0078","c":[1e3,-0,0.1,1e-7,1e21],"d":{"z":null,"y":true}}`, "POST", "/orders/"},
		{"POST", "/orders", `{"<&>":"\u2028","😀":"é","\ufb33":1}`, "post", "/orders"},
		{"POST", "/orders", `{"a":1,"a":2}`, "POST", "/order"},
		{"POST", "/orders", "{\"a\":\"\xff\"}", "POST", "/orders"},
		{"POST", "/orders", `{"a":"\ud800"}`, "POST", "/orders"},
		{"POST", "/orders", `{"big":123456789012345678901234567890,"tiny":1e-400}`, "GET", "/orders"},
		{"POST", "/orders", `{"inf":1e400}`, "POST", "/"},
		{"POST", "/orders", `[1,[2,[3]],{"k":"v"}]`, "POST", "/x"},
		{"POST", "/x", " \n\t", "POST", "/y"},
		{"POST", "/x", "", "PUT", "/x"},
		{"PATCH", "/payment_intents/pi_1/confirm", `{}`, "PATCH", "/payment_intents/pi_2/confirm"},
		{"POST", "/orders", `{"a":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, "POST", "/orders "},
		{"POST", "/orders", `{"a":1}garbage`, "POST", "/orders"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, []byte(s.body), s.method2, s.path2)
	}
	f.Fuzz(func(t *testing.T, method, path string, body []byte, method2, path2 string) {
		fp, err := Fingerprint(method, path, body)
		again, err2 := Fingerprint(method, path, body)
		if (err == nil) != (err2 == nil) || fp != again {
			t.Fatalf("not deterministic: %q %v / %q %v", fp, err, again, err2)
		}
		if err != nil {
			return
		}
		if len(fp) != 64 || strings.Trim(fp, "0123456789abcdef") != "" {
			t.Fatalf("fingerprint %q is not 64 hex digits", fp)
		}
		if isBlank(body) {
			if empty, _ := Fingerprint(method, path, nil); fp != empty {
				t.Fatal("a blank body differs from an empty one")
			}
		} else {
			if !json.Valid(body) {
				t.Fatalf("accepted a body that is not valid JSON: %q", body)
			}
			checkReencodings(t, method, path, body, fp)
		}

		if !strings.Contains(method+path+method2+path2, "\x00") && (method != method2 || path != path2) {
			other, err := Fingerprint(method2, path2, body)
			if err != nil {
				t.Fatalf("body accepted for %s %s but not for %s %s: %v", method, path, method2, path2, err)
			}
			if other == fp {
				t.Fatalf("%q %q and %q %q share fingerprint %s", method, path, method2, path2, fp)
			}
		}
	})
}

// checkReencodings re-encodes body with encoding/json in two other ways and
// checks the fingerprint does not change.
func checkReencodings(t *testing.T, method, path string, body []byte, fp string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var exact any
	if err := dec.Decode(&exact); err != nil {
		t.Fatalf("Fingerprint accepted %q but encoding/json does not: %v", body, err)
	}
	if !numbersSurviveFloat64(exact) {
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("encoding/json refuses %q: %v", body, err)
	}
	indented, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("MarshalIndent: %v", err)
	}
	var reversed bytes.Buffer
	writeReversed(t, &reversed, v)
	for _, re := range [][]byte{indented, reversed.Bytes()} {
		got, err := Fingerprint(method, path, re)
		if err != nil {
			t.Fatalf("re-encoded body refused: %v\noriginal:   %q\nre-encoded: %q", err, body, re)
		}
		if got != fp {
			t.Fatalf("re-encoding changed the fingerprint\noriginal:   %q\nre-encoded: %q", body, re)
		}
	}
}

// numbersSurviveFloat64 reports whether every number in v parses as a
// finite float64.
func numbersSurviveFloat64(v any) bool {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		return err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	case []any:
		for _, e := range v {
			if !numbersSurviveFloat64(e) {
				return false
			}
		}
	case map[string]any:
		for _, e := range v {
			if !numbersSurviveFloat64(e) {
				return false
			}
		}
	}
	return true
}

// writeReversed writes v compactly with object keys in reverse order, and
// without HTML escaping, unlike MarshalIndent.
func writeReversed(t *testing.T, w *bytes.Buffer, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Sort(sort.Reverse(sort.StringSlice(keys)))
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteByte(',')
			}
			writeScalar(t, w, k)
			w.WriteByte(':')
			writeReversed(t, w, v[k])
		}
		w.WriteByte('}')
	case []any:
		w.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				w.WriteByte(',')
			}
			writeReversed(t, w, e)
		}
		w.WriteByte(']')
	default:
		writeScalar(t, w, v)
	}
}

func writeScalar(t *testing.T, w *bytes.Buffer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encode %v: %v", v, err)
	}
	w.Truncate(w.Len() - 1) // Encode's newline
}
