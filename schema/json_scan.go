package schema

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/capi-connector/capi-connector/schema/jsonstr"
)

// The tokenizer of the single-pass scanner: white space, keys, strings (with escapes), numbers, skipping.
// Every function sees the end of the input once the scanner declined, so loops stop.

// decline gives up on the input; every scanner function then sees the end of the input, so loops stop.
func (s *jsonState) decline() {
	s.declined = true
	s.i = len(s.b)
}

func (s *jsonState) ws() {
	// White space is rare between tokens (producers write compact JSON) and all of it is at most ' '.
	for s.i < len(s.b) && s.b[s.i] <= ' ' && isSpace(s.b[s.i]) {
		s.i++
	}
}

// peek returns the next non-space byte, 0 at the end.
func (s *jsonState) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// objStart consumes '{' and reports whether a member follows.
func (s *jsonState) objStart() bool { return s.open('{', '}') }

// arrStart consumes '[' and reports whether an element follows.
func (s *jsonState) arrStart() bool { return s.open('[', ']') }

// open consumes the opening byte o of an object or array and reports whether a member or element follows; an
// empty one is consumed up to its closing byte c.
func (s *jsonState) open(o, c byte) bool {
	if s.peek() != o {
		s.decline()
		return false
	}
	s.i++
	if s.peek() == c {
		s.i++
		return false
	}
	return true
}

// firstKey consumes an object's '{' and reads the first member's name and colon; more is false when the object
// is empty (or the scanner declined). Loops over members read: for k, more := s.firstKey(); more; k, more =
// s.nextKey().
func (s *jsonState) firstKey() (k []byte, more bool) {
	if !s.objStart() {
		return nil, false
	}
	k = s.key()
	return k, !s.declined
}

// nextKey consumes the ',' after a member's value and reads the next member's name and colon; more is false
// when '}' ends the object instead (or the scanner declined). Compact JSON (`,"name":`) with a name free of
// escapes, by far the common case, is read here in one go; anything else is left to the general functions.
func (s *jsonState) nextKey() (k []byte, more bool) {
	b, i := s.b, s.i
	if i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
		start := i + 2
		j := start + strSpecial(b[start:])
		if j+1 < len(b) && b[j] == '"' && b[j+1] == ':' {
			s.i, s.escaped = j+2, false
			return b[start:j], true
		}
	}
	if !s.objNext() {
		return nil, false
	}
	k = s.key()
	return k, !s.declined
}

// key reads a member name and its colon.
func (s *jsonState) key() []byte {
	s.ws()
	k := s.scanStr()
	if s.i < len(s.b) && s.b[s.i] == ':' {
		s.i++
		return k
	}
	if s.peek() != ':' {
		s.decline()
		return nil
	}
	s.i++
	return k
}

// objNext consumes ',' (another member follows) or '}'.
func (s *jsonState) objNext() bool {
	switch s.peek() {
	case ',':
		s.i++
		return true
	case '}':
		s.i++
		return false
	}
	s.decline()
	return false
}

// arrNext consumes ',' (another element follows) or ']'.
func (s *jsonState) arrNext() bool {
	switch s.peek() {
	case ',':
		s.i++
		return true
	case ']':
		s.i++
		return false
	}
	s.decline()
	return false
}

// scanStr reads a string literal and returns its content, unescaped. Without escapes (the common case) the
// content is a slice of the input and s.escaped is false; with escapes it is a slice of s.esc (valid until the
// state is reset) and s.escaped is true. A raw control character, which JSON forbids, declines.
func (s *jsonState) scanStr() []byte {
	b := s.b
	if s.i >= len(b) || b[s.i] != '"' {
		s.decline()
		return nil
	}
	start := s.i + 1
	j := start + strSpecial(b[start:])
	if j < len(b) && b[j] == '"' {
		s.i, s.escaped = j+1, false
		return b[start:j]
	}
	return s.scanEscaped(start, j)
}

// scanEscaped continues scanStr at b[j], the first special byte of the string starting at b[start]. It decodes
// the escapes fastjson decodes the same way: \" \\ \/ \b \f \n \r \t, \uXXXX outside the surrogates and
// \uXXXX\uXXXX pairs of a high and a low surrogate. Anything else (a raw control character, an unknown escape,
// a lone or malformed surrogate, which fastjson keeps or replaces in its own way) declines.
func (s *jsonState) scanEscaped(start, j int) []byte {
	b := s.b
	out := len(s.esc)
	s.esc = append(s.esc, b[start:j]...)
	for j < len(b) && b[j] == '\\' {
		if j+1 >= len(b) {
			break
		}
		switch c := b[j+1]; c {
		case '"', '\\', '/':
			s.esc = append(s.esc, c)
			j += 2
		case 'b':
			s.esc, j = append(s.esc, '\b'), j+2
		case 'f':
			s.esc, j = append(s.esc, '\f'), j+2
		case 'n':
			s.esc, j = append(s.esc, '\n'), j+2
		case 'r':
			s.esc, j = append(s.esc, '\r'), j+2
		case 't':
			s.esc, j = append(s.esc, '\t'), j+2
		case 'u':
			r, ok := hex4(b, j+2)
			switch {
			case !ok:
				s.decline()
				return nil
			case utf16.IsSurrogate(r):
				lo, ok := hex4(b, j+8)
				if !ok || r > 0xdbff || b[j+6] != '\\' || b[j+7] != 'u' || lo < 0xdc00 || lo > 0xdfff {
					s.decline()
					return nil
				}
				s.esc, j = utf8.AppendRune(s.esc, utf16.DecodeRune(r, lo)), j+12
			default:
				s.esc, j = utf8.AppendRune(s.esc, r), j+6
			}
		default:
			s.decline()
			return nil
		}
		k := j + strSpecial(b[j:])
		s.esc = append(s.esc, b[j:k]...)
		j = k
	}
	if j >= len(b) || b[j] != '"' {
		s.decline()
		return nil
	}
	s.i, s.escaped = j+1, true
	return s.esc[out:len(s.esc):len(s.esc)]
}

