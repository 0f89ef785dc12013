package schema

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/valyala/fastjson"
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

// JSONDecoder decodes Commanders Act events from JSON (PRODUCT.md §4). It is safe for concurrent use: parsers
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
	e := &DecodeError{Offset: -1, Err: ErrInvalidJSON, Reason: "syntax error"}
	if off, ok := jsonSyntaxOffset(data); ok {
		e.Offset = off
	}
	return e
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

// span is a range of jsonState.str or jsonState.raw.
type span struct{ off, end int }

// textField names a string field of the Event outside items[]. The decoders record each text as a span of
// jsonState.str under its field number and finish stores them all once decoding succeeded, so that all strings of
// an event share one allocation. A number rather than a *string: recording a text writes no pointer (no GC write
// barrier, nothing pointing into the caller's Event from the pooled state).
type textField uint8

const (
	tEventName textField = iota
	tEventID
	tType
	tURL
	tReferrer
	tCurrency
	tID
	tSearchTerm
	tName
	tCategory
	tStatus
	tFBP
	tFBC
	tUser                    // tUser+userID…tUser+userCountry: user.<field>
	tUserSHA = tUser + userN // tUserSHA+userID…: user.<field>_sha256
)

const (
	tCtxEventID = tUserSHA + userN + iota
	tPageURL
	tPageReferrer
	tDeviceIP
	tDeviceUA
	tDeviceCookie
	tFBEventName
	tFBEventID
	tFBActionSource
	tFBFBP
	tFBFBC
	numTextFields
)

// The fields of UserFields, in order, as offsets from tUser or tUserSHA.
const (
	userID textField = iota
	userEmail
	userPhone
	userFirstname
	userLastname
	userGender
	userBirthdate
	userCity
	userState
	userZipcode
	userCountry
	userN
)

// The text set of one event must fit the uint64 bit set jsonState.textSet.
var _ [64 - numTextFields]struct{}

// textDst returns the field of ev that f names.
func textDst(ev *Event, f textField) *string {
	switch {
	case f >= tUser && f < tUserSHA:
		return userField(&ev.User.UserFields, f-tUser)
	case f >= tUserSHA && f < tCtxEventID:
		return userField(&ev.User.SHA256, f-tUserSHA)
	}
	switch f {
	case tEventName:
		return &ev.EventName
	case tEventID:
		return &ev.EventID
	case tType:
		return &ev.Type
	case tURL:
		return &ev.URL
	case tReferrer:
		return &ev.Referrer
	case tCurrency:
		return &ev.Currency
	case tID:
		return &ev.ID
	case tSearchTerm:
		return &ev.SearchTerm
	case tName:
		return &ev.Name
	case tCategory:
		return &ev.Category
	case tStatus:
		return &ev.Status
	case tFBP:
		return &ev.FBP
	case tFBC:
		return &ev.FBC
	case tCtxEventID:
		return &ev.Context.EventID
	case tPageURL:
		return &ev.Context.Page.URL
	case tPageReferrer:
		return &ev.Context.Page.Referrer
	case tDeviceIP:
		return &ev.Context.Device.IP
	case tDeviceUA:
		return &ev.Context.Device.UserAgent
	case tDeviceCookie:
		return &ev.Context.Device.Cookie
	case tFBEventName:
		return &ev.Integrations.Facebook.EventName
	case tFBEventID:
		return &ev.Integrations.Facebook.EventID
	case tFBActionSource:
		return &ev.Integrations.Facebook.ActionSource
	case tFBFBP:
		return &ev.Integrations.Facebook.FBP
	default: // tFBFBC
		return &ev.Integrations.Facebook.FBC
	}
}

func userField(u *UserFields, f textField) *string {
	switch f {
	case userID:
		return &u.ID
	case userEmail:
		return &u.Email
	case userPhone:
		return &u.Phone
	case userFirstname:
		return &u.Firstname
	case userLastname:
		return &u.Lastname
	case userGender:
		return &u.Gender
	case userBirthdate:
		return &u.Birthdate
	case userCity:
		return &u.City
	case userState:
		return &u.State
	case userZipcode:
		return &u.Zipcode
	default: // userCountry
		return &u.Country
	}
}

type rawRef struct {
	key, val span
}

// jsonState is the per-call scratch space. Nothing in it outlives Decode except through copies.
type jsonState struct {
	p   fastjson.Parser
	err *DecodeError
	e   DecodeError // backing storage for err, so the error path does not allocate twice

	num []byte // scratch for number texts
	str []byte // bytes of every string of the event, copied out of the parser
	raw []byte // raw JSON values (Extra, user_data, custom_data), re-encoded canonically
	// texts[f] is the text of field f when textSet has bit f (the last non-null one, as for any field).
	texts   [numTextFields]span
	textSet uint64

	extra, userData, customData []rawRef
	consent, userConsent, dpo   []span
	appData                     span // integrations.facebook.app_data in raw, when hasAppData
	hasAppData                  bool

	// Single-pass scanner state (see fast): the input, the position, and whether it declined; esc holds the
	// unescaped content of strings with escapes, escaped tells whether the last string scanned had any.
	b        []byte
	i        int
	declined bool
	escaped  bool
	esc      []byte
	// The elements of the last items array, turned into Event.Items by finish when hasItems (an array was
	// seen: null leaves items as it is).
	elems    []itemScratch
	hasItems bool

	amount                float64
	hasAmount             bool
	browserIP, browserUA  span
	hasBrowserIP, hasBrUA bool
	hasDeviceIP, hasDevUA bool
}

