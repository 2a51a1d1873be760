package engine

import (
	"crypto/rand"
	"encoding/base64"
)

// NewSocketID returns a new random socket id shaped like Socket.IO's: 20
// characters of the URL-safe base64 alphabet (15 random bytes). Node peers
// classify rooms by that length (a 20-character room is taken for a socket's
// own room in the sharded dynamic mode), so Go sockets should use ids of this
// form.
func NewSocketID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go ≥ 1.24 panics instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newUID returns a node uid for the classic protocol: like uid2 1.0.0, 6
// characters of the URL-safe alphabet.
func newUID(n int) string {
	b := make([]byte, (n*6+7)/8)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
