package fbevent

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the JSON object of one server event to dst and returns the extended slice.
//
// The encoding is deterministic and is the exact byte sequence encoding/json produces for an equivalent ordered
// structure: keys in the field order of Event, zero values omitted, has-flags deciding for bool and number fields,
// user_data and custom_data omitted when they hold nothing, strings escaped like encoding/json with HTML escaping
// (<, >, & as \u003c…, U+2028/U+2029 escaped, invalid UTF-8 replaced by \ufffd), numbers formatted like
// encoding/json (ES6 style: plain decimal, exponent form only below 1e-6 or from 1e21). Replays of a record thus
// produce byte-identical payloads.
//
// contents elements are always {"id":…,"quantity":…} plus "item_price" when HasItemPrice: Meta requires id and
// quantity on every element. Extra parameter values are appended verbatim: they are raw JSON, compact and valid by
// contract of whoever built them (the mapping stage copies them from the input with fastjson); an empty value is
// written as null so the output stays valid JSON. AppData is appended verbatim too (Validate checks it is a JSON
// object); empty, it is omitted.
//
// NaN and ±Inf have no JSON form; Validate rejects them, so they never reach this function in the pipeline. Should
// one arrive anyway it is written as null (valid JSON that the Graph API refuses) rather than as a broken document.
//
// AppendJSON allocates nothing beyond growing dst.
func AppendJSON(dst []byte, ev *Event) []byte {
	dst = append(dst, '{')
	w := objWriter{dst: dst}
	if ev.EventName != "" {
		w.str("event_name", ev.EventName)
	}
	if ev.EventTime != 0 {
		w.int("event_time", ev.EventTime)
	}
	if ev.EventID != "" {
		w.str("event_id", ev.EventID)
	}
	if ev.EventSourceURL != "" {
		w.str("event_source_url", ev.EventSourceURL)
	}
	if ev.ReferrerURL != "" {
		w.str("referrer_url", ev.ReferrerURL)
	}
	if ev.ActionSource != "" {
		w.str("action_source", ev.ActionSource)
	}
	if ev.HasOptOut {
		w.name("opt_out")
		w.dst = strconv.AppendBool(w.dst, ev.OptOut)
	}
	if ev.HasDataProcessingOptions {
		// An empty list is meaningful (explicitly no limited data use), so it is written as [].
		w.name("data_processing_options")
		w.dst = appendStrings(w.dst, ev.DataProcessingOptions)
	}
	if ev.HasDataProcessingOptionsCountry {
		w.int("data_processing_options_country", ev.DataProcessingOptionsCountry)
	}
	if ev.HasDataProcessingOptionsState {
		w.int("data_processing_options_state", ev.DataProcessingOptionsState)
	}
	if !ev.UserData.IsEmpty() {
		w.name("user_data")
		w.dst = appendUserData(w.dst, &ev.UserData)
	}
	if !ev.CustomData.IsEmpty() {
		w.name("custom_data")
		w.dst = appendCustomData(w.dst, &ev.CustomData)
	}
	if len(ev.AppData) > 0 {
		w.name("app_data")
		w.dst = append(w.dst, ev.AppData...)
	}
	return append(w.dst, '}')
}

// AppendBatch appends the Graph API request body {"data":[e1,…],"test_event_code":…,"partner_agent":…} to dst.
// events are already-encoded event objects (AppendJSON output) and are copied verbatim; the optional keys are
// omitted when empty.
func AppendBatch(dst []byte, events [][]byte, testEventCode, partnerAgent string) []byte {
	dst = append(dst, `{"data":[`...)
	for i, e := range events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e...)
	}
	dst = append(dst, ']')
	if testEventCode != "" {
		dst = append(dst, `,"test_event_code":`...)
		dst = AppendString(dst, testEventCode)
	}
	if partnerAgent != "" {
		dst = append(dst, `,"partner_agent":`...)
		dst = AppendString(dst, partnerAgent)
	}
	return append(dst, '}')
}

