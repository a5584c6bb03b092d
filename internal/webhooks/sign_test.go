package webhooks_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/reliabledemo/payments/internal/webhooks"
)

// TestSignKnownAnswer signs the Standard Webhooks libraries' own test vector
// and checks the answer, then verifies it with the library's Verify, so
// that what the service sends is what any maintained library accepts.
func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		msgID  = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	payload := []byte(`{"test": 2432232314}`)
	ts := time.Unix(1614265330, 0)

	h, err := webhooks.SignedHeaders(secret, msgID, ts, payload)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("webhook-signature"); got != want {
		t.Fatalf("webhook-signature = %q, want %q", got, want)
	}
	if h.Get("webhook-id") != msgID || h.Get("webhook-timestamp") != "1614265330" {
		t.Fatalf("headers = %v", h)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	// The vector is from 2021: outside Verify's five-minute tolerance.
	if err := wh.VerifyIgnoringTimestamp(payload, h); err != nil {
		t.Fatalf("library rejects our signature: %v", err)
	}
	if err := wh.Verify(payload, h); err == nil {
		t.Fatal("library accepts a 2021 timestamp; the tolerance check is off")
	}

	// Now, through Verify itself, and a tampered body and a wrong key fail.
	now := time.Now()
	h, err = webhooks.SignedHeaders(secret, msgID, now, payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(payload, h); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := wh.Verify([]byte(`{"test": 2432232315}`), h); err == nil {
		t.Fatal("Verify accepts a changed body")
	}
	forged, _ := webhooks.SignedHeaders(webhooks.NewSecret(), msgID, now, payload)
	if err := wh.Verify(payload, forged); err == nil {
		t.Fatal("Verify accepts a signature made with another key")
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, b := webhooks.NewSecret(), webhooks.NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if !strings.HasPrefix(a, "whsec_") || err != nil || len(raw) != 32 {
		t.Fatalf("secret %q: want whsec_ + base64 of 32 bytes (%v)", a, err)
	}
	if _, err := standardwebhooks.NewWebhook(a); err != nil {
		t.Fatalf("library refuses the secret: %v", err)
	}
}
