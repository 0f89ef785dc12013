package capitest

import (
	"iter"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/valyala/fastjson/fastfloat"
)

// jsonDoc is a parsed JSON text: the simulator's own parser, which checks the syntax as strictly as
// encoding/json (validJSON's rules) and records the values in one flat slice in the same pass. It replaced
// validJSON followed by fastjson, which read every byte twice and, on batches of varied events, spent much of its
// time growing per-object slices. Every value it yields (kinds, unescaped strings and keys, number texts) is the
// one fastjson yielded, and it refuses what fastjson refused (nesting beyond maxJSONLevel): FuzzJSONDoc compares
// it with both.
//
// A jsonDoc is reused from request to request; what it yields views its memory and the source's, valid until the
// next parse.
type jsonDoc struct {
	src   []byte
	nodes []jsonNode
	buf   []byte // unescaped strings with backslash escapes

	// stream, when set, receives the elements of the top-level object's first "data" member that is an array
	// (the events of a request body) one at a time, as soon as each is parsed; its nodes are then dropped and
	// their memory reused, so a batch's nodes (some 70,000, 1.1 MB) are never all held and each event is checked
	// while its nodes are warm. streamed is that array's node (0 when none), which reads as empty; streamedLen its
	// length.
	stream      func(jval)
	streamed    int32
	streamedLen int
}

// maxJSONLevel is fastjson's nesting limit (its MaxDepth): a value may sit inside at most maxJSONLevel-1
// containers. It is stricter than encoding/json's 10000, so the simulator kept refusing what fastjson refused.
const maxJSONLevel = 300

// jsonKind is the type of a JSON value.
type jsonKind uint8

const (
	jsonString jsonKind = iota + 1
	jsonNumber
	jsonObject
	jsonArray
	jsonTrue
	jsonFalse
	jsonNull
)

// jsonNode is one value, in document order: a container precedes its elements, and in an object each member is a
// key node (a jsonString) directly followed by its value node.
// Sixteen bytes: a batch of 1000 events makes some 70,000 of them, and writing them is a good part of the parse.
type jsonNode struct {
	kind jsonKind
	// esc marks a string with backslash escapes, full a non-empty object or array (whose first element or key is
	// the next node).
	esc, full bool
	// start and end delimit the value in the source: the text between the quotes of a string, the whole text of
	// anything else.
	start, end int32
	// next is the index of the next element of the enclosing array or, for an object member's value, the next
	// key; 0 when last.
	next int32
}

// parse reads src (which must stay unchanged while the document is used) and reports whether it is one valid
// JSON value, surrounded by optional whitespace, nested at most maxJSONLevel deep.
func (d *jsonDoc) parse(src []byte) bool {
	d.src, d.nodes, d.buf = src, d.nodes[:0], d.buf[:0]
	d.streamed, d.streamedLen = 0, 0
	i, ok := d.value(skipSpace(src, 0), 1)
	return ok && skipSpace(src, i) == len(src)
}

// root is the top-level value of a document parse accepted.
func (d *jsonDoc) root() jval { return jval{d, 0} }

// value parses the value at src[i] (no leading space), level being 1 plus the number of enclosing containers,
// and returns the index just after it.
func (d *jsonDoc) value(i, level int) (int, bool) {
	src := d.src
	if i >= len(src) || level > maxJSONLevel {
		return i, false
	}
	at := len(d.nodes)
	d.nodes = append(d.nodes, jsonNode{})
	var (
		kind jsonKind
		end  int
		ok   bool
	)
	switch c := src[i]; {
	case c == '"':
		var esc bool
		end, esc, ok = scanString(src, i+1)
		d.nodes[at] = jsonNode{kind: jsonString, esc: esc, start: int32(i + 1), end: int32(end - 1)}
		return end, ok
	case c == '{':
		return d.object(i, at, level)
	case c == '[':
		return d.array(i, at, level, false)
	case c == '-' || c >= '0' && c <= '9':
		kind = jsonNumber
		end, ok = skipNumber(src, i)
	case c == 't':
		kind = jsonTrue
		end, ok = skipLiteral(src, i, "true")
	case c == 'f':
		kind = jsonFalse
		end, ok = skipLiteral(src, i, "false")
	case c == 'n':
		kind = jsonNull
		end, ok = skipLiteral(src, i, "null")
	default:
		return i, false
	}
	d.nodes[at] = jsonNode{kind: kind, start: int32(i), end: int32(end)}
	return end, ok
}

