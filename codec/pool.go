package codec

import "sync"

// MaxPooledBuffer is the largest capacity PutBuffer keeps; bigger buffers
// are dropped so that one huge message does not pin memory forever.
const MaxPooledBuffer = 64 << 10

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// GetBuffer returns an empty buffer from the pool. Return it with
// PutBuffer when done (and do not keep references into it afterwards).
func GetBuffer() *[]byte {
	b := bufPool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// PutBuffer returns a buffer obtained from GetBuffer (or any *[]byte) to
// the pool. Buffers larger than MaxPooledBuffer are not retained.
func PutBuffer(b *[]byte) {
	if b == nil || cap(*b) > MaxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