// reset prepares the state for a new input, keeping the buffers' capacity. Field by field rather than one
// struct assignment: copying the whole struct (with the parser inside) costs write barriers while GC runs.
func (s *jsonState) reset() {
	s.err = nil
	s.num, s.str, s.raw, s.textSet = s.num[:0], s.str[:0], s.raw[:0], 0
	s.extra, s.userData, s.customData = s.extra[:0], s.userData[:0], s.customData[:0]
	s.consent, s.userConsent, s.dpo = s.consent[:0], s.userConsent[:0], s.dpo[:0]
	s.appData, s.hasAppData = span{}, false
	s.amount, s.hasAmount = 0, false
	s.browserIP, s.browserUA = span{}, span{}
	s.hasBrowserIP, s.hasBrUA, s.hasDeviceIP, s.hasDevUA = false, false, false, false
	s.i, s.declined, s.escaped, s.esc = 0, false, false, s.esc[:0]
	s.elems, s.hasItems = s.elems[:0], false
}

func (s *jsonState) fail(field string, sentinel error, reason string) {
	if s.err != nil {
		return
	}
	s.e = DecodeError{Field: field, Offset: -1, Reason: reason, Err: sentinel}
	s.err = &s.e
}

func (s *jsonState) wrongType(field string, v *fastjson.Value, want string) {
	s.fail(field, ErrInvalidField, "want "+want+", got "+v.Type().String())
}

// finish copies the collected strings and raw values into memory owned by ev.
func (s *jsonState) finish(ev *Event) {
	if !ev.HasValue && s.hasAmount {
		ev.Value, ev.HasValue = s.amount, true
	}
	if !s.hasDeviceIP && s.hasBrowserIP {
		s.setSpan(tDeviceIP, s.browserIP)
	}
	if !s.hasDevUA && s.hasBrUA {
		s.setSpan(tDeviceUA, s.browserUA)
	}
	all := string(s.str)
	for set := s.textSet; set != 0; set &= set - 1 {
		f := textField(bits.TrailingZeros64(set))
		sp := s.texts[f]
		*textDst(ev, f) = all[sp.off:sp.end]
	}
	if s.hasItems {
		ev.Items = buildItems(s.elems, all)
	}
	var raw []byte
	if len(s.raw) > 0 {
		raw = make([]byte, len(s.raw))
		copy(raw, s.raw)
	}
	ev.Extra = rawFields(s.extra, all, raw)
	ev.Integrations.Facebook.UserData = rawFields(s.userData, all, raw)
	ev.Integrations.Facebook.CustomData = rawFields(s.customData, all, raw)
	if s.hasAppData {
		ev.Integrations.Facebook.AppData = raw[s.appData.off:s.appData.end:s.appData.end]
	}
	ev.ConsentCategories = strList(s.consent, all, false)
	ev.User.ConsentCategories = strList(s.userConsent, all, false)
	if ev.Integrations.Facebook.HasDataProcessingOptions {
		ev.Integrations.Facebook.DataProcessingOptions = strList(s.dpo, all, true)
	}
}

// buildItems makes Event.Items, in one allocation, from the scanned elements.
func buildItems(scratch []itemScratch, all string) []Item {
	items := make([]Item, len(scratch))
	for i := range scratch {
		n, it := &scratch[i], &items[i]
		it.Quantity, it.HasQuantity = n.quantity, n.hasQuantity
		it.Product.Price, it.Product.HasPrice = n.price, n.hasPrice
		for set := n.textSet; set != 0; set &= set - 1 {
			f := uint8(bits.TrailingZeros8(set))
			sp := n.texts[f]
			*productField(&it.Product, f) = all[sp.off:sp.end]
		}
	}
	return items
}

func rawFields(refs []rawRef, all string, raw []byte) []RawField {
	if len(refs) == 0 {
		return nil
	}
	out := make([]RawField, len(refs))
	for i, r := range refs {
		out[i] = RawField{Key: all[r.key.off:r.key.end], Value: raw[r.val.off:r.val.end:r.val.end]}
	}
	return out
}

// strList builds a list. An empty list is nil unless present, for the one list whose absence means something
// (data_processing_options).
func strList(spans []span, all string, present bool) []string {
	if len(spans) == 0 {
		if present {
			return []string{}
		}
		return nil
	}
	out := make([]string, len(spans))
	for i, sp := range spans {
		out[i] = all[sp.off:sp.end]
	}
	return out
}

// addStr copies b into the string buffer.
func (s *jsonState) addStr(b []byte) span {
	off := len(s.str)
	s.str = append(s.str, b...)
	return span{off, len(s.str)}
}

func (s *jsonState) addStrS(v string) span {
	off := len(s.str)
	s.str = append(s.str, v...)
	return span{off, len(s.str)}
}

// text reads a string field (or a number, kept as its JSON text). ok is false when absent (null) or invalid.
func (s *jsonState) text(v *fastjson.Value, field string) (span, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return s.addStr(b), true
	case fastjson.TypeNumber:
		// fastjson keeps a number as its source text and MarshalTo appends exactly that text.
		off := len(s.str)
		s.str = v.MarshalTo(s.str)
		if !isJSONNumber(s.str[off:]) {
			s.fail(field, ErrInvalidJSON, "malformed number")
			return span{}, false
		}
		return span{off, len(s.str)}, true
	case fastjson.TypeNull:
		return span{}, false
	default:
		s.wrongType(field, v, "string or number")
		return span{}, false
	}
}

// setSpan records sp as the text of f.
func (s *jsonState) setSpan(f textField, sp span) {
	s.texts[f] = sp
	s.textSet |= 1 << f
}

// setText records a text field (stored into the Event by finish). It reports whether a non-empty value was set.
func (s *jsonState) setText(v *fastjson.Value, field string, f textField) bool {
	sp, ok := s.text(v, field)
	if !ok {
		return false
	}
	s.setSpan(f, sp)
	return sp.end > sp.off
}