// object parses the object whose '{' is src[open], recorded as node at.
func (d *jsonDoc) object(open, at, level int) (int, bool) {
	src := d.src
	i := skipSpace(src, open+1)
	n, prev := 0, -1
	if i < len(src) && src[i] == '}' {
		i++
	} else {
		for more := true; more; {
			if i >= len(src) || src[i] != '"' {
				return i, false
			}
			key := len(d.nodes)
			end, esc, ok := scanString(src, i+1)
			if !ok {
				return end, false
			}
			d.nodes = append(d.nodes, jsonNode{kind: jsonString, esc: esc, start: int32(i + 1), end: int32(end - 1)})
			i = skipSpace(src, end)
			if i >= len(src) || src[i] != ':' {
				return i, false
			}
			i = skipSpace(src, i+1)
			if level == 1 && d.stream != nil && d.streamed == 0 && i < len(src) && src[i] == '[' &&
				string(d.unescaped(int32(key))) == "data" {
				arr := len(d.nodes)
				d.streamed = int32(arr)
				d.nodes = append(d.nodes, jsonNode{})
				i, ok = d.array(i, arr, level+1, true)
			} else {
				i, ok = d.value(i, level+1)
			}
			if !ok {
				return i, false
			}
			if prev >= 0 {
				d.nodes[prev].next = int32(key)
			}
			prev = key + 1
			n++
			if i, more, ok = d.next(i, '}'); !ok {
				return i, false
			}
		}
	}
	d.nodes[at] = jsonNode{kind: jsonObject, full: n > 0, start: int32(open), end: int32(i)}
	return i, true
}

// array parses the array whose '[' is src[open], recorded as node at. With stream set (the top-level "data"
// array), each element goes to d.stream once parsed and is then forgotten: the node records no element.
func (d *jsonDoc) array(open, at, level int, stream bool) (int, bool) {
	src := d.src
	i := skipSpace(src, open+1)
	n, prev := 0, -1
	if i < len(src) && src[i] == ']' {
		i++
	} else {
		for more := true; more; {
			elem := len(d.nodes)
			var ok bool
			if i, ok = d.value(i, level+1); !ok {
				return i, false
			}
			if stream {
				d.streamedLen++
				d.stream(jval{d, int32(elem)})
				d.nodes = d.nodes[:elem]
			} else {
				if prev >= 0 {
					d.nodes[prev].next = int32(elem)
				}
				prev = elem
				n++
			}
			if i, more, ok = d.next(i, ']'); !ok {
				return i, false
			}
		}
	}
	d.nodes[at] = jsonNode{kind: jsonArray, full: n > 0, start: int32(open), end: int32(i)}
	return i, true
}

// next steps over what follows a member or an element: the closing byte (more false) or a ',' (more true, and
// the space after it). ok is false on anything else.
func (d *jsonDoc) next(i int, closing byte) (j int, more, ok bool) {
	src := d.src
	i = skipSpace(src, i)
	switch {
	case i >= len(src):
		return i, false, false
	case src[i] == closing:
		return i + 1, false, true
	case src[i] != ',':
		return i, false, false
	}
	return skipSpace(src, i+1), true, true
}

// streamedArray returns the length of v when v is the array whose elements went to d.stream.
func (v jval) streamedArray() (int, bool) {
	if v.d == nil || v.d.streamed == 0 || v.i != v.d.streamed {
		return 0, false
	}
	return v.d.streamedLen, true
}

// jval is a value of a parsed document; the zero jval stands for an absent value.
type jval struct {
	d *jsonDoc
	i int32
}

func (v jval) present() bool { return v.d != nil }

func (v jval) node() *jsonNode { return &v.d.nodes[v.i] }

// kind is the value's type; 0 for an absent value.
func (v jval) kind() jsonKind {
	if v.d == nil {
		return 0
	}
	return v.node().kind
}

// text is the value's source text: a string's without its quotes.
func (v jval) text() []byte {
	n := v.node()
	return v.d.src[n.start:n.end]
}

// raw is the value's source text as it appears in the document.
func (v jval) raw() []byte {
	n := v.node()
	if n.kind == jsonString {
		return v.d.src[n.start-1 : n.end+1]
	}
	return v.d.src[n.start:n.end]
}

// unescaped is the string node i's value.
func (d *jsonDoc) unescaped(i int32) []byte {
	n := &d.nodes[i]
	s := d.src[n.start:n.end]
	if !n.esc {
		return s
	}
	start := len(d.buf)
	d.buf = appendUnescaped(d.buf, s)
	return d.buf[start:len(d.buf):len(d.buf)]
}

// str returns a string's unescaped bytes.
func (v jval) str() ([]byte, bool) {
	if v.kind() != jsonString {
		return nil, false
	}
	return v.d.unescaped(v.i), true
}

