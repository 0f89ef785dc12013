package schema

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Decode errors. Callers branch on these with errors.Is; the *DecodeError carrying them says where.
var (
	// ErrInvalidJSON: the bytes are not a JSON object (syntax error, invalid UTF-8, a number JSON does not
	// allow, or a top level that is not an object).
	ErrInvalidJSON = errors.New("invalid JSON")
	// ErrInvalidField: the JSON is well formed but a known field has a type or value the model does not accept
	// (user as a string, items not an array, a price that is not a number…).
	ErrInvalidField = errors.New("invalid field")
)

// DecodeError says why and where an event could not be decoded. Its message names fields and byte offsets,
// never field values, so it can go to logs and DLQ headers as is.
type DecodeError struct {
	// Field is the path of the offending field (e.g. "items[1].product.price"), empty for syntax errors.
	Field string
	// Offset is the byte offset of a syntax error when known, else -1.
	Offset int64
	// Reason is a short value-free explanation ("want object, got string").
	Reason string
	// Err is ErrInvalidJSON or ErrInvalidField.
	Err error
	// strict marks a syntax error fastjson would have let through (an invalid escape, a raw control character in a
	// string) or nesting beyond its depth.
	strict bool
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("decode event: ")
	b.WriteString(e.Err.Error())
	if e.Field != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.Field))
	}
	if e.Offset >= 0 {
		b.WriteString(" at byte ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// maxPooledInput is the largest input whose parser and scratch buffers go back to the pool.
const maxPooledInput = 256 << 10

// JSONDecoder decodes Commanders Act events from JSON (docs/mapping.md). It is safe for concurrent use: parsers
// and scratch buffers are pooled, and a decoded Event never refers to them.
//
// Leniency, chosen because producers are tag templates and batch exports, not careful serializers:
// JSON null and, for numbers, "" mean "absent"; string fields also accept JSON numbers (kept as their text:
// zip codes, phones and ids are often sent as numbers); value/amount/price/quantity/event_timestamp accept
// numeric strings; consent_categories accepts an array or one comma-separated string.
type JSONDecoder struct {
	pool sync.Pool // of *jsonState
}

// NewJSONDecoder returns a decoder ready for concurrent use.
func NewJSONDecoder() *JSONDecoder {
	return &JSONDecoder{pool: sync.Pool{New: func() any { return new(jsonState) }}}
}

// Decode resets *ev and fills it from data. On error *ev is reset and the error is a *DecodeError wrapping
// ErrInvalidJSON or ErrInvalidField. The Event owns all its memory (nothing aliases data or the parser).
func (d *JSONDecoder) Decode(data []byte, ev *Event) error {
	return d.decode(data, ev, pathAuto)
}

// Contextual adapts d to the decoders that take a context, as the Avro decoders do (processor.Decoder): JSON
// decoding does no I/O, so the context is ignored.
func (d *JSONDecoder) Contextual() ContextualJSON { return ContextualJSON{d} }

// ContextualJSON is a JSONDecoder with the context-taking Decode of processor.Decoder.
type ContextualJSON struct{ d *JSONDecoder }

// Decode decodes data into ev (see JSONDecoder.Decode).
func (c ContextualJSON) Decode(_ context.Context, data []byte, ev *Event) error {
	return c.d.Decode(data, ev)
}

// decodePath selects the decoding strategy; only tests ask for anything but pathAuto.
type decodePath uint8

const (
	pathAuto decodePath = iota // the single-pass scanner, then fastjson when it declines
	pathSlow                   // fastjson only
	pathFast                   // the scanner only: errFastDeclined when it declines
)

// errFastDeclined is returned under pathFast when the scanner leaves the input to fastjson.
var errFastDeclined = errors.New("fast path declined")

func (d *JSONDecoder) decode(data []byte, ev *Event, path decodePath) error {
	*ev = Event{}
	if !utf8.Valid(data) {
		return &DecodeError{Offset: int64(firstInvalidUTF8(data)), Reason: "invalid UTF-8", Err: ErrInvalidJSON}
	}
	s := d.pool.Get().(*jsonState)
	defer func() {
		s.b = nil // do not keep the caller's input alive from the pool
		// The parser and buffers grow to the largest input they saw; do not keep a huge one alive in the pool.
		if len(data) <= maxPooledInput {
			d.pool.Put(s)
		}
	}()
	s.reset()
	if path != pathSlow {
		if s.fast(data, ev) {
			s.finish(ev)
			return nil
		}
		// The scanner met something it leaves to fastjson (an escape, an error, a very deep value): start over,
		// so that whatever fastjson decides (the event or the precise error) is the answer.
		*ev = Event{}
		s.reset()
		if path == pathFast {
			return errFastDeclined
		}
	}
	// fastjson lets unknown escapes (\x, \q) and malformed \u escapes through; a strict check first, so that
	// they are invalid_payload like any syntax error. Only inputs the scanner declined pay for it.
	// Other syntax (lenient numbers such as NaN) stays fastjson's call: those become field errors that name the field.
	if e := jsonSyntaxError(data); e != nil && e.strict {
		return e
	}
	v, err := s.p.ParseBytes(data)
	if err != nil {
		return syntaxError(data)
	}
	root, err := v.Object()
	if err != nil {
		return &DecodeError{Offset: -1, Reason: "top level is " + v.Type().String() + ", want object", Err: ErrInvalidJSON}
	}
	s.root(root, ev)
	if s.err != nil {
		*ev = Event{}
		e := *s.err // the state is pooled: hand out a copy
		return &e
	}
	s.finish(ev)
	return nil
}

// syntaxError locates a syntax error for the message. It runs only on the error path.
func syntaxError(data []byte) *DecodeError {
	if e := jsonSyntaxError(data); e != nil {
		return e
	}
	return &DecodeError{Offset: -1, Err: ErrInvalidJSON, Reason: "syntax error"}
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}
