package codec

import (
	"math"
	"unsafe"
)

// Generic decoding allocates the whole value tree in a handful of slabs
// instead of one heap object per string, number and container: a first
// pass counts the items, then one slice per kind is allocated and the
// interfaces are built pointing into those slices. Boxing a string, an
// int64 or a slice into an interface normally costs one allocation each;
// with the slabs a 1 KiB object decodes with about 8 allocations instead
// of about 45.
//
// The interfaces are built by hand (type word + pointer into a slab), the
// same representation the compiler produces for non-pointer-shaped
// values; any value of the tree keeps its slab alive.

type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

var (
	tString  = typeWord("")
	tInt64   = typeWord(int64(0))
	tFloat64 = typeWord(float64(0))
	tBytes   = typeWord([]byte(nil))
	tAnys    = typeWord([]any(nil))
	tMap     = typeWord(Map(nil))
)

// box returns an interface of dynamic type typ whose value is *p. typ
// must be the type word of a non-pointer-shaped type and p must point to
// a value of that type that is never modified afterwards.
func box(typ, p unsafe.Pointer) (v any) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

// slabCounts is the number of items of each kind in a value tree.
type slabCounts struct {
	strs, nums, bins int
	arrays, elems    int
	maps, pairs      int
}

// count walks one value (keys excluded from strs) without allocating.
func (c *slabCounts) count(b []byte, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return b, ErrTooDeep
	}
	if len(b) > 0 {
		switch x := b[0]; {
		case x <= 0x7f: // positive fixint: boxed by the runtime without allocation
			return b[1:], nil
		case x >= 0xe0:
			c.nums++
			return b[1:], nil
		case x >= 0xa0 && x <= 0xbf:
			n := int(x&0x1f) + 1
			if len(b) < n {
				return b, ErrTruncated
			}
			c.strs++
			return b[n:], nil
		}
	}
	h, rest, err := readHead(b)
	if err != nil {
		return b, err
	}
	switch h.kind {
	case kStr:
		c.strs++
	case kInt, kFloat:
		c.nums++
	case kBin:
		c.bins++
	case kArray:
		if h.n > len(rest) {
			return b, ErrTruncated
		}
		c.arrays++
		c.elems += h.n
		for i := 0; i < h.n; i++ {
			if rest, err = c.count(rest, depth+1); err != nil {
				return b, err
			}
		}
	case kMap:
		if h.n > len(rest)/2 {
			return b, ErrTruncated
		}
		c.maps++
		c.pairs += h.n
		for i := 0; i < h.n; i++ {
			if rest, err = skipValue(rest); err != nil { // key
				return b, err
			}
			if rest, err = c.count(rest, depth+1); err != nil {
				return b, err
			}
		}
	}
	return rest, nil
}

// slabs holds the backing storage of one decoded tree.
type slabs struct {
	strs []string
	nums []uint64 // int64 and float64 bits share one pointer-free slab
	bins [][]byte
	anys []any
	kvs  []KV
	arrs [][]any
	maps []Map
}

func (s *slabs) init(c *slabCounts) {
	if c.strs > 0 {
		s.strs = make([]string, 0, c.strs)
	}
	if c.nums > 0 {
		s.nums = make([]uint64, 0, c.nums)
	}
	if c.bins > 0 {
		s.bins = make([][]byte, 0, c.bins)
	}
	if c.elems > 0 {
		s.anys = make([]any, 0, c.elems)
	}
	if c.pairs > 0 {
		s.kvs = make([]KV, 0, c.pairs)
	}
	if c.arrays > 0 {
		s.arrs = make([][]any, 0, c.arrays)
	}
	if c.maps > 0 {
		s.maps = make([]Map, 0, c.maps)
	}
}

// The box* helpers append to a slab and box a pointer to the new element.
// The slabs were sized by count, so append never reallocates (which would
// leave earlier boxes pointing into a stale array, still valid but no
// longer shared); if it ever did, the result would still be correct.

func (s *slabs) boxString(v string) any {
	s.strs = append(s.strs, v)
	return box(tString, unsafe.Pointer(&s.strs[len(s.strs)-1]))
}

func (s *slabs) boxInt(v int64) any {
	s.nums = append(s.nums, uint64(v))
	return box(tInt64, unsafe.Pointer(&s.nums[len(s.nums)-1]))
}

func (s *slabs) boxFloat(v float64) any {
	s.nums = append(s.nums, math.Float64bits(v))
	return box(tFloat64, unsafe.Pointer(&s.nums[len(s.nums)-1]))
}

func (s *slabs) boxBytes(v []byte) any {
	s.bins = append(s.bins, v)
	return box(tBytes, unsafe.Pointer(&s.bins[len(s.bins)-1]))
}

// takeAnys returns n elements of the element slab.
func (s *slabs) takeAnys(n int) []any {
	if len(s.anys)+n > cap(s.anys) {
		return make([]any, n)
	}
	a := s.anys[len(s.anys) : len(s.anys)+n : len(s.anys)+n]
	s.anys = s.anys[:len(s.anys)+n]
	return a
}

// takeKVs returns n pairs of the pair slab.
func (s *slabs) takeKVs(n int) Map {
	if len(s.kvs)+n > cap(s.kvs) {
		return make(Map, n)
	}
	m := s.kvs[len(s.kvs) : len(s.kvs)+n : len(s.kvs)+n]
	s.kvs = s.kvs[:len(s.kvs)+n]
	return m
}

func (s *slabs) boxAnys(v []any) any {
	s.arrs = append(s.arrs, v)
	return box(tAnys, unsafe.Pointer(&s.arrs[len(s.arrs)-1]))
}

func (s *slabs) boxMap(v Map) any {
	s.maps = append(s.maps, v)
	return box(tMap, unsafe.Pointer(&s.maps[len(s.maps)-1]))
}
