package slot

import "testing"

// Known slots, as CLUSTER KEYSLOT returns them (redistest checks Of against
// a live server on many more keys).
func TestOf(t *testing.T) {
	for key, want := range map[string]int{
		"":                  0,
		"foo":               12182,
		"bar":               5061,
		"{user1000}.a":      Of("user1000"),
		"foo{}{bar}":        Of("foo{}{bar}"),
		"123456789":         12739,
		"socket.io#/#room#": Of("socket.io#/#room#"),
	} {
		if got := Of(key); got != want {
			t.Errorf("Of(%q) = %d, want %d", key, got, want)
		}
	}
}