// numText returns the text of a number field: a JSON number or a numeric string (trimmed), in the reused
// scratch buffer s.num (valid until the next call). ok is false when absent (null or "") or invalid.
func (s *jsonState) numText(v *fastjson.Value, field string) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeNumber:
		s.num = v.MarshalTo(s.num[:0])
		if !isJSONNumber(s.num) {
			s.fail(field, ErrInvalidJSON, "malformed number")
			return nil, false
		}
		return s.num, true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		b = trimSpaceBytes(b)
		if len(b) == 0 {
			return nil, false
		}
		if !isDecimalText(b) {
			s.fail(field, ErrInvalidField, "string is not a number")
			return nil, false
		}
		s.num = append(s.num[:0], b...)
		return s.num, true
	case fastjson.TypeNull:
		return nil, false
	default:
		s.wrongType(field, v, "number or numeric string")
		return nil, false
	}
}

// number reads a float field: a JSON number or a numeric string. ok is false when absent or invalid.
func (s *jsonState) number(v *fastjson.Value, field string) (float64, bool) {
	b, ok := s.numText(v, field)
	if !ok {
		return 0, false
	}
	f, ok := parseFloatText(b)
	if !ok {
		s.fail(field, ErrInvalidField, "number out of range")
		return 0, false
	}
	return f, true
}

// parseFloatText parses a number text (JSON number or isDecimalText); ok is false when it does not fit a float64.
func parseFloatText(b []byte) (float64, bool) {
	if f, ok := parseSimpleFloat(b); ok {
		return f, true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// integer reads an integer field (number or numeric string). Non-integral values are rejected unless truncate.
func (s *jsonState) integer(v *fastjson.Value, field string, truncate bool) (int64, bool) {
	b, ok := s.numText(v, field)
	if !ok {
		return 0, false
	}
	n, problem := parseIntText(b, truncate)
	if problem != "" {
		s.fail(field, ErrInvalidField, problem)
		return 0, false
	}
	return n, true
}

// maxSimpleDigits is the most decimal digits parseSimpleInt and parseSimpleFloat take: any such integer fits an
// int64 and, below 2^53, is exact in a float64.
const maxSimpleDigits = 15

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseSimpleFloat is the common case of parseFloatText without strconv: an optional '-', at most
// maxSimpleDigits digits with an optional fraction, no exponent. The mantissa and the power of ten are then
// both exact float64 values, so one IEEE division gives the correctly rounded result, as ParseFloat would
// (it takes the same shortcut). ok is false for anything else, left to strconv.
func parseSimpleFloat(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var m uint64
	digits, frac, dot := 0, 0, false
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > maxSimpleDigits || dot && frac == 0 {
		return 0, false
	}
	f := float64(m) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// parseSimpleInt is the common case of parseIntText without strconv: an optional '-' and at most
// maxSimpleDigits digits. ok is false for anything else, left to strconv.
func parseSimpleInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > maxSimpleDigits {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseIntText parses an integer from a number text; problem is the value-free reason when it cannot.
// Non-integral values are refused unless truncate.
func parseIntText(b []byte, truncate bool) (n int64, problem string) {
	if n, ok := parseSimpleInt(b); ok {
		return n, ""
	}
	// Parse integers exactly (float64 would round beyond 2^53); fall back to float for 1.5e3, 2.0 and the like.
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		return n, ""
	}
	f, err := strconv.ParseFloat(string(b), 64)
	switch {
	case err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f >= 0x1p63 || f < -0x1p63:
		return 0, "integer out of range"
	case f != math.Trunc(f) && !truncate:
		return 0, "want an integer"
	}
	return int64(f), ""
}

func (s *jsonState) boolean(v *fastjson.Value, field string) (bool, bool) {
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	case fastjson.TypeNull:
		return false, false
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		if val, ok := parseBoolText(b); ok {
			return val, true
		}
		s.fail(field, ErrInvalidField, "string is not a boolean")
		return false, false
	default:
		s.wrongType(field, v, "boolean")
		return false, false
	}
}

// parseBoolText reads "true" or "false" (surrounding spaces allowed).
func parseBoolText(b []byte) (val, ok bool) {
	switch strings.TrimSpace(string(b)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// object returns v as an object, nil when null or of the wrong type (the latter recorded as an error).
func (s *jsonState) object(v *fastjson.Value, field string) *fastjson.Object {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		return o
	case fastjson.TypeNull:
		return nil
	default:
		s.wrongType(field, v, "object")
		return nil
	}
}

// list reads an array of strings/numbers, or one comma-separated string, into spans (trimmed, empties dropped).
// present is false when the field is null.
func (s *jsonState) list(v *fastjson.Value, field string, dst []span) ([]span, bool) {
	dst = dst[:0]
	switch v.Type() {
	case fastjson.TypeNull:
		return dst, false
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return s.splitList(b, dst), true
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for _, e := range arr {
			if e.Type() == fastjson.TypeNull {
				continue
			}
			if t := e.Type(); t != fastjson.TypeString && t != fastjson.TypeNumber {
				s.wrongType(field, e, "string or number")
				return dst, false
			}
			sp, ok := s.text(e, field)
			if !ok {
				return dst, false
			}
			if sp = s.trimSpan(sp); sp.end > sp.off {
				dst = append(dst, sp)
			}
		}
		return dst, true
	default:
		s.wrongType(field, v, "array or comma-separated string")
		return dst, false
	}
}

// splitList appends the comma-separated parts of b (trimmed, empties dropped) to dst.
func (s *jsonState) splitList(b []byte, dst []span) []span {
	for len(b) > 0 {
		part := b
		i := indexByte(b, ',')
		if i >= 0 {
			part, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		part = trimSpaceBytes(part)
		if len(part) > 0 {
			dst = append(dst, s.addStr(part))
		}
	}
	return dst
}

func (s *jsonState) trimSpan(sp span) span {
	for sp.off < sp.end && isSpace(s.str[sp.off]) {
		sp.off++
	}
	for sp.end > sp.off && isSpace(s.str[sp.end-1]) {
		sp.end--
	}
	return sp
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trimSpaceBytes(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// rawObject stores every member of an object as (key, canonical raw JSON value), in input order.
func (s *jsonState) rawObject(o *fastjson.Object, field string, dst []rawRef) []rawRef {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		ref, ok := s.rawMember(k, v, field+".")
		if ok {
			dst = append(dst, ref)
		}
	})
	return dst
}

// rawMember stores one member; prefix is the parent path with its trailing dot ("" at the root).
func (s *jsonState) rawMember(k []byte, v *fastjson.Value, prefix string) (rawRef, bool) {
	key := s.addStr(k)
	off := len(s.raw)
	var ok bool
	s.raw, ok = appendCanonical(s.raw, v)
	if !ok {
		s.fail(prefix+string(k), ErrInvalidJSON, "malformed number")
		return rawRef{}, false
	}
	return rawRef{key: key, val: span{off, len(s.raw)}}, true
}

// root decodes the top-level object.
func (s *jsonState) root(o *fastjson.Object, ev *Event) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "event_name":
			s.setText(v, "event_name", tEventName)
		case "event_id":
			s.setText(v, "event_id", tEventID)
		case "type":
			s.setText(v, "type", tType)
		case "url":
			s.setText(v, "url", tURL)
		case "referrer":
			s.setText(v, "referrer", tReferrer)
		case "value":
			if f, ok := s.number(v, "value"); ok {
				ev.Value, ev.HasValue = f, true
			}
		case "amount":
			if f, ok := s.number(v, "amount"); ok {
				s.amount, s.hasAmount = f, true
			}
		case "currency":
			s.setText(v, "currency", tCurrency)
		case "id":
			s.setText(v, "id", tID)
		case "search_term":
			s.setText(v, "search_term", tSearchTerm)
		case "name":
			s.setText(v, "name", tName)
		case "category":
			s.setText(v, "category", tCategory)
		case "status":
			s.setText(v, "status", tStatus)
		case "fbp":
			s.setText(v, "fbp", tFBP)
		case "fbc":
			s.setText(v, "fbc", tFBC)
		case "consent_categories":
			s.consent, _ = s.list(v, "consent_categories", s.consent)
		case "items":
			s.items(v)
		case "user":
			if u := s.object(v, "user"); u != nil {
				s.user(u)
			}
		case "context":
			if c := s.object(v, "context"); c != nil {
				s.context(c, &ev.Context)
			}
		case "browser":
			if b := s.object(v, "browser"); b != nil {
				s.browser(b)
			}
		case "integrations":
			if in := s.object(v, "integrations"); in != nil {
				if fb := in.Get("facebook"); fb != nil {
					if f := s.object(fb, "integrations.facebook"); f != nil {
						s.facebook(f, &ev.Integrations.Facebook)
					}
				}
			}
		default:
			if ref, ok := s.rawMember(k, v, ""); ok {
				s.extra = append(s.extra, ref)
			}
		}
	})
}

