package fbevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// ErrInvalidEvent is wrapped by every *ValidationError: the event would make the Graph API reject the whole
// request it travels in.
var ErrInvalidEvent = errors.New("invalid server event")

// ValidationError names the first rule an event breaks. Field is the JSON path of the offending parameter
// ("user_data.em", "custom_data.contents[2].id"); Problem says what is wrong with it. Neither ever contains the
// value: user_data values are personal data.
type ValidationError struct {
	Field   string
	Problem string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalidEvent, e.Field, e.Problem)
}

// Unwrap makes errors.Is(err, ErrInvalidEvent) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalidEvent }

func invalid(field, problem string) error {
	return &ValidationError{Field: field, Problem: problem}
}

// MaxEventNameLen is the longest event_name accepted. Meta documents 50 characters for custom event names; the
// standard names are all shorter.
const MaxEventNameLen = 50

// actionSources are the action_source values the Graph API accepts.
var actionSources = [...]string{
	"email", "website", "app", "phone_call", "chat", "physical_store", "system_generated", "business_messaging",
	"other",
}

// typedCustomKeys are the custom_data keys CustomData encodes itself; an Extra parameter must not repeat one.
var typedCustomKeys = [...]string{
	"value", "currency", "order_id", "search_string", "content_ids", "contents", "content_name",
	"content_category", "content_type", "status", "num_items",
}

// Validate checks ev against the shape rules the Graph API applies to a server event (docs/graph-errors.md) and returns
// the first broken rule as a *ValidationError wrapping ErrInvalidEvent, or nil. It is meant for the final,
// normalized and hashed event: every hashed user_data field must already be a SHA-256 hex digest.
//
// The checks are deterministic and in a fixed order (root, app_data, user_data, custom_data, extra parameters). now is part
// of the signature for clock-relative rules, but none is applied today: the 7-day window and the future tolerance
// are deliberately left to the eligibility stage, which owns them with their safety margin and per-action_source
// limits, so that an expired event gets the precise reason event_too_old rather than invalid_event.
func Validate(ev *Event, now time.Time) error {
	if err := validateRoot(ev); err != nil {
		return err
	}
	if err := validateAppData(ev.ActionSource, ev.AppData); err != nil {
		return err
	}
	if err := validateUserData(&ev.UserData); err != nil {
		return err
	}
	if err := validateCustomData(ev.EventName, &ev.CustomData); err != nil {
		return err
	}
	return nil
}

func validateRoot(ev *Event) error {
	switch {
	case ev.EventName == "":
		return invalid("event_name", "required")
	case len(ev.EventName) > MaxEventNameLen:
		return invalid("event_name", fmt.Sprintf("longer than %d characters", MaxEventNameLen))
	case !validEventName(ev.EventName):
		return invalid("event_name", "only letters, digits, '_', '-' and spaces are allowed")
	case ev.EventTime <= 0:
		return invalid("event_time", "must be a positive unix time in seconds")
	case ev.ActionSource == "":
		return invalid("action_source", "required")
	case !validActionSource(ev.ActionSource):
		return invalid("action_source", "not one of email, website, app, phone_call, chat, physical_store, "+
			"system_generated, business_messaging, other")
	}
	if ev.ActionSource == "website" {
		if ev.EventSourceURL == "" {
			return invalid("event_source_url", "required when action_source is website")
		}
		if ev.UserData.ClientUserAgent == "" {
			return invalid("user_data.client_user_agent", "required when action_source is website")
		}
	}
	for _, o := range ev.DataProcessingOptions {
		if o != "LDU" {
			return invalid("data_processing_options", `only "LDU" or an empty list is accepted`)
		}
	}
	if ev.HasDataProcessingOptionsCountry && ev.DataProcessingOptionsCountry < 0 {
		return invalid("data_processing_options_country", "must not be negative")
	}
	if ev.HasDataProcessingOptionsState && ev.DataProcessingOptionsState < 0 {
		return invalid("data_processing_options_state", "must not be negative")
	}
	return nil
}

// AppDataHint is the end of the problem reported for an app event without usable app_data: the connector
// cannot make app_data up, the sender must provide it.
const AppDataHint = "send integrations.facebook.app_data with advertiser_tracking_enabled, " +
	"application_tracking_enabled (0/1 or boolean) and extinfo ([\"a2\" or \"i2\", …])"

