package idempotency

import (
	"strings"
	"testing"
)

func TestFingerprint(t *testing.T) {
	base, err := Fingerprint("POST", "/orders", []byte(`{"a":1,"b":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		method, path string
		body         string
		same         bool
	}{
		{"key order and whitespace", "POST", "/orders", "{ \"b\" : \"x\",\n\t\"a\" : 1 }", true},
		{"number spelling", "POST", "/orders", `{"a":1.0,"b":"x"}`, true},
		{"escaped string", "POST", "/orders", `{"a":1,"b":"\u0078"}`, true},
		{"other value", "POST", "/orders", `{"a":2,"b":"x"}`, false},
		{"other method", "PATCH", "/orders", `{"a":1,"b":"x"}`, false},
		{"other path", "POST", "/orders/x", `{"a":1,"b":"x"}`, false},
		{"query string", "POST", "/orders?force=failure", `{"a":1,"b":"x"}`, false},
		{"extra field", "POST", "/orders", `{"a":1,"b":"x","c":null}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp, err := Fingerprint(tt.method, tt.path, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if (fp == base) != tt.same {
				t.Fatalf("same = %v, want %v", fp == base, tt.same)
			}
		})
	}
	for _, bad := range []string{`{"a":1,"a":2}`, "{\"a\":\"\xff\"}", `{"a":`, `nope`} {
		if _, err := Fingerprint("POST", "/orders", []byte(bad)); err == nil {
			t.Errorf("Fingerprint(%q) accepted invalid JSON", bad)
		}
	}
	empty, _ := Fingerprint("POST", "/x", nil)
	blank, _ := Fingerprint("POST", "/x", []byte(" \n"))
	if empty != blank {
		t.Error("blank body differs from empty body")
	}
}

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key     string
		present bool
		code    string
	}{
		{"", false, CodeKeyMissing},
		{"", true, CodeKeyInvalid},
		{strings.Repeat("a", 256), true, CodeKeyInvalid},
		{"tab\there", true, CodeKeyInvalid},
		{"del\x7f", true, CodeKeyInvalid},
		{"ünïcode", true, CodeKeyInvalid},
		{strings.Repeat("a", 255), true, ""},
		{"550e8400-e29b-41d4-a716-446655440000", true, ""},
	}
	for _, tt := range tests {
		err := ValidateKey(tt.key, tt.present)
		got := ""
		if err != nil {
			got = strings.SplitN(err.Error(), ":", 2)[0]
		}
		if got != tt.code {
			t.Errorf("ValidateKey(%q, %v) = %v, want code %q", tt.key, tt.present, err, tt.code)
		}
	}
}

func TestRecordIDSeparatesScopes(t *testing.T) {
	a := recordID(Scope{Key: "ab", Method: "POST", Path: "/c", UserID: "u"})
	b := recordID(Scope{Key: "a", Method: "bPOST", Path: "/c", UserID: "u"})
	c := recordID(Scope{Key: "ab", Method: "POST", Path: "/c", UserID: "v"})
	if a == b || a == c {
		t.Fatal("different scopes share a record id")
	}
}