func (s *jsonState) items(v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeNull:
		return
	case fastjson.TypeArray:
	default:
		s.wrongType("items", v, "array")
		return
	}
	arr, _ := v.Array()
	nums := s.elems[:0]
	for i, e := range arr {
		nums = append(nums, itemScratch{})
		s.item(e, &nums[i])
		if s.err != nil {
			s.elems = nums
			if s.err.Field == "" {
				s.err.Field = "items[" + strconv.Itoa(i) + "]"
			} else {
				s.err.Field = "items[" + strconv.Itoa(i) + "]." + s.err.Field
			}
			return
		}
	}
	s.elems, s.hasItems = nums, true
}

func (s *jsonState) item(v *fastjson.Value, it *itemScratch) {
	if v.Type() != fastjson.TypeObject {
		s.wrongType("", v, "object")
		return
	}
	o, _ := v.Object()
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "quantity":
			if n, ok := s.integer(v, "quantity", false); ok {
				it.quantity, it.hasQuantity = n, true
			}
		case "product":
			if p := s.object(v, "product"); p != nil {
				s.product(p, it)
			}
		}
	})
}

func (s *jsonState) product(o *fastjson.Object, p *itemScratch) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "id":
			p.setText(s, v, "product.id", prodID)
		case "name":
			p.setText(s, v, "product.name", prodName)
		case "price":
			if f, ok := s.number(v, "product.price"); ok {
				p.price, p.hasPrice = f, true
			}
		case "currency":
			p.setText(s, v, "product.currency", prodCurrency)
		case "category_1":
			p.setText(s, v, "product.category_1", prodCategory1)
		case "category_2":
			p.setText(s, v, "product.category_2", prodCategory1+1)
		case "category_3":
			p.setText(s, v, "product.category_3", prodCategory1+2)
		case "category_4":
			p.setText(s, v, "product.category_4", prodCategory1+3)
		case "category_5":
			p.setText(s, v, "product.category_5", prodCategory1+4)
		}
	})
}

