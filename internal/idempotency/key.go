// Package idempotency makes a write take effect once per Idempotency-Key,
// following the IETF draft "The Idempotency-Key HTTP Header Field" and
// Stripe's behaviour: the first request claims a record, runs, and stores its
// response; retries get that response back; a key reused for another request
// or while its first request runs is refused.
package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/gowebpki/jcs"

	"github.com/reliabledemo/payments/internal/domain"
)

// MaxKeyLen is the longest key accepted, as in Stripe's API.
const MaxKeyLen = 255

// Error codes of this package, reused by tests.
const (
	CodeKeyMissing = "idempotency_key_missing"
	CodeKeyInvalid = "idempotency_key_invalid"
	CodeKeyReused  = "idempotency_key_reused"
	CodeKeyInUse   = "idempotency_key_in_use"
)

// ValidateKey checks the Idempotency-Key header value; present tells whether
// the header was sent at all.
func ValidateKey(key string, present bool) error {
	if !present {
		return &domain.Error{Kind: domain.KindInvalidRequest, Code: CodeKeyMissing, Param: "Idempotency-Key",
			Message: "This request needs an Idempotency-Key header: a unique value, such as a UUID, reused only to retry this exact request."}
	}
	if key == "" || len(key) > MaxKeyLen {
		return &domain.Error{Kind: domain.KindInvalidRequest, Code: CodeKeyInvalid, Param: "Idempotency-Key",
			Message: "The Idempotency-Key must be 1 to " + strconv.Itoa(MaxKeyLen) + " printable ASCII characters."}
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return &domain.Error{Kind: domain.KindInvalidRequest, Code: CodeKeyInvalid, Param: "Idempotency-Key",
				Message: "The Idempotency-Key must be 1 to " + strconv.Itoa(MaxKeyLen) + " printable ASCII characters."}
		}
	}
	return nil
}

// Fingerprint identifies a request's content: SHA-256 over the method, the
// path with its query string and the RFC 8785 canonical form of the JSON body,
// so that key order and whitespace in the body do not matter. An empty body
// is fingerprinted as empty; a body that is not JSON is an error.
func Fingerprint(method, pathAndQuery string, body []byte) (string, error) {
	var canonical []byte
	if !isBlank(body) {
		var err error
		if canonical, err = jcs.Transform(body); err != nil {
			return "", err
		}
	}
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(pathAndQuery))
	h.Write([]byte{0})
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// recordID derives the record's _id from its scope, so that every lookup on
// the hot path is by _id, the one index every MongoDB-wire server uses.
// Fields are length-prefixed so that no two scopes share an id.
func recordID(s Scope) string {
	h := sha256.New()
	for _, f := range []string{s.Key, s.Method, s.Path, s.UserID} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}