// len is an object's number of members or an array's number of elements, counted.
func (v jval) len() int {
	n := 0
	if v.kind() == jsonObject {
		for range v.members() {
			n++
		}
	}
	for range v.elems() {
		n++
	}
	return n
}

// empty reports whether an object or array has no member or element.
func (v jval) empty() bool { return !v.node().full }

// members yields an object's keys (unescaped) and values in order, duplicates included.
func (v jval) members() iter.Seq2[[]byte, jval] {
	return func(yield func([]byte, jval) bool) {
		if v.node().kind != jsonObject || !v.node().full {
			return
		}
		for k := v.i + 1; k != 0; k = v.d.nodes[k+1].next {
			if !yield(v.d.unescaped(k), jval{v.d, k + 1}) {
				return
			}
		}
	}
}

// get returns the first member named key of an object, or an absent value.
func (v jval) get(key string) jval {
	for k, m := range v.members() {
		if string(k) == key {
			return m
		}
	}
	return jval{}
}

// elems yields an array's elements in order.
func (v jval) elems() iter.Seq[jval] {
	return func(yield func(jval) bool) {
		if v.node().kind != jsonArray || !v.node().full {
			return
		}
		for e := v.i + 1; e != 0; e = v.d.nodes[e].next {
			if !yield(jval{v.d, e}) {
				return
			}
		}
	}
}

// integer accepts a JSON number written as an integer ("12"), never "12.0" or "1.2e1": Meta documents these
// parameters as integers and a sender writing floats is a bug worth seeing. It is fastjson's Int64, without its
// allocations for the usual short integers.
func (v jval) integer() (int64, bool) {
	if v.kind() != jsonNumber {
		return 0, false
	}
	s := v.text()
	digits := s
	if len(s) > 0 && s[0] == '-' {
		digits = s[1:]
	}
	if len(s) > 18 || !allDigits(digits) { // the long or non-integer ones: fastjson's own judgement
		n, err := fastfloat.ParseInt64(string(s))
		return n, err == nil
	}
	var n int64
	for _, c := range digits {
		n = n*10 + int64(c-'0')
	}
	if len(digits) != len(s) {
		n = -n
	}
	return n, true
}

// finite accepts a JSON number fastjson's Float64 reads as a finite float. A number without exponent and of
// at most 15 digits always is; the rest goes to fastjson's parser itself.
func (v jval) finite() bool {
	if v.kind() != jsonNumber {
		return false
	}
	s := v.text()
	if len(s) <= 15 {
		short := true
		for _, c := range s {
			if c == 'e' || c == 'E' {
				short = false
				break
			}
		}
		if short {
			return true
		}
	}
	f, err := fastfloat.Parse(string(s))
	return err == nil && f-f == 0 // f-f is NaN for ±Inf and NaN
}

// appendCompact appends the JSON text b without its insignificant whitespace.
func appendCompact(dst, b []byte) []byte {
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case isSpace(c):
			continue
		case c == '"':
			inString = true
		}
		dst = append(dst, c)
	}
	return dst
}

// appendUnescaped appends the string s (the text between the quotes) unescaped exactly as fastjson's
// unescapeStringBestEffort does, down to its handling of unpaired surrogates: a lone "\uD800" stays as written,
// and a high surrogate followed by an escape that is no low surrogate gives U+FFFD for both.
func appendUnescaped(dst, s []byte) []byte {
	for len(s) > 0 {
		c := s[0]
		s = s[1:]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		if len(s) == 0 { // fastjson drops a trailing backslash (a valid string has none)
			return dst
		}
		c = s[0]
		s = s[1:]
		switch c {
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			x, ok := hex4(s)
			if !ok {
				dst = append(dst, `\u`...)
				break
			}
			xs := s[:4]
			s = s[4:]
			if !utf16.IsSurrogate(rune(x)) {
				dst = utf8.AppendRune(dst, rune(x))
				break
			}
			var x1 uint64
			if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
				x1, ok = hex4(s[2:])
			}
			if len(s) < 6 || s[0] != '\\' || s[1] != 'u' || !ok {
				dst = append(dst, `\u`...)
				dst = append(dst, xs...)
				break
			}
			dst = utf8.AppendRune(dst, utf16.DecodeRune(rune(x), rune(x1)))
			s = s[6:]
		default:
			dst = append(dst, '\\', c)
		}
	}
	return dst
}

// hex4 reads four hexadecimal digits as strconv.ParseUint(s[:4], 16, 16) does.
func hex4(s []byte) (uint64, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var x uint64
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			x = x<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			x = x<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			x = x<<4 | uint64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return x, true
}
