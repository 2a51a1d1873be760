package codec

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps one of them, so
// callers can test with errors.Is.
var (
	// ErrTruncated reports input that ends in the middle of a value.
	ErrTruncated = errors.New("codec: truncated input")
	// ErrTooDeep reports input nested deeper than MaxDepth.
	ErrTooDeep = errors.New("codec: nesting too deep")
	// ErrMalformed reports input that is not valid MessagePack or JSON, or
	// that does not have the shape the message type requires.
	ErrMalformed = errors.New("codec: malformed input")
	// ErrUnsupported reports a Go value that has no JavaScript equivalent
	// (channel, function, complex number, …) or that cannot be encoded.
	ErrUnsupported = errors.New("codec: unsupported value")
	// ErrTrailing reports bytes left over after a complete top-level value.
	ErrTrailing = errors.New("codec: trailing bytes after value")
)

// MaxDepth is the deepest nesting of arrays and maps that the decoders and
// transcoders accept. Deeper input fails with ErrTooDeep instead of
// exhausting the stack.
const MaxDepth = 512

// errAt wraps a sentinel with a short context and the byte offset.
func errAt(sentinel error, what string, off int) error {
	return fmt.Errorf("%w: %s at offset %d", sentinel, what, off)
}

// errWrap adds context to an error produced deeper down.
func errWrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
