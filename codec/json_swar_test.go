package codec

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// plainASCII8Slow is plainASCII8 byte by byte: the definition.
func plainASCII8Slow(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || !jsonNoEscape[c] {
			return false
		}
	}
	return true
}

// jsonSpecial8Slow is jsonSpecial8 byte by byte: the definition.
func jsonSpecial8Slow(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return true
		}
	}
	return false
}

// TestPlainASCII8 checks the word tests (plainASCII8, jsonSpecial8) against
// the byte tests: every byte
// value at every position of a plain word, every pair of values at two
// positions, and a million random words (biased towards the edges).
func TestPlainASCII8(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		v := binary.LittleEndian.Uint64(b)
		if got, want := plainASCII8(v), plainASCII8Slow(b); got != want {
			t.Fatalf("% x: plainASCII8 = %v, want %v", b, got, want)
		}
		if got, want := jsonSpecial8(v), jsonSpecial8Slow(b); got != want {
			t.Fatalf("% x: jsonSpecial8 = %v, want %v", b, got, want)
		}
	}
	base := []byte("abcdefgh")
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := append([]byte(nil), base...)
			b[pos] = byte(c)
			check(b)
			for c2 := 0; c2 < 256; c2++ {
				b[(pos+3)%8] = byte(c2)
				check(b)
			}
		}
	}
	edges := []byte{0x00, 0x1f, 0x20, 0x21, '"', 0x23, 0x5b, '\\', 0x5d, 0x7f, 0x80, 0xff}
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 8)
	for i := 0; i < 1_000_000; i++ {
		for j := range b {
			if rng.IntN(4) == 0 {
				b[j] = edges[rng.IntN(len(edges))]
			} else {
				b[j] = byte(0x20 + rng.IntN(0xe0))
			}
		}
		check(b)
	}
}
