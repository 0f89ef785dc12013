package mapping

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/capi-connector/capi-connector/processor/fbevent"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/schema"
)

// Overrides (integrations.facebook.user_data / custom_data) are rare compared with mapped fields, so their
// parsing favours clarity (encoding/json for arrays and escaped strings) over speed; the common shapes (plain
// strings and numbers) take a path that does not allocate beyond the resulting value.

const (
	userDataPrefix   = "integrations.facebook.user_data."
	customDataPrefix = "integrations.facebook.custom_data."
)

// overrideUserData applies integrations.facebook.user_data.<p> for every user_data parameter the connector sends.
// A JSON string replaces the field (an empty string removes it), a number is accepted where identifiers are
// often numeric (external_id, zp, ph), null removes the field. Other keys are ignored: fbevent.UserData has no
// place for them and Meta rejects unknown user_data keys.
func overrideUserData(fields []schema.RawField, ud *fbevent.UserData) *reject.Rejection {
	for _, f := range fields {
		var dst *string
		numeric := false
		switch f.Key {
		case "em":
			dst = &ud.Em
		case "ph":
			dst, numeric = &ud.Ph, true
		case "fn":
			dst = &ud.Fn
		case "ln":
			dst = &ud.Ln
		case "ge":
			dst = &ud.Ge
		case "db":
			dst = &ud.Db
		case "ct":
			dst = &ud.Ct
		case "st":
			dst = &ud.St
		case "zp":
			dst, numeric = &ud.Zp, true
		case "country":
			dst = &ud.Country
		case "external_id":
			dst, numeric = &ud.ExternalID, true
		case "client_ip_address":
			dst = &ud.ClientIPAddress
		case "client_user_agent":
			dst = &ud.ClientUserAgent
		case "fbc":
			dst = &ud.FBC
		case "fbp":
			dst = &ud.FBP
		default:
			continue
		}
		s, ok := text(f.Value, numeric)
		if !ok {
			want := "a string"
			if numeric {
				want = "a string or a number"
			}
			return invalid(userDataPrefix, f.Key, "want "+want)
		}
		*dst = s
	}
	return nil
}

// MaxCustomParams caps the custom parameters of one event (keys of integrations.facebook.custom_data that are not
// typed, then the passthrough root scalars). Meta documents no higher useful number (its App Events take 25
// parameters per event; Events Manager shows a few dozen per event), and an event with 100 000 unknown keys would
// otherwise cost a large request body and the CPU to build it for nothing. The first MaxCustomParams distinct keys
// in input order are sent; the others are dropped and counted (fbevent.CustomData.DroppedParams, exported as
// capi_custom_params_dropped_total).
const MaxCustomParams = 100

// overrideCustomData applies integrations.facebook.custom_data: the typed keys parse into their fields, the
// others become custom parameters in input order; then, when enabled, the passthrough root scalars. Its cost is
// linear in the number of keys: repeated keys are found through an index, built once the parameters outgrow a
// short scan.
func overrideCustomData(fields []schema.RawField, extra []schema.RawField, opt Options, cd *fbevent.CustomData) *reject.Rejection {
	var ps paramSet
	for _, f := range fields {
		if r := overrideTyped(f, cd); r != nil {
			return r
		}
		if isTypedKey(f.Key) {
			continue
		}
		if i := ps.index(f.Key); i >= 0 {
			ps.list[i].Value = f.Value // a repeated key: the last value wins, at the first position
			continue
		}
		ps.add(f.Key, f.Value)
	}
	if opt.CustomDataPassthrough {
		for _, f := range extra {
			if !isScalar(f.Value) || isTypedKey(f.Key) || ps.index(f.Key) >= 0 {
				continue
			}
			ps.add(f.Key, f.Value)
		}
	}
	cd.DroppedParams = len(ps.dropped)
	if len(ps.list) == 0 {
		return nil
	}
	// One copy for all values: the output owns its bytes and never aliases the event shared by destinations.
	buf := make([]byte, 0, ps.size)
	for i := range ps.list {
		off := len(buf)
		buf = append(buf, ps.list[i].Value...)
		ps.list[i].Value = buf[off:len(buf):len(buf)]
	}
	cd.Extra = ps.list
	return nil
}

