package fbevent

import (
	"math"
	"strconv"

	"github.com/capi-connector/capi-connector/schema/jsonstr"
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
//
// How it writes: every member is appended as `,"key":value` (the key with its comma and colon is one constant),
// and closeObject turns the first comma into the object's '{'. The buffer is passed and returned by value
// throughout, never stored through a pointer: such a store costs a GC write barrier while a collection is
// marking, which in the pipeline is a good part of the time.
func AppendJSON(dst []byte, ev *Event) []byte {
	start := len(dst)
	if ev.EventName != "" {
		dst = jsonstr.Append(append(dst, `,"event_name":`...), ev.EventName)
	}
	if ev.EventTime != 0 {
		dst = strconv.AppendInt(append(dst, `,"event_time":`...), ev.EventTime, 10)
	}
	if ev.EventID != "" {
		dst = jsonstr.Append(append(dst, `,"event_id":`...), ev.EventID)
	}
	if ev.EventSourceURL != "" {
		dst = jsonstr.Append(append(dst, `,"event_source_url":`...), ev.EventSourceURL)
	}
	if ev.ReferrerURL != "" {
		dst = jsonstr.Append(append(dst, `,"referrer_url":`...), ev.ReferrerURL)
	}
	if ev.ActionSource != "" {
		dst = jsonstr.Append(append(dst, `,"action_source":`...), ev.ActionSource)
	}
	if ev.HasOptOut {
		dst = strconv.AppendBool(append(dst, `,"opt_out":`...), ev.OptOut)
	}
	if ev.HasDataProcessingOptions {
		// An empty list is meaningful (explicitly no limited data use), so it is written as [].
		dst = appendStrings(append(dst, `,"data_processing_options":`...), ev.DataProcessingOptions)
	}
	if ev.HasDataProcessingOptionsCountry {
		dst = strconv.AppendInt(append(dst, `,"data_processing_options_country":`...), ev.DataProcessingOptionsCountry, 10)
	}
	if ev.HasDataProcessingOptionsState {
		dst = strconv.AppendInt(append(dst, `,"data_processing_options_state":`...), ev.DataProcessingOptionsState, 10)
	}
	dst = appendUserData(dst, &ev.UserData)
	dst = appendCustomData(dst, &ev.CustomData)
	if len(ev.AppData) > 0 {
		dst = append(append(dst, `,"app_data":`...), ev.AppData...)
	}
	return closeObject(dst, start)
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
		dst = jsonstr.Append(dst, testEventCode)
	}
	if partnerAgent != "" {
		dst = append(dst, `,"partner_agent":`...)
		dst = jsonstr.Append(dst, partnerAgent)
	}
	return append(dst, '}')
}

