package schema

import (
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// The strict RFC 8259 scanner that locates syntax errors for messages (error path only).

// jsonSyntaxError finds the first syntax error with a strict RFC 8259 scanner: escapes other than \" \\ \/ \b \f \n
// \r \t and \uXXXX, raw control characters in strings and nesting deeper than fastjson.MaxDepth are errors, as
// they are for every strict parser (fastjson itself lets unknown escapes through). It runs on the paths the
// single-pass scanner declines, before fastjson, and for messages; nil when the input is valid JSON.
func jsonSyntaxError(data []byte) *DecodeError {
	sc := syntaxScanner{b: data}
	sc.ws()
	ok := sc.value(0)
	if ok {
		sc.ws()
		ok = sc.i == len(sc.b)
	}
	if ok {
		return nil
	}
	e := &DecodeError{Offset: int64(sc.i), Err: ErrInvalidJSON, Reason: "syntax error"}
	switch {
	case sc.tooDeep:
		e.Reason, e.strict = "nesting deeper than "+strconv.Itoa(fastjson.MaxDepth), true
	case sc.reason != "":
		e.Reason, e.strict = sc.reason, true
	}
	return e
}

type syntaxScanner struct {
	b       []byte
	i       int
	tooDeep bool
	reason  string
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
	if depth > fastjson.MaxDepth {
		sc.tooDeep = true
		return false
	}
	if sc.i >= len(sc.b) {
		return false
	}
	switch c := sc.b[sc.i]; {
	case c == '{', c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		sc.i++
		sc.ws()
		if sc.i < len(sc.b) && sc.b[sc.i] == end {
			sc.i++
			return true
		}
		for {
			sc.ws()
			if c == '{' && !sc.name() {
				return false
			}
			if !sc.value(depth + 1) {
				return false
			}
			sc.ws()
			if sc.i < len(sc.b) && sc.b[sc.i] == ',' {
				sc.i++
				continue
			}
			if sc.i < len(sc.b) && sc.b[sc.i] == end {
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

// name scans a member's name, its colon and the white space up to the value.
func (sc *syntaxScanner) name() bool {
	if sc.i >= len(sc.b) || sc.b[sc.i] != '"' || !sc.str() {
		return false
	}
	sc.ws()
	if sc.i >= len(sc.b) || sc.b[sc.i] != ':' {
		return false
	}
	sc.i++
	sc.ws()
	return true
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
			if sc.i+1 >= len(sc.b) {
				return false
			}
			switch sc.b[sc.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				sc.i += 2
			case 'u':
				if _, ok := hex4(sc.b, sc.i+2); !ok {
					sc.reason = "invalid \\u escape in a string"
					return false
				}
				sc.i += 6
			default:
				sc.reason = "invalid escape in a string"
				return false
			}
		case c < 0x20:
			sc.reason = "raw control character in a string"
			return false
		default:
			sc.i++
		}
	}
	return false
}