// IsEmpty reports whether no user_data parameter is set (the object is then omitted from the encoding).
func (u *UserData) IsEmpty() bool {
	return u.Em == "" && u.Ph == "" && u.Fn == "" && u.Ln == "" && u.Ge == "" && u.Db == "" && u.Ct == "" &&
		u.St == "" && u.Zp == "" && u.Country == "" && u.ExternalID == "" && u.ClientIPAddress == "" &&
		u.ClientUserAgent == "" && u.FBC == "" && u.FBP == ""
}

// IsEmpty reports whether no custom_data parameter is set (the object is then omitted from the encoding).
func (c *CustomData) IsEmpty() bool {
	return !c.HasValue && c.Currency == "" && c.OrderID == "" && c.SearchString == "" && len(c.ContentIDs) == 0 &&
		len(c.Contents) == 0 && c.ContentName == "" && c.ContentCategory == "" && c.ContentType == "" &&
		c.Status == "" && !c.HasNumItems && len(c.Extra) == 0
}

func appendUserData(dst []byte, u *UserData) []byte {
	dst = append(dst, '{')
	w := objWriter{dst: dst}
	w.optStr("em", u.Em)
	w.optStr("ph", u.Ph)
	w.optStr("fn", u.Fn)
	w.optStr("ln", u.Ln)
	w.optStr("ge", u.Ge)
	w.optStr("db", u.Db)
	w.optStr("ct", u.Ct)
	w.optStr("st", u.St)
	w.optStr("zp", u.Zp)
	w.optStr("country", u.Country)
	w.optStr("external_id", u.ExternalID)
	w.optStr("client_ip_address", u.ClientIPAddress)
	w.optStr("client_user_agent", u.ClientUserAgent)
	w.optStr("fbc", u.FBC)
	w.optStr("fbp", u.FBP)
	return append(w.dst, '}')
}

func appendCustomData(dst []byte, c *CustomData) []byte {
	dst = append(dst, '{')
	w := objWriter{dst: dst}
	if c.HasValue {
		w.name("value")
		w.dst = appendFloat(w.dst, c.Value)
	}
	w.optStr("currency", c.Currency)
	w.optStr("order_id", c.OrderID)
	w.optStr("search_string", c.SearchString)
	if len(c.ContentIDs) > 0 {
		w.name("content_ids")
		w.dst = appendStrings(w.dst, c.ContentIDs)
	}
	if len(c.Contents) > 0 {
		w.name("contents")
		w.dst = append(w.dst, '[')
		for i := range c.Contents {
			if i > 0 {
				w.dst = append(w.dst, ',')
			}
			w.dst = appendContent(w.dst, &c.Contents[i])
		}
		w.dst = append(w.dst, ']')
	}
	w.optStr("content_name", c.ContentName)
	w.optStr("content_category", c.ContentCategory)
	w.optStr("content_type", c.ContentType)
	w.optStr("status", c.Status)
	if c.HasNumItems {
		w.int("num_items", c.NumItems)
	}
	for i := range c.Extra {
		w.key(c.Extra[i].Key)
		if len(c.Extra[i].Value) == 0 {
			w.dst = append(w.dst, "null"...)
		} else {
			w.dst = append(w.dst, c.Extra[i].Value...)
		}
	}
	return append(w.dst, '}')
}

func appendContent(dst []byte, c *Content) []byte {
	dst = append(dst, `{"id":`...)
	dst = AppendString(dst, c.ID)
	dst = append(dst, `,"quantity":`...)
	dst = strconv.AppendInt(dst, c.Quantity, 10)
	if c.HasItemPrice {
		dst = append(dst, `,"item_price":`...)
		dst = appendFloat(dst, c.ItemPrice)
	}
	return append(dst, '}')
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, s)
	}
	return append(dst, ']')
}

// objWriter writes the members of one JSON object, inserting commas; the caller writes the braces.
type objWriter struct {
	dst   []byte
	count int
}

// key writes a member name that may need escaping (a custom parameter's).
func (w *objWriter) key(k string) {
	if w.count > 0 {
		w.dst = append(w.dst, ',')
	}
	w.count++
	w.dst = AppendString(w.dst, k)
	w.dst = append(w.dst, ':')
}

