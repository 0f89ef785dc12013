package capitest

import (
	"encoding/binary"
	"math/bits"
)

// validJSON reports exactly what encoding/json.Valid reports (RFC 8259 syntax, at most maxJSONDepth nested
// arrays and objects, any byte >= 0x20 inside strings). FuzzValidJSON proves the equivalence differentially; it is
// the reference for jsonDoc, the simulator's parser, which shares its scanners (skipSpace, scanString,
// skipNumber, skipLiteral) and adds fastjson's nesting limit.
func validJSON(b []byte) bool {
	i, ok := skipValue(b, skipSpace(b, 0), 0)
	return ok && skipSpace(b, i) == len(b)
}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// strStop marks the bytes that end the fast run inside a string: the quote, the backslash, control characters.
var strStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue checks the value starting at b[i] (no leading space) and returns the index just after it. depth is
// the number of containers enclosing it.
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i+1)
	case c == '{':
		return skipObject(b, i+1, depth+1)
	case c == '[':
		return skipArray(b, i+1, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return i, false
}

func skipLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// skipString checks a string whose opening quote precedes b[i].
func skipString(b []byte, i int) (int, bool) {
	end, _, ok := scanString(b, i)
	return end, ok
}

// scanString checks a string whose opening quote precedes b[i]; it returns the index just after the closing
// quote and whether the string holds a backslash escape.
func scanString(b []byte, i int) (end int, esc, ok bool) {
	for {
		// Eight bytes at a time while none of them is a quote, a backslash or a control character; then straight
		// to the first that is (the lowest byte plainBytes marks, exactly: see there).
		for len(b)-i >= 8 {
			if m := plainBytes(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && !strStop[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, esc, false
		}
		switch b[i] {
		case '"':
			return i + 1, esc, true
		case '\\':
			esc = true
			i++
			if i >= len(b) {
				return i, esc, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if len(b)-i < 5 {
					return i, esc, false
				}
				for _, h := range b[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return i, esc, false
					}
				}
				i += 5
			default:
				return i, esc, false
			}
		default: // control character
			return i, esc, false
		}
	}
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// skipNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipObject(b []byte, i, depth int) (int, bool) {
	if depth > maxJSONDepth {
		return i, false
	}
	i = skipSpace(b, i)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		var ok bool
		if i, ok = skipString(b, i+1); !ok {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		if i, ok = skipValue(b, skipSpace(b, i+1), depth); !ok {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case '}':
			return i + 1, true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return i, false
		}
	}
}

func skipArray(b []byte, i, depth int) (int, bool) {
	if depth > maxJSONDepth {
		return i, false
	}
	i = skipSpace(b, i)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = skipValue(b, i, depth); !ok {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ']':
			return i + 1, true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return i, false
		}
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainBytes is zero exactly when none of x's bytes is a quote, a backslash or a control character. Otherwise its
// lowest set bit is the high bit of the first such byte (x read little-endian): a byte may be marked wrongly only
// through a borrow from a lower byte that is itself marked rightly. TestPlainBytes checks both.
//
// Each of the three tests is the zero-byte test (y-ones)&^y&highs, on x^quotes, x^backslashes, and (below 0x20)
// x itself; quote and backslash have their high bit clear, so all three y have x's high bits and share one &^x.
func plainBytes(x uint64) uint64 {
	return (((x ^ ones*'"') - ones) | ((x ^ ones*'\\') - ones) | (x - ones*0x20)) &^ x & highs
}
