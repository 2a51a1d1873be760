package codec

import (
	"math/rand/v2"
	"testing"
)

// hasBinaryRef is HasBinary without its fast path: every head through
// readHead. The definition the fast path is checked against.
func hasBinaryRef(b []byte) bool {
	for len(b) > 0 {
		h, rest, err := readHead(b)
		if err != nil {
			return false
		}
		if isBinary(&h) {
			return true
		}
		b = rest
	}
	return false
}

// TestHasBinaryFastPath compares HasBinary with hasBinaryRef on every
// msgpack vector, on suffixes and prefixes of each (cut values and
// malformed starts included; every cut of those under 256 bytes), and on
// 200 000 random byte strings biased
// towards the heads the fast path handles.
func TestHasBinaryFastPath(t *testing.T) {
	check := func(what string, b []byte) {
		t.Helper()
		if got, want := HasBinary(b), hasBinaryRef(b); got != want {
			t.Fatalf("%s: HasBinary(% x) = %v, want %v", what, b, got, want)
		}
	}
	n, binaries := 0, 0
	for _, pf := range payloadFiles {
		for _, l := range loadVectors(t, pf.file) {
			mp := l.payload
			if l.Format == "json" {
				var err error
				if mp, err = JSONToMsgpack(nil, l.payload); err != nil {
					t.Fatalf("%s: %v", l.name(), err)
				}
			}
			n++
			if HasBinary(mp) {
				binaries++
			}
			step := 1 + len(mp)/256 // every cut of the short ones, 256 of the long ones
			for i := 0; i < len(mp); i += step {
				check(l.name()+" suffix", mp[i:])
				check(l.name()+" prefix", mp[:i])
			}
		}
	}
	if n < 300 || binaries == 0 || binaries == n {
		t.Fatalf("%d vectors, %d with binary: the corpus does not exercise both answers", n, binaries)
	}
	heads := []byte{0x00, 0x7f, 0x80, 0x81, 0x90, 0x93, 0xa0, 0xa5, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc7,
		0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd4, 0xd5, 0xd7, 0xd8, 0xd9, 0xda, 0xdc, 0xde, 0xe0, 0xff}
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 0, 64)
	for i := 0; i < 200_000; i++ {
		b = b[:0]
		for j, k := 0, rng.IntN(24); j < k; j++ {
			if rng.IntN(2) == 0 {
				b = append(b, heads[rng.IntN(len(heads))])
			} else {
				b = append(b, byte(rng.IntN(256)))
			}
		}
		check("random", b)
	}
}
