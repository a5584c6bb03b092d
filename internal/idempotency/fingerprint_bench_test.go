package idempotency

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkFingerprint measures the per-request cost of fingerprinting a
// body: RFC 8785 canonicalisation plus SHA-256. It runs on every POST and
// PATCH, first requests and replays alike.
func BenchmarkFingerprint(b *testing.B) {
	meta := make([]string, 50)
	for i := range meta {
		meta[i] = fmt.Sprintf("%q:%q", fmt.Sprintf("key%02d", i), strings.Repeat("v", 40))
	}
	bodies := []struct {
		name string
		body string
	}{
		{"order", `{"userId":"u1","amount":500,"currency":"INR"}`},
		{"order_reordered", "{ \"currency\" : \"INR\",\n  \"amount\" : 500, \"userId\" : \"u1\" }"},
		{"intent_50_metadata_keys", `{"amount":2599,"currency":"USD","customer_id":"cus_123","payment_method_id":"pm_fake_visa",` +
			`"capture_method":"automatic","metadata":{` + strings.Join(meta, ",") + `}}`},
		{"empty", ``},
	}
	for _, bb := range bodies {
		body := []byte(bb.body)
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := Fingerprint("POST", "/orders", body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
