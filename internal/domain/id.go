package domain

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// NewID returns prefix followed by 24 random hex characters, e.g. "pay_1f…".
// The randomness comes from crypto/rand so ids cannot be guessed.
func NewID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return prefix + hex.EncodeToString(b[:])
}

var (
	processNonce [5]byte
	idCounter    atomic.Uint32
)

func init() {
	_, _ = rand.Read(processNonce[:])
	var c [4]byte
	_, _ = rand.Read(c[:])
	idCounter.Store(binary.BigEndian.Uint32(c[:]))
}

// NewSortableID returns a 24-hex-character id laid out like a MongoDB
// ObjectId (seconds, process nonce, counter), so ids sort by creation time
// and the store can use them as ObjectIds that mongosh users recognise.
func NewSortableID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(now.Unix()))
	copy(b[4:9], processNonce[:])
	c := idCounter.Add(1)
	b[9], b[10], b[11] = byte(c>>16), byte(c>>8), byte(c)
	return hex.EncodeToString(b[:])
}
