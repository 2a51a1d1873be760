package codec

import (
	"math"
	"strconv"
)

// maxSafeInt is Number.MAX_SAFE_INTEGER (2^53-1).
const maxSafeInt = 1<<53 - 1

// AppendJSNumber appends f formatted exactly as JavaScript's
// Number.prototype.toString (and so JSON.stringify) formats it: the
// shortest digits that round-trip, plain notation for exponents -7 < e < 21,
// exponent notation otherwise ("1e+21", "1.5e-7"). -0 is "0". NaN and
// ±Infinity give "NaN", "Infinity", "-Infinity" (JSON writers turn those
// into null themselves).
func AppendJSNumber(dst []byte, f float64) []byte {
	switch {
	case f != f:
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		return append(dst, '0')
	}
	// Fast path: integers that print without exponent.
	if f == math.Trunc(f) && math.Abs(f) < 1e21 && math.Abs(f) <= maxSafeInt {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	var buf [32]byte
	// 'e' with precision -1 gives the shortest round-trip digits:
	// [-]d[.ddd]e±XX
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	// Split mantissa digits and exponent.
	epos := 0
	for epos < len(s) && s[epos] != 'e' {
		epos++
	}
	mant := s[:epos]
	exp := 0
	esign := 1
	i := epos + 1
	if s[i] == '-' {
		esign = -1
	}
	i++
	for ; i < len(s); i++ {
		exp = exp*10 + int(s[i]-'0')
	}
	exp *= esign
	var digits [24]byte
	k := 0
	for _, c := range mant {
		if c != '.' {
			digits[k] = c
			k++
		}
	}
	// JS: value = 0.d1…dk × 10^n with n = exp+1.
	n := exp + 1
	if neg {
		dst = append(dst, '-')
	}
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits[:k]...)
		for j := k; j < n; j++ {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		dst = append(dst, digits[n:k]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for j := 0; j < -n; j++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits[:k]...)
	default:
		dst = append(dst, digits[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:k]...)
		}
		dst = append(dst, 'e')
		e := n - 1
		if e < 0 {
			dst = append(dst, '-')
			e = -e
		} else {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(e), 10)
	}
	return dst
}

// appendJSInt appends an integer as JavaScript would print the Number it
// becomes: exact up to 2^53, rounded to the nearest double beyond.
func appendJSInt(dst []byte, i int64) []byte {
	if i >= -maxSafeInt && i <= maxSafeInt {
		return strconv.AppendInt(dst, i, 10)
	}
	return AppendJSNumber(dst, float64(i))
}

// appendJSUint is appendJSInt for uint64.
func appendJSUint(dst []byte, u uint64) []byte {
	if u <= maxSafeInt {
		return strconv.AppendUint(dst, u, 10)
	}
	return AppendJSNumber(dst, float64(u))
}

// smallInts caches the String() of 0…255 so that numeric rooms decode
// without allocating.
var smallInts = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return
}()

// JSNumberString returns JavaScript's String(f): the same text as
// AppendJSNumber. It is the room name of a numeric room ("42", "1.5").
func JSNumberString(f float64) string {
	if f >= 0 && f < 256 && f == math.Trunc(f) {
		return smallInts[int(f)]
	}
	var buf [32]byte
	return string(AppendJSNumber(buf[:0], f))
}

func jsIntString(i int64) string {
	if i >= 0 && i < 256 {
		return smallInts[i]
	}
	var buf [32]byte
	return string(appendJSInt(buf[:0], i))
}

func jsUintString(u uint64) string {
	if u < 256 {
		return smallInts[u]
	}
	var buf [32]byte
	return string(appendJSUint(buf[:0], u))
}

// isArrayIndex reports whether a JS property key is an array index
// ("0", "1", … up to 2^32-2, canonical form), which JavaScript enumerates
// first, in ascending numeric order.
func isArrayIndex(s string) (uint32, bool) {
	if len(s) == 0 || len(s) > 10 {
		return 0, false
	}
	if s[0] == '0' {
		return 0, len(s) == 1
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v >= 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}