// name writes one of the encoder's own member names: plain ASCII identifiers, which need no escaping.
func (w *objWriter) name(k string) {
	if w.count > 0 {
		w.dst = append(w.dst, ',')
	}
	w.count++
	w.dst = append(w.dst, '"')
	w.dst = append(w.dst, k...)
	w.dst = append(w.dst, '"', ':')
}

func (w *objWriter) str(k, v string) {
	w.name(k)
	w.dst = AppendString(w.dst, v)
}

func (w *objWriter) optStr(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func (w *objWriter) int(k string, v int64) {
	w.name(k)
	w.dst = strconv.AppendInt(w.dst, v, 10)
}

// appendFloat formats f exactly like encoding/json formats a float64.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// encoding/json writes e-7, not e-07.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string escaped exactly like encoding/json (HTML-safe): ", \ and control
// characters escaped (\b \f \n \r \t short forms, others as \u00xx), <, > and & as \u003c \u003e \u0026, U+2028
// and U+2029 escaped, and every invalid UTF-8 byte replaced by \ufffd.
//
// Most strings need none of this (hex digests, most URLs and user agents): they are recognized eight bytes at a
// time and copied with one append.
func AppendString(dst []byte, s string) []byte {
	if plainString(s) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendEscaped(dst, s)
}

// plainString reports whether AppendString copies s as is.
func plainString(s string) bool {
	if len(s) < 8 {
		for i := 0; i < len(s); i++ {
			if !plainByte[s[i]] {
				return false
			}
		}
		return true
	}
	// Whole words, then the last eight bytes (overlapping the previous word when len(s) is not a multiple of 8).
	for i := 0; i < len(s)-8; i += 8 {
		if !plain8(load64(s, i)) {
			return false
		}
	}
	return plain8(load64(s, len(s)-8))
}

// plainByte is plain8 for one byte.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendEscaped is AppendString for a string that needs escaping or checking somewhere; runs of plain bytes
// are still skipped eight at a time.
func appendEscaped(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && plain8(load64(s, i)) {
			i += 8
		}
		// Byte by byte to the end of the word that needs a look (or of s); a rune may take i past it.
		for end := min(i+8, len(s)); i < end; {
			b := s[i]
			if b < utf8.RuneSelf {
				if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
					i++
					continue
				}
				dst = append(dst, s[start:i]...)
				switch b {
				case '\\', '"':
					dst = append(dst, '\\', b)
				case '\b':
					dst = append(dst, '\\', 'b')
				case '\f':
					dst = append(dst, '\\', 'f')
				case '\n':
					dst = append(dst, '\\', 'n')
				case '\r':
					dst = append(dst, '\\', 'r')
				case '\t':
					dst = append(dst, '\\', 't')
				default:
					dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
				}
				i++
				start = i
				continue
			}
			c, size := utf8.DecodeRuneInString(s[i:])
			if c == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i += size
				start = i
				continue
			}
			if c == '\u2028' || c == '\u2029' {
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
				i += size
				start = i
				continue
			}
			i += size
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// load64 reads s[i:i+8] as a little-endian word (the compiler turns this into one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plain8 reports whether all eight bytes of w are ASCII that AppendString copies as is: not a control
// character, '"', '\\', '<', '>' or '&'. It uses the word tricks "has a byte less than n" ((w-n)&^w) and "has
// a zero byte" ((x-1)&^x, on w xor the byte sought), exact for the question whether any byte matches; written
// out so that the compiler inlines it.
func plain8(w uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	q := w ^ '"'*lsb
	bs := w ^ '\\'*lsb
	amp := w ^ '&'*lsb
	ltgt := w | 0x02*lsb ^ '>'*lsb // zero where the byte is '<' (0x3c) or '>' (0x3e)
	return (w|(w-0x20*lsb)&^w|(q-lsb)&^q|(bs-lsb)&^bs|(amp-lsb)&^amp|(ltgt-lsb)&^ltgt)&msb == 0
}