func (s *jsonState) user(o *fastjson.Object) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "id":
			s.setText(v, "user.id", tUser+userID)
		case "email":
			s.setText(v, "user.email", tUser+userEmail)
		case "phone":
			s.setText(v, "user.phone", tUser+userPhone)
		case "firstname":
			s.setText(v, "user.firstname", tUser+userFirstname)
		case "lastname":
			s.setText(v, "user.lastname", tUser+userLastname)
		case "gender":
			s.setText(v, "user.gender", tUser+userGender)
		case "birthdate":
			s.setText(v, "user.birthdate", tUser+userBirthdate)
		case "city":
			s.setText(v, "user.city", tUser+userCity)
		case "state":
			s.setText(v, "user.state", tUser+userState)
		case "zipcode":
			s.setText(v, "user.zipcode", tUser+userZipcode)
		case "country":
			s.setText(v, "user.country", tUser+userCountry)
		case "id_sha256":
			s.setText(v, "user.id_sha256", tUserSHA+userID)
		case "email_sha256":
			s.setText(v, "user.email_sha256", tUserSHA+userEmail)
		case "phone_sha256":
			s.setText(v, "user.phone_sha256", tUserSHA+userPhone)
		case "firstname_sha256":
			s.setText(v, "user.firstname_sha256", tUserSHA+userFirstname)
		case "lastname_sha256":
			s.setText(v, "user.lastname_sha256", tUserSHA+userLastname)
		case "gender_sha256":
			s.setText(v, "user.gender_sha256", tUserSHA+userGender)
		case "birthdate_sha256":
			s.setText(v, "user.birthdate_sha256", tUserSHA+userBirthdate)
		case "city_sha256":
			s.setText(v, "user.city_sha256", tUserSHA+userCity)
		case "state_sha256":
			s.setText(v, "user.state_sha256", tUserSHA+userState)
		case "zipcode_sha256":
			s.setText(v, "user.zipcode_sha256", tUserSHA+userZipcode)
		case "country_sha256":
			s.setText(v, "user.country_sha256", tUserSHA+userCountry)
		case "consent_categories":
			s.userConsent, _ = s.list(v, "user.consent_categories", s.userConsent)
		}
	})
}

func (s *jsonState) context(o *fastjson.Object, c *Context) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "event_timestamp":
			if n, ok := s.integer(v, "context.event_timestamp", true); ok {
				c.EventTimestamp, c.HasEventTimestamp = n, true
			}
		case "event_id":
			s.setText(v, "context.event_id", tCtxEventID)
		case "page":
			if p := s.object(v, "context.page"); p != nil {
				p.Visit(func(k []byte, v *fastjson.Value) {
					switch string(k) {
					case "url":
						s.setText(v, "context.page.url", tPageURL)
					case "referrer":
						s.setText(v, "context.page.referrer", tPageReferrer)
					}
				})
			}
		case "device":
			if d := s.object(v, "context.device"); d != nil {
				d.Visit(func(k []byte, v *fastjson.Value) {
					switch string(k) {
					case "ip":
						if s.setText(v, "context.device.ip", tDeviceIP) {
							s.hasDeviceIP = true
						}
					case "user_agent":
						if s.setText(v, "context.device.user_agent", tDeviceUA) {
							s.hasDevUA = true
						}
					case "cookie":
						s.setText(v, "context.device.cookie", tDeviceCookie)
					}
				})
			}
		}
	})
}

// browser is the older home of ip and user_agent; they apply only when context.device has none (see finish).
func (s *jsonState) browser(o *fastjson.Object) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "ip":
			if sp, ok := s.text(v, "browser.ip"); ok && sp.end > sp.off {
				s.browserIP, s.hasBrowserIP = sp, true
			}
		case "user_agent":
			if sp, ok := s.text(v, "browser.user_agent"); ok && sp.end > sp.off {
				s.browserUA, s.hasBrUA = sp, true
			}
		}
	})
}

func (s *jsonState) facebook(o *fastjson.Object, f *Facebook) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "event_name":
			s.setText(v, "integrations.facebook.event_name", tFBEventName)
		case "event_id":
			s.setText(v, "integrations.facebook.event_id", tFBEventID)
		case "action_source":
			s.setText(v, "integrations.facebook.action_source", tFBActionSource)
		case "fbp":
			s.setText(v, "integrations.facebook.fbp", tFBFBP)
		case "fbc":
			s.setText(v, "integrations.facebook.fbc", tFBFBC)
		case "opt_out":
			if b, ok := s.boolean(v, "integrations.facebook.opt_out"); ok {
				f.OptOut, f.HasOptOut = b, true
			}
		case "data_processing_options":
			var ok bool
			if v.Type() == fastjson.TypeString {
				// A lone string would be split on commas by list; Meta's field is an array, so insist on it.
				s.wrongType("integrations.facebook.data_processing_options", v, "array")
				return
			}
			if s.dpo, ok = s.list(v, "integrations.facebook.data_processing_options", s.dpo); ok {
				f.HasDataProcessingOptions = true
			}
		case "data_processing_options_country":
			if n, ok := s.integer(v, "integrations.facebook.data_processing_options_country", false); ok {
				f.DataProcessingOptionsCountry, f.HasDataProcessingOptionsCountry = n, true
			}
		case "data_processing_options_state":
			if n, ok := s.integer(v, "integrations.facebook.data_processing_options_state", false); ok {
				f.DataProcessingOptionsState, f.HasDataProcessingOptionsState = n, true
			}
		case "user_data":
			if u := s.object(v, "integrations.facebook.user_data"); u != nil {
				s.userData = s.rawObject(u, "integrations.facebook.user_data", s.userData[:0])
			}
		case "custom_data":
			if c := s.object(v, "integrations.facebook.custom_data"); c != nil {
				s.customData = s.rawObject(c, "integrations.facebook.custom_data", s.customData[:0])
			}
		case "app_data":
			// Kept whole, as canonical compact JSON: the Conversions API object is the sender's to fill.
			if s.object(v, "integrations.facebook.app_data") != nil {
				off := len(s.raw)
				var ok bool
				if s.raw, ok = appendCanonical(s.raw, v); !ok {
					s.fail("integrations.facebook.app_data", ErrInvalidJSON, "malformed number")
					return
				}
				s.appData, s.hasAppData = span{off, len(s.raw)}, true
			}
		}
	})
}

