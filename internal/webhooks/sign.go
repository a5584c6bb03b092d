package webhooks

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// secretPrefix begins a Standard Webhooks secret; the rest is base64.
const secretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: "whsec_" and the base64 of 32
// random bytes, the format the Standard Webhooks libraries accept.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return secretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// SignedHeaders returns the Standard Webhooks headers of payload sent as
// message msgID at ts, signed with secret: webhook-id, webhook-timestamp
// (Unix seconds) and webhook-signature ("v1," + base64 HMAC-SHA256 of
// "id.timestamp.payload"). Signing is the library's, so consumers verifying
// with any maintained Standard Webhooks library agree with it.
func SignedHeaders(secret, msgID string, ts time.Time, payload []byte) (http.Header, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	sig, err := wh.Sign(msgID, ts, payload)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, msgID)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return h, nil
}

// forgedHeaders is h with a signature made with a random key: what an
// attacker who knows the format but not the secret would send. A correct
// consumer rejects it.
func forgedHeaders(h http.Header, msgID string, ts time.Time, payload []byte) http.Header {
	f := h.Clone()
	if wrong, err := SignedHeaders(NewSecret(), msgID, ts, payload); err == nil {
		f.Set(standardwebhooks.HeaderWebhookSignature, wrong.Get(standardwebhooks.HeaderWebhookSignature))
	}
	return f
}