// hex4 reads the four hexadecimal digits b[i:i+4]; ok is false when they are not.
func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// strSpecial returns the index of the first '"', '\\' or control character in b, or len(b). It looks at eight
// bytes at a time (they may run past the string into what follows: only the first hit counts), with the word
// tricks "has a byte less than n" ((w-n)&^w) and "has a zero byte" ((x-1)&^x on w xor the byte sought): their
// lowest flagged byte is exact, as a borrow only runs upwards from a byte that truly matches.
func strSpecial(b []byte) int {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		// ((w-0x20*lsb)&^w | (q-lsb)&^q | (bs-lsb)&^bs) & msb with the three &^ merged: '"' and '\\' are
		// ASCII, so q and bs have the top bit of each byte where w has it.
		q, bs := w^'"'*lsb, w^'\\'*lsb
		if m := ((w - 0x20*lsb) | (q - lsb) | (bs - lsb)) &^ w & msb; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '"' || c == '\\' {
			return i
		}
	}
	return i
}

// scalar reads a string, number or literal. kind is '"' (b is the content), '0' (b is the number text), 't',
// 'f' or 'n'. An object or array is not consumed and declines, as does anything that is not a JSON value.
func (s *jsonState) scalar() (kind byte, b []byte) {
	switch c := s.peek(); c {
	case '"':
		return '"', s.scanStr()
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return '0', s.scanNum()
		}
	}
	s.decline()
	return 0, nil
}

func (s *jsonState) lit(l string) (byte, []byte) {
	if len(s.b)-s.i >= len(l) && string(s.b[s.i:s.i+len(l)]) == l {
		s.i += len(l)
		return l[0], nil
	}
	s.decline()
	return 0, nil
}

// scanNum reads a number as RFC 8259 defines it. What follows is checked by the caller (a separator must).
func (s *jsonState) scanNum() []byte {
	start := s.i
	end := numberEnd(s.b, start)
	if end < 0 {
		s.decline()
		return nil
	}
	s.i = end
	return s.b[start:end]
}

// skip reads a value of any kind without keeping it; depth is the nesting level of the value.
func (s *jsonState) skip(depth int) {
	switch s.peek() {
	case '{':
		if depth >= maxFastDepth {
			s.decline()
			return
		}
		for _, more := s.firstKey(); more; _, more = s.nextKey() {
			s.skip(depth + 1)
		}
	case '[':
		if depth >= maxFastDepth {
			s.decline()
			return
		}
		for more := s.arrStart(); more; more = s.arrNext() {
			s.skip(depth + 1)
		}
	default:
		s.scalar()
	}
}

// rawValue appends a value to s.raw in the canonical form appendCanonical gives it: the value's own text without
// the insignificant white space, strings with escapes re-escaped the canonical way.
func (s *jsonState) rawValue(depth int) {
	switch s.peek() {
	case '{':
		if depth >= maxFastDepth {
			s.decline()
			return
		}
		s.raw = append(s.raw, '{')
		first := true
		for k, more := s.firstKey(); more; k, more = s.nextKey() {
			if !first {
				s.raw = append(s.raw, ',')
			}
			first = false
			if s.escaped {
				s.raw = jsonstr.AppendMinimal(s.raw, k)
			} else {
				s.raw = append(s.raw, '"')
				s.raw = append(s.raw, k...)
				s.raw = append(s.raw, '"')
			}
			s.raw = append(s.raw, ':')
			s.rawValue(depth + 1)
		}
		s.raw = append(s.raw, '}')
	case '[':
		if depth >= maxFastDepth {
			s.decline()
			return
		}
		s.raw = append(s.raw, '[')
		first := true
		for more := s.arrStart(); more; more = s.arrNext() {
			if !first {
				s.raw = append(s.raw, ',')
			}
			first = false
			s.rawValue(depth + 1)
		}
		s.raw = append(s.raw, ']')
	default:
		s.ws()
		start := s.i
		if kind, b := s.scalar(); kind == '"' && s.escaped {
			s.raw = jsonstr.AppendMinimal(s.raw, b) // canonical escapes, as appendCanonical writes them
		} else {
			s.raw = append(s.raw, s.b[start:s.i]...)
		}
	}
}
