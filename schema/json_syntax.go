package schema

import (
	"strings"

	"github.com/valyala/fastjson"
)

// The strict RFC 8259 scanner that locates syntax errors for messages (error path only).

// jsonSyntaxOffset finds the byte offset of the first syntax error with a minimal RFC 8259 scanner. It is only
// used to make error messages useful; ok is false when the scanner finds no error (fastjson refused for another
// reason, e.g. nesting depth).
func jsonSyntaxOffset(data []byte) (int64, bool) {
	sc := syntaxScanner{b: data}
	sc.ws()
	if !sc.value(0) {
		return int64(sc.i), true
	}
	sc.ws()
	if sc.i != len(sc.b) {
		return int64(sc.i), true
	}
	return 0, false
}

type syntaxScanner struct {
	b []byte
	i int
}

func (sc *syntaxScanner) ws() {
	for sc.i < len(sc.b) && isSpace(sc.b[sc.i]) {
		sc.i++
	}
}

func (sc *syntaxScanner) lit(l string) bool {
	if len(sc.b)-sc.i >= len(l) && string(sc.b[sc.i:sc.i+len(l)]) == l {
		sc.i += len(l)
		return true
	}
	return false
}

func (sc *syntaxScanner) value(depth int) bool {
	if depth > fastjson.MaxDepth || sc.i >= len(sc.b) {
		return false
	}
	switch c := sc.b[sc.i]; {
	case c == '{':
		sc.i++
		sc.ws()
		if sc.i < len(sc.b) && sc.b[sc.i] == '}' {
			sc.i++
			return true
		}
		for {
			sc.ws()
			if sc.i >= len(sc.b) || sc.b[sc.i] != '"' || !sc.str() {
				return false
			}
			sc.ws()
			if sc.i >= len(sc.b) || sc.b[sc.i] != ':' {
				return false
			}
			sc.i++
			sc.ws()
			if !sc.value(depth + 1) {
				return false
			}
			sc.ws()
			if sc.i < len(sc.b) && sc.b[sc.i] == ',' {
				sc.i++
				continue
			}
			if sc.i < len(sc.b) && sc.b[sc.i] == '}' {
				sc.i++
				return true
			}
			return false
		}
	case c == '[':
		sc.i++
		sc.ws()
		if sc.i < len(sc.b) && sc.b[sc.i] == ']' {
			sc.i++
			return true
		}
		for {
			sc.ws()
			if !sc.value(depth + 1) {
				return false
			}
			sc.ws()
			if sc.i < len(sc.b) && sc.b[sc.i] == ',' {
				sc.i++
				continue
			}
			if sc.i < len(sc.b) && sc.b[sc.i] == ']' {
				sc.i++
				return true
			}
			return false
		}
	case c == '"':
		return sc.str()
	case c == 't':
		return sc.lit("true")
	case c == 'f':
		return sc.lit("false")
	case c == 'n':
		return sc.lit("null")
	default:
		start := sc.i
		for sc.i < len(sc.b) && strings.IndexByte("0123456789+-.eE", sc.b[sc.i]) >= 0 {
			sc.i++
		}
		if !isJSONNumber(sc.b[start:sc.i]) {
			sc.i = start
			return false
		}
		return true
	}
}

// str scans a string literal starting at the opening quote.
func (sc *syntaxScanner) str() bool {
	sc.i++
	for sc.i < len(sc.b) {
		c := sc.b[sc.i]
		switch {
		case c == '"':
			sc.i++
			return true
		case c == '\\':
			sc.i += 2
		case c < 0x20:
			return false
		default:
			sc.i++
		}
	}
	return false
}