// appendCanonical appends v as compact JSON. fastjson accepts some non-JSON numbers (NaN, Inf, "1-2"), which
// would make Facebook reject the whole batch, so numbers are checked; ok is false on such a number. Strings are
// re-escaped the JSON way (fastjson's own escaper falls back to Go quoting, which is not JSON).
func appendCanonical(dst []byte, v *fastjson.Value) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		ok, first := true, true
		o.Visit(func(k []byte, vv *fastjson.Value) {
			if !ok {
				return
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst, ok = appendCanonical(dst, vv)
		})
		return append(dst, '}'), ok
	case fastjson.TypeArray:
		arr, _ := v.Array()
		dst = append(dst, '[')
		for i, e := range arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendCanonical(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendJSONString(dst, b), true
	case fastjson.TypeNumber:
		off := len(dst)
		dst = v.MarshalTo(dst)
		return dst, isJSONNumber(dst[off:])
	case fastjson.TypeTrue:
		return append(dst, "true"...), true
	case fastjson.TypeFalse:
		return append(dst, "false"...), true
	default:
		return append(dst, "null"...), true
	}
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends b (valid UTF-8) as a JSON string literal.
func appendJSONString(dst, b []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, b[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, b[start:]...)
	return append(dst, '"')
}

// isJSONNumber reports whether s is a number as RFC 8259 defines it.
func isJSONNumber[T string | []byte](s T) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

// isDecimalText reports whether a numeric string is plain decimal notation (optionally signed, with a fraction
// and exponent). It rules out what strconv.ParseFloat would also accept: "NaN", "Inf", hex floats, underscores.
func isDecimalText(s []byte) bool {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E':
		default:
			return false
		}
	}
	return digits
}

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

// The single-pass scanner.
//
// fastjson builds a tree of the whole document before the visitors above read it; for the events the connector
// sees by the million that tree costs more than everything else the decoder does. fast decodes the common case
// in one pass straight into the Event instead, and declines (returns false) on anything it does not handle
// exactly like the fastjson path: a string with an escape sequence or a control character, any syntax that
// strict RFC 8259 does not allow, nesting deeper than maxFastDepth, and every input the fastjson path would
// reject with an error. A declined input is decoded again by the fastjson path, from scratch, so the scanner
// never decides an error and never has to reproduce fastjson's leniencies. What it accepts it must decode to the
// very Event the fastjson path produces; FuzzJSONFastPath checks that.

// maxFastDepth bounds the nesting the scanner follows (well under fastjson.MaxDepth).
const maxFastDepth = 64

// itemScratch is one items[] element under construction: its numbers, and its product texts as spans by field
// number (see productField) with their bit set, as for the event's own texts.
type itemScratch struct {
	quantity    int64
	hasQuantity bool
	price       float64
	hasPrice    bool
	textSet     uint8
	texts       [numProdFields]span
}

// setText is jsonState.setText for a product field of the element.
func (it *itemScratch) setText(s *jsonState, v *fastjson.Value, field string, f uint8) {
	if sp, ok := s.text(v, field); ok {
		it.setSpan(f, sp)
	}
}

func (it *itemScratch) setSpan(f uint8, sp span) {
	it.texts[f] = sp
	it.textSet |= 1 << f
}

const (
	prodID uint8 = iota
	prodName
	prodCurrency
	prodCategory1 // …prodCategory1+4 for category_5
	numProdFields = prodCategory1 + 5
)

func productField(p *Product, f uint8) *string {
	switch f {
	case prodID:
		return &p.ID
	case prodName:
		return &p.Name
	case prodCurrency:
		return &p.Currency
	case prodCategory1:
		return &p.Category1
	case prodCategory1 + 1:
		return &p.Category2
	case prodCategory1 + 2:
		return &p.Category3
	case prodCategory1 + 3:
		return &p.Category4
	default:
		return &p.Category5
	}
}