// validateAppData applies the Graph API's app_data rules: any app_data must be a JSON object; an app event must
// carry one with advertiser_tracking_enabled and application_tracking_enabled (a boolean or 0/1) and extinfo (a
// non-empty array whose first element, the extinfo version, is "a2" for Android or "i2" for iOS). A key that
// appears twice is refused: which of the two values Meta would read is not documented.
func validateAppData(actionSource string, raw []byte) error {
	if len(raw) == 0 {
		if actionSource == "app" {
			return invalid("app_data", "required when action_source is app; "+AppDataHint)
		}
		return nil
	}
	if !json.Valid(raw) {
		return invalid("app_data", "not valid JSON")
	}
	members, ok := topLevelMembers(raw)
	if !ok {
		return invalid("app_data", "must be a JSON object")
	}
	for i := range members {
		for j := range i {
			if members[j].key == members[i].key {
				return invalid("app_data", "a key appears twice")
			}
		}
	}
	if actionSource != "app" {
		return nil
	}
	find := func(k string) json.RawMessage {
		for _, m := range members {
			if m.key == k {
				return m.val
			}
		}
		return nil
	}
	for _, k := range [...]string{"advertiser_tracking_enabled", "application_tracking_enabled"} {
		switch v := find(k); string(v) {
		case "":
			return invalid("app_data."+k, "required when action_source is app; "+AppDataHint)
		case "0", "1", "true", "false":
		default:
			return invalid("app_data."+k, "must be a boolean or 0/1")
		}
	}
	ext := find("extinfo")
	if ext == nil {
		return invalid("app_data.extinfo", "required when action_source is app; "+AppDataHint)
	}
	var extinfo []json.RawMessage
	if err := json.Unmarshal(ext, &extinfo); err != nil || len(extinfo) == 0 {
		return invalid("app_data.extinfo", "must be a non-empty array")
	}
	var version string
	if err := json.Unmarshal(extinfo[0], &version); err != nil || (version != "a2" && version != "i2") {
		return invalid("app_data.extinfo", `must start with the extinfo version "a2" (Android) or "i2" (iOS)`)
	}
	return nil
}

type member struct {
	key string
	val json.RawMessage
}

// topLevelMembers lists the members of a valid JSON document, values compacted; ok is false when it is not an
// object.
func topLevelMembers(raw []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, false
		}
		out = append(out, member{key, buf.Bytes()})
	}
	return out, true
}

func validEventName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ' ') {
			return false
		}
	}
	return true
}

func validActionSource(s string) bool {
	for _, a := range actionSources {
		if s == a {
			return true
		}
	}
	return false
}

func validateUserData(u *UserData) error {
	if u.IsEmpty() {
		return invalid("user_data", "at least one customer information parameter is required")
	}
	if name := firstBadDigest(u); name != "" {
		return invalid("user_data."+name, "not a SHA-256 digest in lowercase hex (64 characters)")
	}
	if u.ClientIPAddress != "" {
		a, err := netip.ParseAddr(u.ClientIPAddress)
		if err != nil || a.Zone() != "" {
			return invalid("user_data.client_ip_address", "not an IPv4 or IPv6 address")
		}
	}
	if u.FBC != "" && !ValidFBC(u.FBC) {
		return invalid("user_data.fbc", "not of the form fb.<0-2>.<creation time in ms>.<fbclid>")
	}
	if u.FBP != "" && !ValidFBP(u.FBP) {
		return invalid("user_data.fbp", "not of the form fb.<0-2>.<creation time in ms>.<random number>")
	}
	return nil
}

// firstBadDigest returns the key of the first hashed field of u that is set but not a SHA-256 in lowercase hex,
// or "". Field by field rather than over an array of (key, value) pairs: building that array copied every
// value for each event.
func firstBadDigest(u *UserData) string {
	switch {
	case !optionalSHA256Hex(u.Em):
		return "em"
	case !optionalSHA256Hex(u.Ph):
		return "ph"
	case !optionalSHA256Hex(u.Fn):
		return "fn"
	case !optionalSHA256Hex(u.Ln):
		return "ln"
	case !optionalSHA256Hex(u.Ge):
		return "ge"
	case !optionalSHA256Hex(u.Db):
		return "db"
	case !optionalSHA256Hex(u.Ct):
		return "ct"
	case !optionalSHA256Hex(u.St):
		return "st"
	case !optionalSHA256Hex(u.Zp):
		return "zp"
	case !optionalSHA256Hex(u.Country):
		return "country"
	case !optionalSHA256Hex(u.ExternalID):
		return "external_id"
	}
	return ""
}

func optionalSHA256Hex(s string) bool { return s == "" || IsSHA256Hex(s) }