// paramSet collects the custom parameters of one event, at most MaxCustomParams distinct keys.
type paramSet struct {
	list    []fbevent.Param
	byKey   map[string]int      // built once list outgrows a linear scan
	dropped map[string]struct{} // distinct keys beyond MaxCustomParams
	size    int
}

// paramScan is the number of parameters below which a linear scan beats a map lookup.
const paramScan = 16

func (p *paramSet) index(key string) int {
	if p.byKey != nil {
		if i, ok := p.byKey[key]; ok {
			return i
		}
		return -1
	}
	for i := range p.list {
		if p.list[i].Key == key {
			return i
		}
	}
	return -1
}

func (p *paramSet) add(key string, value []byte) {
	if len(p.list) >= MaxCustomParams {
		if p.dropped == nil {
			p.dropped = map[string]struct{}{}
		}
		p.dropped[key] = struct{}{}
		return
	}
	p.list = append(p.list, fbevent.Param{Key: key, Value: value})
	p.size += len(value)
	switch {
	case p.byKey != nil:
		p.byKey[key] = len(p.list) - 1
	case len(p.list) > paramScan:
		p.byKey = make(map[string]int, 2*paramScan)
		for i := range p.list {
			p.byKey[p.list[i].Key] = i
		}
	}
}

// isTypedKey reports whether key is one of fbevent.CustomData's typed fields, which custom parameters must
// never duplicate.
func isTypedKey(key string) bool {
	switch key {
	case "value", "currency", "order_id", "search_string", "content_ids", "contents", "content_name",
		"content_category", "content_type", "status", "num_items":
		return true
	}
	return false
}

// overrideTyped parses a typed custom_data key into its field; other keys are left alone. null removes the
// field (so does "" for the numeric ones).
func overrideTyped(f schema.RawField, cd *fbevent.CustomData) *reject.Rejection {
	var dst *string
	switch f.Key {
	case "currency":
		dst = &cd.Currency
	case "order_id":
		dst = &cd.OrderID
	case "search_string":
		dst = &cd.SearchString
	case "content_name":
		dst = &cd.ContentName
	case "content_category":
		dst = &cd.ContentCategory
	case "content_type":
		dst = &cd.ContentType
	case "status":
		dst = &cd.Status
	case "value":
		return override(f, isAbsent, number, "want a number or a numeric string", &cd.Value, &cd.HasValue)
	case "num_items":
		return override(f, isAbsent, integer, "want an integer", &cd.NumItems, &cd.HasNumItems)
	case "content_ids":
		return override(f, isNull, contentIDs, "want an array of strings or numbers", &cd.ContentIDs, nil)
	case "contents":
		return override(f, isNull, contents, "want an array of {id, quantity, item_price}", &cd.Contents, nil)
	default:
		return nil
	}
	s, ok := text(f.Value, true)
	if !ok {
		return invalid(customDataPrefix, f.Key, "want a string or a number")
	}
	*dst = s
	return nil
}

// override sets *dst to the parsed value of a typed custom_data key, or clears it (and *has, when the field has
// one) when the value is absent; a value parse refuses is invalid_payload, with want saying what was expected.
func override[T any](f schema.RawField, absent func([]byte) bool, parse func([]byte) (T, bool), want string, dst *T,
	has *bool) *reject.Rejection {
	if absent(f.Value) {
		var zero T
		*dst = zero
		if has != nil {
			*has = false
		}
		return nil
	}
	v, ok := parse(f.Value)
	if !ok {
		return invalid(customDataPrefix, f.Key, want)
	}
	*dst = v
	if has != nil {
		*has = true
	}
	return nil
}