// fast decodes data into ev and the state; false means it declined (ev and the state are then to be reset).
func (s *jsonState) fast(data []byte, ev *Event) bool {
	s.b, s.i = data, 0
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		switch string(k) {
		case "event_name":
			s.fText(tEventName)
		case "event_id":
			s.fText(tEventID)
		case "type":
			s.fText(tType)
		case "url":
			s.fText(tURL)
		case "referrer":
			s.fText(tReferrer)
		case "value":
			if f, ok := s.fNumber(); ok {
				ev.Value, ev.HasValue = f, true
			}
		case "amount":
			if f, ok := s.fNumber(); ok {
				s.amount, s.hasAmount = f, true
			}
		case "currency":
			s.fText(tCurrency)
		case "id":
			s.fText(tID)
		case "search_term":
			s.fText(tSearchTerm)
		case "name":
			s.fText(tName)
		case "category":
			s.fText(tCategory)
		case "status":
			s.fText(tStatus)
		case "fbp":
			s.fText(tFBP)
		case "fbc":
			s.fText(tFBC)
		case "consent_categories":
			s.consent, _ = s.fList(s.consent)
		case "items":
			s.fItems()
		case "user":
			if s.fObject() {
				s.fUser()
			}
		case "context":
			if s.fObject() {
				s.fContext(&ev.Context)
			}
		case "browser":
			if s.fObject() {
				s.fBrowser()
			}
		case "integrations":
			if s.fObject() {
				s.fIntegrations(&ev.Integrations.Facebook)
			}
		default:
			key := s.addStr(k)
			off := len(s.raw)
			s.rawValue(0)
			s.extra = append(s.extra, rawRef{key: key, val: span{off, len(s.raw)}})
		}
	}
	if s.declined {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

func (s *jsonState) fUser() {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		switch string(k) {
		case "id":
			s.fText(tUser + userID)
		case "email":
			s.fText(tUser + userEmail)
		case "phone":
			s.fText(tUser + userPhone)
		case "firstname":
			s.fText(tUser + userFirstname)
		case "lastname":
			s.fText(tUser + userLastname)
		case "gender":
			s.fText(tUser + userGender)
		case "birthdate":
			s.fText(tUser + userBirthdate)
		case "city":
			s.fText(tUser + userCity)
		case "state":
			s.fText(tUser + userState)
		case "zipcode":
			s.fText(tUser + userZipcode)
		case "country":
			s.fText(tUser + userCountry)
		case "id_sha256":
			s.fText(tUserSHA + userID)
		case "email_sha256":
			s.fText(tUserSHA + userEmail)
		case "phone_sha256":
			s.fText(tUserSHA + userPhone)
		case "firstname_sha256":
			s.fText(tUserSHA + userFirstname)
		case "lastname_sha256":
			s.fText(tUserSHA + userLastname)
		case "gender_sha256":
			s.fText(tUserSHA + userGender)
		case "birthdate_sha256":
			s.fText(tUserSHA + userBirthdate)
		case "city_sha256":
			s.fText(tUserSHA + userCity)
		case "state_sha256":
			s.fText(tUserSHA + userState)
		case "zipcode_sha256":
			s.fText(tUserSHA + userZipcode)
		case "country_sha256":
			s.fText(tUserSHA + userCountry)
		case "consent_categories":
			s.userConsent, _ = s.fList(s.userConsent)
		default:
			s.skip(1)
		}
	}
}

func (s *jsonState) fContext(c *Context) {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		switch string(k) {
		case "event_timestamp":
			if n, ok := s.fInteger(true); ok {
				c.EventTimestamp, c.HasEventTimestamp = n, true
			}
		case "event_id":
			s.fText(tCtxEventID)
		case "page":
			if !s.fObject() {
				continue
			}
			for k, more := s.firstKey(); more; k, more = s.nextKey() {
				switch string(k) {
				case "url":
					s.fText(tPageURL)
				case "referrer":
					s.fText(tPageReferrer)
				default:
					s.skip(2)
				}
			}
		case "device":
			if !s.fObject() {
				continue
			}
			for k, more := s.firstKey(); more; k, more = s.nextKey() {
				switch string(k) {
				case "ip":
					if s.fText(tDeviceIP) {
						s.hasDeviceIP = true
					}
				case "user_agent":
					if s.fText(tDeviceUA) {
						s.hasDevUA = true
					}
				case "cookie":
					s.fText(tDeviceCookie)
				default:
					s.skip(2)
				}
			}
		default:
			s.skip(1)
		}
	}
}

func (s *jsonState) fBrowser() {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		switch string(k) {
		case "ip":
			if sp, ok := s.fTextSpan(); ok && sp.end > sp.off {
				s.browserIP, s.hasBrowserIP = sp, true
			}
		case "user_agent":
			if sp, ok := s.fTextSpan(); ok && sp.end > sp.off {
				s.browserUA, s.hasBrUA = sp, true
			}
		default:
			s.skip(1)
		}
	}
}

// fIntegrations reads the first "facebook" member only, like fastjson's Object.Get.
func (s *jsonState) fIntegrations(f *Facebook) {
	seen := false
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		if string(k) != "facebook" || seen {
			s.skip(1)
			continue
		}
		seen = true
		if s.fObject() {
			s.fFacebook(f)
		}
	}
}

func (s *jsonState) fFacebook(f *Facebook) {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		switch string(k) {
		case "event_name":
			s.fText(tFBEventName)
		case "event_id":
			s.fText(tFBEventID)
		case "action_source":
			s.fText(tFBActionSource)
		case "fbp":
			s.fText(tFBFBP)
		case "fbc":
			s.fText(tFBFBC)
		case "opt_out":
			if b, ok := s.fBool(); ok {
				f.OptOut, f.HasOptOut = b, true
			}
		case "data_processing_options":
			if s.peek() == '"' {
				s.decline() // the fastjson path refuses a lone string here
				continue
			}
			var ok bool
			if s.dpo, ok = s.fList(s.dpo); ok {
				f.HasDataProcessingOptions = true
			}
		case "data_processing_options_country":
			if n, ok := s.fInteger(false); ok {
				f.DataProcessingOptionsCountry, f.HasDataProcessingOptionsCountry = n, true
			}
		case "data_processing_options_state":
			if n, ok := s.fInteger(false); ok {
				f.DataProcessingOptionsState, f.HasDataProcessingOptionsState = n, true
			}
		case "user_data":
			if s.fObject() {
				s.userData = s.fRawObject(s.userData[:0])
			}
		case "custom_data":
			if s.fObject() {
				s.customData = s.fRawObject(s.customData[:0])
			}
		case "app_data":
			if s.fObject() {
				off := len(s.raw)
				s.rawValue(3)
				s.appData, s.hasAppData = span{off, len(s.raw)}, true
			}
		default:
			s.skip(3)
		}
	}
}

// fItems reads items: null leaves Event.Items as it is, an array replaces it (as the fastjson path does).
func (s *jsonState) fItems() {
	switch s.peek() {
	case 'n':
		s.scalar()
		return
	case '[':
	default:
		s.decline()
		return
	}
	nums := s.elems[:0]
	for more := s.arrStart(); more; more = s.arrNext() {
		nums = append(nums, itemScratch{})
		it := &nums[len(nums)-1]
		if s.peek() != '{' {
			s.decline()
			break
		}
		for k, more := s.firstKey(); more; k, more = s.nextKey() {
			switch string(k) {
			case "quantity":
				if n, ok := s.fInteger(false); ok {
					it.quantity, it.hasQuantity = n, true
				}
			case "product":
				if s.fObject() {
					s.fProduct(it)
				}
			default:
				s.skip(2)
			}
		}
	}
	s.elems, s.hasItems = nums, true
}

