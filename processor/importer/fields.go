package importer

import (
	"errors"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // mapping files name time zones (Europe/Paris); images without /usr/share/zoneinfo need this

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// kind is how a cell's text becomes a JSON value of the Commanders Act event.
type kind uint8

const (
	kindString    kind = iota // a JSON string
	kindNumber                // a JSON number; decimal comma and thousands separators understood
	kindInteger               // a JSON integer
	kindTimestamp             // milliseconds since the epoch (context.event_timestamp)
	kindList                  // a JSON array of strings (consent_categories "1|4")
	kindBool                  // true/false
)

var kindNames = map[string]kind{
	"string": kindString, "number": kindNumber, "integer": kindInteger,
	"timestamp": kindTimestamp, "list": kindList, "boolean": kindBool,
}

// knownFields are the Commanders Act field paths the connector reads (schema.Event), with the kind of their value.
// A CSV column named like one of them maps to it without a mapping file. items.N.* paths are matched by
// fieldKind; integrations.facebook.custom_data.* and user_data.* are free.
var knownFields = map[string]kind{
	"event_name": kindString, "event_id": kindString, "type": kindString, "url": kindString, "referrer": kindString,
	"value": kindNumber, "amount": kindNumber, "currency": kindString, "id": kindString,
	"search_term": kindString, "name": kindString, "category": kindString, "status": kindString,
	"fbp": kindString, "fbc": kindString,
	"consent_categories": kindList, "user.consent_categories": kindList,

	"context.event_timestamp": kindTimestamp, "context.event_id": kindString,
	"context.page.url": kindString, "context.page.referrer": kindString,
	"context.device.ip": kindString, "context.device.user_agent": kindString, "context.device.cookie": kindString,
	"browser.ip": kindString, "browser.user_agent": kindString,

	"integrations.facebook.event_name": kindString, "integrations.facebook.event_id": kindString,
	"integrations.facebook.action_source": kindString,
	"integrations.facebook.fbp":           kindString, "integrations.facebook.fbc": kindString,
	"integrations.facebook.opt_out":                         kindBool,
	"integrations.facebook.data_processing_options":         kindList,
	"integrations.facebook.data_processing_options_country": kindInteger,
	"integrations.facebook.data_processing_options_state":   kindInteger,
}

var userFields = []string{"id", "email", "phone", "firstname", "lastname", "gender", "birthdate", "city", "state", "zipcode", "country"}

var itemFields = map[string]kind{
	"quantity": kindInteger, "product.id": kindString, "product.name": kindString, "product.price": kindNumber,
	"product.currency": kindString, "product.category_1": kindString, "product.category_2": kindString,
	"product.category_3": kindString, "product.category_4": kindString, "product.category_5": kindString,
}

func init() {
	for _, f := range userFields {
		knownFields["user."+f] = kindString
		knownFields["user."+f+"_sha256"] = kindString
	}
}

// maxItems bounds items.N paths: a typo must not build a million-element array.
const maxItems = 100

// fieldKind reports the kind of a known field path.
func fieldKind(path string) (kind, bool) {
	if k, ok := knownFields[path]; ok {
		return k, true
	}
	if rest, ok := strings.CutPrefix(path, "items."); ok {
		n, sub, ok := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(n); ok && err == nil && i >= 0 && i < maxItems && strconv.Itoa(i) == n {
			k, ok := itemFields[sub]
			return k, ok
		}
		return 0, false
	}
	for _, p := range []string{"integrations.facebook.custom_data.", "integrations.facebook.user_data."} {
		if k, ok := strings.CutPrefix(path, p); ok && validSegment(k) {
			return kindString, true
		}
	}
	return 0, false
}

// customPath reports whether path may be a mapping target although not a known field: a root field of the
// connector's custom_data pass-through (a single segment). Only a mapping file can target one, so an unexpected
// CSV column (a note, a customer name) never leaves the building.
func customPath(path string) bool {
	return validSegment(path)
}

func validSegment(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// cellError is why a cell could not become a value. Its text names the problem, never the value.
type cellError struct{ what string }

func (e *cellError) Error() string { return e.what }

func cellErr(what string) error { return &cellError{what} }

// converter turns one trimmed, non-empty cell into the JSON text of its value.
type converter struct {
	kind         kind
	decimalComma bool
	layout       string         // kindTimestamp: Go time layout; "" tries the common forms
	loc          *time.Location // kindTimestamp: zone of layouts without one
	split        string         // kindList: separator characters ("" = any of | , ;)
}

var defaultTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

func (c *converter) appendJSON(dst []byte, s string) ([]byte, error) {
	switch c.kind {
	case kindString:
		return fbevent.AppendString(dst, s), nil
	case kindNumber, kindInteger:
		f, err := parseNumber(s, c.decimalComma)
		if err != nil {
			return dst, err
		}
		if c.kind == kindInteger {
			if f != float64(int64(f)) {
				return dst, cellErr("not a whole number")
			}
			return strconv.AppendInt(dst, int64(f), 10), nil
		}
		return strconv.AppendFloat(dst, f, 'f', -1, 64), nil
	case kindTimestamp:
		ms, err := c.parseTime(s)
		if err != nil {
			return dst, err
		}
		return strconv.AppendInt(dst, ms, 10), nil
	case kindBool:
		switch strings.ToLower(s) {
		case "true", "1", "yes", "y":
			return append(dst, "true"...), nil
		case "false", "0", "no", "n":
			return append(dst, "false"...), nil
		}
		return dst, cellErr("not a boolean (true/false, 1/0, yes/no)")
	case kindList:
		seps := c.split
		if seps == "" {
			seps = "|,;"
		}
		dst = append(dst, '[')
		n := 0
		for part := range strings.FieldsFuncSeq(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = fbevent.AppendString(dst, part)
			n++
		}
		if n == 0 {
			return dst[:len(dst)-1], errEmptyList
		}
		return append(dst, ']'), nil
	}
	return dst, errors.New("importer: unknown kind")
}

// errEmptyList marks a list cell holding only separators: an absent value, not an error.
var errEmptyList = errors.New("empty list")

// parseNumber reads 59.90, 59,90 (decimalComma), 1 234,56, 1.234,56 (decimalComma) and 1,234.56.
func parseNumber(s string, decimalComma bool) (float64, error) {
	var b strings.Builder
	b.Grow(len(s))
	comma, dot := strings.Count(s, ","), strings.Count(s, ".")
	for _, r := range s {
		switch r {
		case ' ', '\u00a0', '\u202f', '\'': // thousands separators: space, no-break spaces, Swiss apostrophe
			continue
		case ',':
			switch {
			case decimalComma && comma == 1:
				b.WriteByte('.')
			case !decimalComma && dot == 1, !decimalComma && comma > 1:
				// 1,234.56 or 1,234,567: thousands
			case decimalComma:
				return 0, cellErr("not a number (several decimal commas)")
			default:
				return 0, cellErr("not a number (a decimal comma? use --decimal-comma, or decimal_comma: true in the mapping)")
			}
		case '.':
			if decimalComma && comma == 1 || decimalComma && dot > 1 {
				continue // 1.234,56 / 1.234.567: thousands
			}
			b.WriteByte('.')
		default:
			if !(r >= '0' && r <= '9' || r == '-' || r == '+' || r == 'e' || r == 'E') {
				return 0, cellErr("not a number")
			}
			b.WriteRune(r)
		}
	}
	f, err := strconv.ParseFloat(b.String(), 64)
	if err != nil || f != f || f > 1e300 || f < -1e300 {
		return 0, cellErr("not a number")
	}
	return f, nil
}

// parseTime returns milliseconds since the epoch. Digits alone are epoch seconds (up to 11 digits) or
// milliseconds; other text is read with the column's layout, else RFC 3339 and the ISO-like forms.
func (c *converter) parseTime(s string) (int64, error) {
	if allDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || len(s) > 13 {
			return 0, cellErr("not a timestamp (too many digits)")
		}
		if len(s) <= 11 {
			n *= 1000
		}
		return n, nil
	}
	loc := c.loc
	if loc == nil {
		loc = time.UTC
	}
	if c.layout != "" {
		t, err := time.ParseInLocation(c.layout, s, loc)
		if err != nil {
			return 0, cellErr("not a date in the layout " + strconv.Quote(c.layout))
		}
		return t.UnixMilli(), nil
	}
	for _, l := range defaultTimeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, cellErr(`not a date in a known form (RFC 3339, 2006-01-02 15:04:05, epoch seconds or milliseconds); give its layout in the mapping file ({field: context.event_timestamp, layout: "02/01/2006 15:04"})`)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