func validateCustomData(eventName string, c *CustomData) error {
	if c.HasValue && !finite(c.Value) {
		return invalid("custom_data.value", "must be a finite number")
	}
	if c.Currency != "" && !validCurrency(c.Currency) {
		return invalid("custom_data.currency", "not a 3-letter ISO 4217 code")
	}
	if eventName == "Purchase" {
		if !c.HasValue {
			return invalid("custom_data.value", "required for Purchase")
		}
		if c.Currency == "" {
			return invalid("custom_data.currency", "required for Purchase")
		}
	}
	if c.HasNumItems && c.NumItems < 0 {
		return invalid("custom_data.num_items", "must not be negative")
	}
	for i := range c.Contents {
		it := &c.Contents[i]
		switch {
		case it.ID == "":
			return invalid(fmt.Sprintf("custom_data.contents[%d].id", i), "required")
		case it.Quantity < 0:
			return invalid(fmt.Sprintf("custom_data.contents[%d].quantity", i), "must not be negative")
		case it.HasItemPrice && !finite(it.ItemPrice):
			return invalid(fmt.Sprintf("custom_data.contents[%d].item_price", i), "must be a finite number")
		}
	}
	var seen map[string]struct{} // for long parameter lists only: a short one is scanned, a long one indexed
	if len(c.Extra) > 16 {
		seen = make(map[string]struct{}, len(c.Extra))
	}
	for i := range c.Extra {
		if problem := extraProblem(c.Extra, i, seen); problem != "" {
			// Formatted only here: the name of every parameter of every valid event would cost an allocation.
			return invalid(fmt.Sprintf("custom_data.extra[%d]", i), problem)
		}
	}
	return nil
}

// extraProblem returns what is wrong with the custom parameter extra[i], or "". seen, when not nil, holds the
// keys of extra[:i] and receives extra[i]'s: duplicates are then found in constant time instead of a scan.
func extraProblem(extra []Param, i int, seen map[string]struct{}) string {
	p := &extra[i]
	if p.Key == "" {
		return "key must not be empty"
	}
	for _, k := range typedCustomKeys {
		if p.Key == k {
			return "key repeats a standard custom_data parameter"
		}
	}
	if seen != nil {
		if _, dup := seen[p.Key]; dup {
			return "key appears twice"
		}
		seen[p.Key] = struct{}{}
	} else {
		for j := range i {
			if extra[j].Key == p.Key {
				return "key appears twice"
			}
		}
	}
	if !json.Valid(p.Value) {
		return "value is not valid JSON"
	}
	return ""
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// IsSHA256Hex reports whether s is a SHA-256 digest as the Graph API expects hashed parameters: exactly 64
// lowercase hexadecimal characters.
func IsSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	// Eight bytes at a time, without a branch until the end: every event carries up to eleven digests, and this
	// runs on all of them.
	var bad uint64
	for i := 0; i < len(s); i += 8 {
		bad |= notLowerHex8(load64(s, i))
	}
	return bad&0x8080808080808080 == 0
}

// notLowerHex8 returns a word with the top bit of some byte set exactly when a byte of w is not in '0'-'9' or
// 'a'-'f'. For an ASCII byte x, x+0x80-c has its top bit set exactly when x >= c, and carries into no other
// byte; a non-ASCII byte sets its own top bit through w (whatever its carry does to the bytes above).
func notLowerHex8(w uint64) uint64 {
	const lsb = 0x0101010101010101
	digit := (w + (0x80-'0')*lsb) &^ (w + (0x80-'9'-1)*lsb)
	lower := (w + (0x80-'a')*lsb) &^ (w + (0x80-'f'-1)*lsb)
	return w | ^(digit | lower)
}

// ValidFBP reports whether s has the _fbp cookie shape fb.<subdomainIndex>.<creationTime>.<randomNumber>:
// subdomainIndex 0, 1 or 2, creationTime a 13-digit unix time in milliseconds, randomNumber one or more digits.
func ValidFBP(s string) bool {
	rest, ok := fbPrefix(s)
	if !ok {
		return false
	}
	return rest != "" && allDigits(rest)
}

// ValidFBC reports whether s has the _fbc cookie shape fb.<subdomainIndex>.<creationTime>.<fbclid>:
// subdomainIndex 0, 1 or 2, creationTime a 13-digit unix time in milliseconds, fbclid non-empty. The fbclid is
// opaque (it may contain dots, dashes, underscores) and is not otherwise checked.
func ValidFBC(s string) bool {
	rest, ok := fbPrefix(s)
	return ok && rest != ""
}

// fbPrefix checks "fb.<0-2>.<13 digits>." and returns what follows it.
func fbPrefix(s string) (string, bool) {
	const head = len("fb.0.") + 13 + 1
	if len(s) < head || s[:3] != "fb." || s[3] < '0' || s[3] > '2' || s[4] != '.' || s[head-1] != '.' {
		return "", false
	}
	if !allDigits(s[5 : head-1]) {
		return "", false
	}
	return s[head:], true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// load64 reads s[i:i+8] as a little-endian word (the compiler turns this into one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