// closeObject ends the object whose members, each written with a leading comma, begin at dst[start:]: the first
// comma becomes the opening brace ("{}" when there is no member).
func closeObject(dst []byte, start int) []byte {
	if len(dst) == start {
		return append(dst, '{', '}')
	}
	dst[start] = '{'
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

// closeNested ends a nested object member: dst[key:] is its `,"name":` and dst[members:] its members, each written
// with a leading comma. Without members the whole member is taken back: user_data and custom_data are omitted
// when they hold nothing, and they hold nothing exactly when IsEmpty says so (one member per non-zero field).
func closeNested(dst []byte, key, members int) []byte {
	if len(dst) == members {
		return dst[:key]
	}
	dst[members] = '{'
	return append(dst, '}')
}

// appendUserData appends the user_data member, or nothing when ud IsEmpty.
func appendUserData(dst []byte, u *UserData) []byte {
	key := len(dst)
	dst = append(dst, `,"user_data":`...)
	members := len(dst)
	dst = appendOptString(dst, `,"em":`, u.Em)
	dst = appendOptString(dst, `,"ph":`, u.Ph)
	dst = appendOptString(dst, `,"fn":`, u.Fn)
	dst = appendOptString(dst, `,"ln":`, u.Ln)
	dst = appendOptString(dst, `,"ge":`, u.Ge)
	dst = appendOptString(dst, `,"db":`, u.Db)
	dst = appendOptString(dst, `,"ct":`, u.Ct)
	dst = appendOptString(dst, `,"st":`, u.St)
	dst = appendOptString(dst, `,"zp":`, u.Zp)
	dst = appendOptString(dst, `,"country":`, u.Country)
	dst = appendOptString(dst, `,"external_id":`, u.ExternalID)
	dst = appendOptString(dst, `,"client_ip_address":`, u.ClientIPAddress)
	dst = appendOptString(dst, `,"client_user_agent":`, u.ClientUserAgent)
	dst = appendOptString(dst, `,"fbc":`, u.FBC)
	dst = appendOptString(dst, `,"fbp":`, u.FBP)
	return closeNested(dst, key, members)
}

// appendCustomData appends the custom_data member, or nothing when c IsEmpty.
func appendCustomData(dst []byte, c *CustomData) []byte {
	key := len(dst)
	dst = append(dst, `,"custom_data":`...)
	members := len(dst)
	if c.HasValue {
		dst = appendFloat(append(dst, `,"value":`...), c.Value)
	}
	dst = appendOptString(dst, `,"currency":`, c.Currency)
	dst = appendOptString(dst, `,"order_id":`, c.OrderID)
	dst = appendOptString(dst, `,"search_string":`, c.SearchString)
	if len(c.ContentIDs) > 0 {
		dst = appendStrings(append(dst, `,"content_ids":`...), c.ContentIDs)
	}
	if len(c.Contents) > 0 {
		dst = append(dst, `,"contents":[`...)
		for i := range c.Contents {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendContent(dst, &c.Contents[i])
		}
		dst = append(dst, ']')
	}
	dst = appendOptString(dst, `,"content_name":`, c.ContentName)
	dst = appendOptString(dst, `,"content_category":`, c.ContentCategory)
	dst = appendOptString(dst, `,"content_type":`, c.ContentType)
	dst = appendOptString(dst, `,"status":`, c.Status)
	if c.HasNumItems {
		dst = strconv.AppendInt(append(dst, `,"num_items":`...), c.NumItems, 10)
	}
	for i := range c.Extra {
		// A custom parameter's key may need escaping, unlike the encoder's own.
		dst = append(jsonstr.Append(append(dst, ','), c.Extra[i].Key), ':')
		if len(c.Extra[i].Value) == 0 {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, c.Extra[i].Value...)
		}
	}
	return closeNested(dst, key, members)
}

func appendContent(dst []byte, c *Content) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonstr.Append(dst, c.ID)
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
		dst = jsonstr.Append(dst, s)
	}
	return append(dst, ']')
}

// appendOptString appends the member `key` (the encoder's own `,"name":`, which needs no escaping) with the
// string value v, or nothing when v is empty.
func appendOptString(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return jsonstr.Append(append(dst, key...), v)
}

// appendFloat formats f exactly like encoding/json formats a float64.
func appendFloat(dst []byte, f float64) []byte {
	if out, ok := appendCents(dst, f); ok {
		return out
	}
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

// appendCents is appendFloat's fast path for what custom_data carries most: amounts with at most two decimals
// (129.9, 15, 49.99), written in a fraction of the time strconv's shortest-representation search takes. ok is
// false, with dst untouched, for any other value.
//
// It applies when f is the float64 nearest to n/100 for an integer n != 0 and |f| < 2^40. encoding/json writes
// the shortest decimal that reads back as f, in plain notation (1e-6 <= |f| < 1e21). The decimal n/100 reads
// back as f, and every other decimal with as few digits differs from it by at least 0.01, while below 2^40 the
// floats are less than 2^-12 apart: no other decimal that short reads back as f, so n/100 without its trailing
// zeros is what encoding/json writes. n = 0 is left to strconv, which writes -0 as "-0".
func appendCents(dst []byte, f float64) ([]byte, bool) {
	if !(math.Abs(f) < 1<<40) { // also false for NaN
		return dst, false
	}
	n := int64(math.Round(f * 100))
	if n == 0 || float64(n)/100 != f {
		return dst, false
	}
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	dst = strconv.AppendInt(dst, n/100, 10)
	if c := n % 100; c != 0 {
		dst = append(dst, '.', byte('0'+c/10))
		if c%10 != 0 {
			dst = append(dst, byte('0'+c%10))
		}
	}
	return dst, true
}

// AppendString appends s as a JSON string escaped exactly like encoding/json (HTML-safe). It is jsonstr.Append, which
// AppendJSON calls directly; it stays here for the callers that write other JSON documents (the importer, preview).
func AppendString(dst []byte, s string) []byte {
	return jsonstr.Append(dst, s)
}