func (s *jsonState) fProduct(it *itemScratch) {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		var field uint8
		switch string(k) {
		case "id":
			field = prodID
		case "name":
			field = prodName
		case "currency":
			field = prodCurrency
		case "category_1":
			field = prodCategory1
		case "category_2":
			field = prodCategory1 + 1
		case "category_3":
			field = prodCategory1 + 2
		case "category_4":
			field = prodCategory1 + 3
		case "category_5":
			field = prodCategory1 + 4
		case "price":
			if f, ok := s.fNumber(); ok {
				it.price, it.hasPrice = f, true
			}
			continue
		default:
			s.skip(3)
			continue
		}
		if sp, ok := s.fTextSpan(); ok {
			it.setSpan(field, sp)
		}
	}
}

// fRawObject stores every member as (key, canonical raw value), in input order, like rawObject.
func (s *jsonState) fRawObject(dst []rawRef) []rawRef {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		key := s.addStr(k)
		off := len(s.raw)
		s.rawValue(3)
		dst = append(dst, rawRef{key: key, val: span{off, len(s.raw)}})
	}
	return dst
}

// fText is setText: a string or number recorded as the text of f, null ignored. It reports whether a
// non-empty value was set.
func (s *jsonState) fText(f textField) bool {
	sp, ok := s.fTextSpan()
	if !ok {
		return false
	}
	s.setSpan(f, sp)
	return sp.end > sp.off
}

// fTextSpan is text: ok is false for null (and when declined).
func (s *jsonState) fTextSpan() (span, bool) {
	if b, i := s.b, s.i; i < len(b) && b[i] == '"' {
		// The common case (a string right after the colon) without scalar's dispatch.
		start := i + 1
		j := start + strSpecial(b[start:])
		if j < len(b) && b[j] == '"' {
			s.i, s.escaped = j+1, false
			return s.addStr(b[start:j]), true
		}
		return s.addStr(s.scanEscaped(start, j)), !s.declined
	}
	kind, b := s.scalar()
	switch kind {
	case '"', '0':
		return s.addStr(b), true
	case 'n':
	default:
		s.decline()
	}
	return span{}, false
}

// fNumText is numText: the text of a number or numeric string; ok is false when absent (null, "").
func (s *jsonState) fNumText() ([]byte, bool) {
	kind, b := s.scalar()
	switch kind {
	case '0':
		return b, true
	case '"':
		b = trimSpaceBytes(b)
		if len(b) == 0 {
			return nil, false
		}
		if isDecimalText(b) {
			return b, true
		}
	case 'n':
		return nil, false
	}
	s.decline()
	return nil, false
}

func (s *jsonState) fNumber() (float64, bool) {
	b, ok := s.fNumText()
	if !ok {
		return 0, false
	}
	f, ok := parseFloatText(b)
	if !ok {
		s.decline()
	}
	return f, ok
}

func (s *jsonState) fInteger(truncate bool) (int64, bool) {
	b, ok := s.fNumText()
	if !ok {
		return 0, false
	}
	n, problem := parseIntText(b, truncate)
	if problem != "" {
		s.decline()
		return 0, false
	}
	return n, true
}

func (s *jsonState) fBool() (bool, bool) {
	kind, b := s.scalar()
	switch kind {
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		return false, false
	case '"':
		if v, ok := parseBoolText(b); ok {
			return v, true
		}
	}
	s.decline()
	return false, false
}

// fObject reports whether an object follows (left for the caller to read); null is consumed and reported as
// false, anything else declines.
func (s *jsonState) fObject() bool {
	switch s.peek() {
	case '{':
		return true
	case 'n':
		s.scalar()
	default:
		s.decline()
	}
	return false
}

// fList is list: an array of strings/numbers (nulls skipped) or one comma-separated string; present is false
// for null. dst is reset first, as in the fastjson path.
func (s *jsonState) fList(dst []span) ([]span, bool) {
	dst = dst[:0]
	switch s.peek() {
	case 'n':
		s.scalar()
		return dst, false
	case '"':
		_, b := s.scalar()
		return s.splitList(b, dst), true
	case '[':
		for more := s.arrStart(); more; more = s.arrNext() {
			kind, b := s.scalar()
			switch kind {
			case 'n':
			case '"', '0':
				if sp := s.trimSpan(s.addStr(b)); sp.end > sp.off {
					dst = append(dst, sp)
				}
			default:
				s.decline()
			}
		}
		return dst, true
	}
	s.decline()
	return dst, false
}

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
func (s *jsonState) objStart() bool {
	if s.peek() != '{' {
		s.decline()
		return false
	}
	s.i++
	if s.peek() == '}' {
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

// arrStart consumes '[' and reports whether an element follows.
func (s *jsonState) arrStart() bool {
	if s.peek() != '[' {
		s.decline()
		return false
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return false
	}
	return true
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
	b, i := s.b, s.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		s.decline()
		return nil
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			s.decline()
			return nil
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			s.decline()
			return nil
		}
	}
	s.i = i
	return b[start:i]
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
				s.raw = appendJSONString(s.raw, k)
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
			s.raw = appendJSONString(s.raw, b) // canonical escapes, as appendCanonical writes them
		} else {
			s.raw = append(s.raw, s.b[start:s.i]...)
		}
	}
}