func invalid(prefix, key, why string) *reject.Rejection {
	return reject.New(reject.InvalidPayload, reject.StageMapping, "%s%s: %s", prefix, key, why)
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

// isAbsent is null or "" (blank): tag templates render an unset numeric variable as an empty string, and the
// decoder reads the root value the same way.
func isAbsent(raw []byte) bool {
	if isNull(raw) {
		return true
	}
	s, ok := jsonString(bytes.TrimSpace(raw))
	return ok && strings.TrimSpace(s) == ""
}

// isScalar reports whether a raw JSON value is a string, a number or a boolean.
func isScalar(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return false
	}
	switch c := raw[0]; {
	case c == '"', c == 't', c == 'f', c == '-', c >= '0' && c <= '9':
		return true
	}
	return false
}

// text returns a raw JSON string's value, or a number's text when numbers are allowed. null gives "".
func text(raw []byte, numbersOK bool) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch c := raw[0]; {
	case c == '"':
		return jsonString(raw)
	case c == 'n':
		return "", isNull(raw)
	case numbersOK && (c == '-' || c >= '0' && c <= '9'):
		if !json.Valid(raw) {
			return "", false
		}
		return string(raw), true
	}
	return "", false
}

// jsonString decodes a JSON string literal; literals without escapes (the usual case) skip encoding/json.
func jsonString(raw []byte) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		body := raw[1 : len(raw)-1]
		if bytes.IndexByte(body, '\\') < 0 && bytes.IndexByte(body, '"') < 0 {
			return string(body), true
		}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// number parses a JSON number or a string holding a decimal number.
func number(raw []byte) (float64, bool) {
	txt, ok := numberText(raw)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(txt, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// integer parses an integral JSON number or numeric string ("3", 3, 3.0).
func integer(raw []byte) (int64, bool) {
	txt, ok := numberText(raw)
	if !ok {
		return 0, false
	}
	if n, err := strconv.ParseInt(txt, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(txt, 64)
	if err != nil || f != math.Trunc(f) || f >= 0x1p63 || f < -0x1p63 {
		return 0, false
	}
	return int64(f), true
}

// numberText returns the decimal text of a JSON number, or of a JSON string holding one (trimmed). Strings
// must be plain decimal notation: strconv would also accept "Inf", "NaN", hex floats and underscores.
func numberText(raw []byte) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	if raw[0] == '"' {
		s, ok := jsonString(raw)
		if !ok {
			return "", false
		}
		s = strings.TrimSpace(s)
		return s, s != "" && strings.Trim(s, "0123456789.-+eE") == "" && strings.ContainsAny(s, "0123456789")
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') || !json.Valid(raw) {
		return "", false
	}
	return string(raw), true
}

// contentIDs parses an array of strings or numbers (numbers kept as their text).
func contentIDs(raw []byte) ([]string, bool) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, false
	}
	ids := make([]string, 0, len(elems))
	for _, e := range elems {
		s, ok := text(e, true)
		if !ok || isNull(e) {
			return nil, false
		}
		ids = append(ids, s)
	}
	return ids, true
}

// contents parses [{id, quantity, item_price}]: id (string or number) and quantity are required, item_price is
// optional; other keys of an element are ignored (fbevent.Content has no place for them).
func contents(raw []byte) ([]fbevent.Content, bool) {
	var elems []struct {
		ID        json.RawMessage `json:"id"`
		Quantity  json.RawMessage `json:"quantity"`
		ItemPrice json.RawMessage `json:"item_price"`
	}
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, false
	}
	out := make([]fbevent.Content, len(elems))
	for i, e := range elems {
		id, ok := text(e.ID, true)
		if !ok || id == "" {
			return nil, false
		}
		q, ok := integer(e.Quantity)
		if !ok {
			return nil, false
		}
		out[i] = fbevent.Content{ID: id, Quantity: q}
		if len(e.ItemPrice) > 0 && !isNull(e.ItemPrice) {
			p, ok := number(e.ItemPrice)
			if !ok {
				return nil, false
			}
			out[i].ItemPrice, out[i].HasItemPrice = p, true
		}
	}
	return out, true
}
