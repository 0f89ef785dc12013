package capitest

import (
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/valyala/fastjson"
)

// The windows the Graph API applies to event_time. FutureTolerance is the simulator's choice: Meta refuses
// events "in the future" without publishing its allowance for clock skew.
const (
	MaxEventAge              = 7 * 24 * time.Hour
	MaxPhysicalStoreEventAge = 62 * 24 * time.Hour
	FutureTolerance          = 10 * time.Minute
)

// eventKeys are the parameters a server event may carry; anything else is refused as Meta refuses it.
var eventKeys = map[string]bool{
	"event_name": true, "event_time": true, "event_id": true, "event_source_url": true, "referrer_url": true,
	"action_source": true, "opt_out": true, "data_processing_options": true,
	"data_processing_options_country": true, "data_processing_options_state": true, "user_data": true,
	"custom_data": true, "app_data": true, "original_event_data": true, "attribution_data": true,
	"messaging_channel": true,
}

var actionSources = map[string]bool{
	"email": true, "website": true, "app": true, "phone_call": true, "chat": true, "physical_store": true,
	"system_generated": true, "business_messaging": true, "other": true,
}

// hashedUserKeys must be SHA-256 digests: 64 lowercase hexadecimal characters, alone or in an array.
var hashedUserKeys = map[string]bool{
	"em": true, "ph": true, "fn": true, "ln": true, "ge": true, "db": true, "ct": true, "st": true, "zp": true,
	"country": true, "doby": true, "dobm": true, "dobd": true,
}

// idUserKeys are identifiers sent in clear, as a string or an integer.
var idUserKeys = map[string]bool{
	"subscription_id": true, "fb_login_id": true, "lead_id": true, "anon_id": true, "madid": true, "page_id": true,
	"page_scoped_user_id": true, "ctwa_clid": true, "ig_account_id": true, "ig_sid": true,
}

// weakCustomerSets are Meta's baseline: customer information made only of keys from one of these sets cannot
// match anyone and the event is refused (2804050).
var weakCustomerSets = []map[string]bool{
	{"ct": true, "country": true, "st": true, "zp": true, "ge": true, "client_user_agent": true},
	{"db": true, "client_user_agent": true},
	{"fn": true, "ge": true},
	{"ln": true, "ge": true},
}

// acceptedEvent is what the server records about a valid event.
type acceptedEvent struct {
	name, id, actionSource string
	time                   int64
}

// eventChecker validates the events of one request in turn; index is the position in data of the event being
// checked, now the simulator's clock. Its maps are scratch space reused from event to event.
type eventChecker struct {
	index int
	now   time.Time

	fields        map[string]*fastjson.Value
	present, seen map[string]bool
}

func newEventChecker(now time.Time) *eventChecker {
	return &eventChecker{now: now, fields: map[string]*fastjson.Value{}, present: map[string]bool{},
		seen: map[string]bool{}}
}

func (c *eventChecker) invalid(format string, args ...any) *graphError {
	return eventError(SubcodeInvalidParameter, c.index, "Invalid Parameter", format, args...)
}

func (c *eventChecker) missing(param, why string) *graphError {
	return eventError(SubcodeMissingParameter, c.index, "Missing Required Parameter",
		"The parameter %s is required%s.", param, why)
}

// check validates ev and returns the accepted summary or the Graph error refusing the whole request.
// Checks run in a fixed order so the same payload always earns the same answer: keys and types, required
// parameters, time window, per-action_source requirements, user_data, custom_data.
func (c *eventChecker) check(ev *fastjson.Value) (acceptedEvent, *graphError) {
	var out acceptedEvent
	obj, err := ev.Object()
	if err != nil {
		return out, c.invalid("Each element of data must be a JSON object.")
	}
	fields := c.fields
	clear(fields)
	var gerr *graphError
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if gerr != nil {
			return
		}
		key := string(k)
		switch {
		case !eventKeys[key]:
			gerr = c.invalid("Unexpected key %q on the event.", key)
		case fields[key] != nil:
			gerr = c.invalid("The parameter %s appears more than once.", key)
		default:
			fields[key] = v
		}
	})
	if gerr != nil {
		return out, gerr
	}

	// event_name
	nameV := fields["event_name"]
	if nameV == nil {
		return out, c.missing("event_name", "")
	}
	if s, ok := str(nameV); !ok || s == "" {
		return out, c.invalid("The parameter event_name must be a non-empty string.")
	} else {
		out.name = s
	}

	// event_time
	timeV := fields["event_time"]
	if timeV == nil {
		return out, c.missing("event_time", "")
	}
	t, ok := integer(timeV)
	if !ok || t <= 0 {
		return out, c.invalid("The parameter event_time must be a positive integer number of seconds since the Unix epoch.")
	}
	out.time = t

	// action_source
	asV := fields["action_source"]
	if asV == nil {
		return out, c.missing("action_source", "")
	}
	if s, ok := str(asV); !ok || !actionSources[s] {
		return out, c.invalid("The parameter action_source must be one of email, website, app, phone_call, chat, " +
			"physical_store, system_generated, business_messaging, other.")
	} else {
		out.actionSource = s
	}

	if v := fields["event_id"]; v != nil {
		s, ok := str(v)
		if !ok || s == "" {
			return out, c.invalid("The parameter event_id must be a non-empty string.")
		}
		out.id = s
	}
	for _, k := range [...]string{"event_source_url", "referrer_url"} {
		if v := fields[k]; v != nil {
			if s, ok := str(v); !ok || !absoluteURL(s) {
				return out, c.invalid("The parameter %s must be an absolute http(s) URL.", k)
			}
		}
	}
	if v := fields["opt_out"]; v != nil && v.Type() != fastjson.TypeTrue && v.Type() != fastjson.TypeFalse {
		return out, c.invalid("The parameter opt_out must be a boolean.")
	}
	if e := c.checkDataProcessing(fields); e != nil {
		return out, e
	}
	if v := fields["messaging_channel"]; v != nil {
		if _, ok := str(v); !ok {
			return out, c.invalid("The parameter messaging_channel must be a string.")
		}
	}
	for _, k := range [...]string{"original_event_data", "attribution_data"} {
		if v := fields[k]; v != nil && v.Type() != fastjson.TypeObject {
			return out, c.invalid("The parameter %s must be an object.", k)
		}
	}

	// time window, measured against the simulator's clock
	age := MaxEventAge
	if out.actionSource == "physical_store" {
		age = MaxPhysicalStoreEventAge
	}
	evTime := time.Unix(t, 0)
	if evTime.Before(c.now.Add(-age)) {
		return out, eventError(SubcodeEventTooOld, c.index, "Event Timestamp Too Old",
			"The timestamp for this event is too far in the past. Events need to be sent from your server within "+
				"%d days of when they occurred. Enter a timestamp that has occurred within the last %d days.",
			int(age/(24*time.Hour)), int(age/(24*time.Hour)))
	}
	if evTime.After(c.now.Add(FutureTolerance)) {
		return out, eventError(SubcodeEventInFuture, c.index, "Event Timestamp In The Future",
			"The timestamp for this event is in the future. Enter the time the event actually occurred, "+
				"in seconds since the Unix epoch.")
	}

	// user_data
	udV := fields["user_data"]
	if udV == nil {
		return out, c.missing("user_data", "")
	}
	present, e := c.checkUserData(udV)
	if e != nil {
		return out, e
	}

	// per action_source requirements
	switch out.actionSource {
	case "website":
		if fields["event_source_url"] == nil {
			return out, c.missing("event_source_url", " for website events")
		}
		if !present["client_user_agent"] {
			return out, c.missing("user_data.client_user_agent", " for website events")
		}
	case "app":
		if e := c.checkAppData(fields["app_data"]); e != nil {
			return out, e
		}
	}
	if v := fields["app_data"]; v != nil && out.actionSource != "app" && v.Type() != fastjson.TypeObject {
		return out, c.invalid("The parameter app_data must be an object.")
	}

	if weakCustomerInformation(present) {
		return out, eventError(SubcodeInsufficientCustomerInfo, c.index, "Insufficient Customer Information",
			"The event you sent does not have enough customer information parameters to match the event to "+
				"a person. Add customer information parameters such as email (em), phone (ph), external_id, "+
				"fbp or fbc.")
	}

	return out, c.checkCustomData(fields["custom_data"], out.name)
}

func (c *eventChecker) checkDataProcessing(fields map[string]*fastjson.Value) *graphError {
	if v := fields["data_processing_options"]; v != nil {
		arr, err := v.Array()
		if err != nil {
			return c.invalid("The parameter data_processing_options must be an array.")
		}
		for _, o := range arr {
			if s, ok := str(o); !ok || s != "LDU" {
				return c.invalid(`The parameter data_processing_options accepts only "LDU" or an empty array.`)
			}
		}
	}
	if v := fields["data_processing_options_country"]; v != nil {
		if n, ok := integer(v); !ok || (n != 0 && n != 1) {
			return c.invalid("The parameter data_processing_options_country must be 0 or 1.")
		}
	}
	if v := fields["data_processing_options_state"]; v != nil {
		if n, ok := integer(v); !ok || (n != 0 && n != 1000) {
			return c.invalid("The parameter data_processing_options_state must be 0 or 1000.")
		}
	}
	return nil
}

// checkUserData validates every user_data parameter and returns the set of keys present.
func (c *eventChecker) checkUserData(v *fastjson.Value) (map[string]bool, *graphError) {
	obj, err := v.Object()
	if err != nil {
		return nil, c.invalid("The parameter user_data must be an object.")
	}
	present := c.present
	clear(present)
	var gerr *graphError
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if gerr != nil {
			return
		}
		key := string(k)
		if present[key] {
			gerr = c.invalid("The parameter user_data.%s appears more than once.", key)
			return
		}
		present[key] = true
		gerr = c.checkUserField(key, v)
	})
	return present, gerr
}

func (c *eventChecker) checkUserField(key string, v *fastjson.Value) *graphError {
	switch {
	case hashedUserKeys[key]:
		return c.eachString(key, v, func(s string) *graphError {
			if !isSHA256Hex(s) {
				// The value is personal data: it is never echoed.
				return eventError(SubcodeNotHashed, c.index, "User Data Parameter Not Hashed",
					"The parameter user_data.%s must be hashed with SHA-256 and sent as 64 lowercase "+
						"hexadecimal characters.", key)
			}
			return nil
		})
	case key == "external_id":
		// Meta recommends hashing external_id but accepts it in clear.
		return c.eachString(key, v, func(s string) *graphError {
			if s == "" {
				return c.invalid("The parameter user_data.external_id must not be empty.")
			}
			return nil
		})
	case key == "client_ip_address":
		s, ok := str(v)
		if !ok {
			return c.invalid("The parameter user_data.client_ip_address must be a string.")
		}
		if _, err := netip.ParseAddr(s); err != nil || hasZone(s) {
			return c.invalid("The parameter user_data.client_ip_address is not a valid IPv4 or IPv6 address.")
		}
	case key == "client_user_agent":
		if s, ok := str(v); !ok || s == "" {
			return c.invalid("The parameter user_data.client_user_agent must be a non-empty string.")
		}
	case key == "fbc":
		if s, ok := str(v); !ok || !validFBC(s) {
			return c.invalid("The parameter user_data.fbc must have the format " +
				"fb.${subdomain_index}.${creation_time_ms}.${fbclid}.")
		}
	case key == "fbp":
		if s, ok := str(v); !ok || !validFBP(s) {
			return c.invalid("The parameter user_data.fbp must have the format " +
				"fb.${subdomain_index}.${creation_time_ms}.${random_number}.")
		}
	case idUserKeys[key]:
		if s, ok := str(v); ok && s != "" {
			return nil
		}
		if _, ok := integer(v); ok {
			return nil
		}
		return c.invalid("The parameter user_data.%s must be a non-empty string or an integer.", key)
	default:
		return c.invalid("Unexpected key %q on the parameter user_data.", key)
	}
	return nil
}

// eachString applies f to v when v is a string, or to each element when v is a non-empty array of strings.
func (c *eventChecker) eachString(key string, v *fastjson.Value, f func(string) *graphError) *graphError {
	if s, ok := str(v); ok {
		return f(s)
	}
	arr, err := v.Array()
	if err != nil || len(arr) == 0 {
		return c.invalid("The parameter user_data.%s must be a string or a non-empty array of strings.", key)
	}
	for _, e := range arr {
		s, ok := str(e)
		if !ok {
			return c.invalid("The parameter user_data.%s must be a string or a non-empty array of strings.", key)
		}
		if gerr := f(s); gerr != nil {
			return gerr
		}
	}
	return nil
}

func (c *eventChecker) checkAppData(v *fastjson.Value) *graphError {
	if v == nil {
		return c.missing("app_data", " for app events")
	}
	obj, err := v.Object()
	if err != nil {
		return c.invalid("The parameter app_data must be an object.")
	}
	for _, k := range [...]string{"advertiser_tracking_enabled", "application_tracking_enabled"} {
		f := obj.Get(k)
		if f == nil {
			return c.missing("app_data."+k, " for app events")
		}
		if n, ok := integer(f); !(ok && (n == 0 || n == 1)) && f.Type() != fastjson.TypeTrue &&
			f.Type() != fastjson.TypeFalse {
			return c.invalid("The parameter app_data.%s must be a boolean or 0/1.", k)
		}
	}
	ext := obj.Get("extinfo")
	if ext == nil {
		return c.missing("app_data.extinfo", " for app events")
	}
	arr, err := ext.Array()
	if err != nil || len(arr) == 0 {
		return c.invalid("The parameter app_data.extinfo must be a non-empty array.")
	}
	if s, ok := str(arr[0]); !ok || (s != "a2" && s != "i2") {
		return c.invalid(`The parameter app_data.extinfo must start with "a2" (Android) or "i2" (iOS).`)
	}
	return nil
}

func (c *eventChecker) checkCustomData(v *fastjson.Value, eventName string) *graphError {
	if v == nil {
		if eventName == "Purchase" {
			return c.missing("custom_data.value", " for Purchase events; value and currency are both required")
		}
		return nil
	}
	obj, err := v.Object()
	if err != nil {
		return c.invalid("The parameter custom_data must be an object.")
	}
	seen := c.seen
	clear(seen)
	var gerr *graphError
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if gerr != nil {
			return
		}
		key := string(k)
		if seen[key] {
			gerr = c.invalid("The parameter custom_data.%s appears more than once.", key)
			return
		}
		seen[key] = true
		gerr = c.checkCustomField(key, v)
	})
	if gerr != nil {
		return gerr
	}
	if eventName == "Purchase" {
		for _, k := range [...]string{"value", "currency"} {
			if !seen[k] {
				return c.missing("custom_data."+k, " for Purchase events; value and currency are both required")
			}
		}
	}
	return nil
}

// checkCustomField checks the standard custom_data parameters; custom parameters may hold any JSON.
func (c *eventChecker) checkCustomField(key string, v *fastjson.Value) *graphError {
	switch key {
	case "value", "predicted_ltv":
		if _, ok := finite(v); !ok {
			return c.invalid("The parameter custom_data.%s must be a number.", key)
		}
	case "currency":
		if s, ok := str(v); !ok || !isCurrency(s) {
			return c.invalid("The parameter custom_data.currency must be a 3-letter ISO 4217 currency code.")
		}
	case "order_id", "search_string", "content_name", "content_category", "status", "delivery_category":
		if _, ok := str(v); !ok {
			return c.invalid("The parameter custom_data.%s must be a string.", key)
		}
	case "content_type":
		if s, ok := str(v); !ok || (s != "product" && s != "product_group") {
			return c.invalid(`The parameter custom_data.content_type must be "product" or "product_group".`)
		}
	case "num_items":
		if n, ok := integer(v); !ok || n < 0 {
			return c.invalid("The parameter custom_data.num_items must be a non-negative integer.")
		}
	case "content_ids":
		arr, err := v.Array()
		if err != nil {
			return c.invalid("The parameter custom_data.content_ids must be an array of strings.")
		}
		for _, e := range arr {
			if s, ok := str(e); !ok || s == "" {
				return c.invalid("The parameter custom_data.content_ids must be an array of non-empty strings.")
			}
		}
	case "contents":
		arr, err := v.Array()
		if err != nil {
			return c.invalid("The parameter custom_data.contents must be an array of objects.")
		}
		for i, e := range arr {
			if gerr := c.checkContent(i, e); gerr != nil {
				return gerr
			}
		}
	}
	return nil
}

func (c *eventChecker) checkContent(i int, v *fastjson.Value) *graphError {
	obj, err := v.Object()
	if err != nil {
		return c.invalid("The parameter custom_data.contents[%d] must be an object.", i)
	}
	id := obj.Get("id")
	if id == nil {
		return c.missing("custom_data.contents["+strconv.Itoa(i)+"].id", "")
	}
	if s, ok := str(id); !ok || s == "" {
		return c.invalid("The parameter custom_data.contents[%d].id must be a non-empty string.", i)
	}
	q := obj.Get("quantity")
	if q == nil {
		return c.missing("custom_data.contents["+strconv.Itoa(i)+"].quantity", "")
	}
	if n, ok := integer(q); !ok || n < 0 {
		return c.invalid("The parameter custom_data.contents[%d].quantity must be a non-negative integer.", i)
	}
	if p := obj.Get("item_price"); p != nil {
		if _, ok := finite(p); !ok {
			return c.invalid("The parameter custom_data.contents[%d].item_price must be a number.", i)
		}
	}
	return nil
}

// weakCustomerInformation applies Meta's baseline: no customer information at all, or only keys from one of the
// weak sets.
func weakCustomerInformation(present map[string]bool) bool {
	for _, set := range weakCustomerSets {
		subset := true
		for k := range present {
			if !set[k] {
				subset = false
				break
			}
		}
		if subset {
			return true
		}
	}
	return false
}

func str(v *fastjson.Value) (string, bool) {
	if v.Type() != fastjson.TypeString {
		return "", false
	}
	b, _ := v.StringBytes()
	return string(b), true
}

// integer accepts a JSON number written as an integer ("12"), never "12.0" or "1.2e1": Meta documents these
// parameters as integers and a sender writing floats is a bug worth seeing.
func integer(v *fastjson.Value) (int64, bool) {
	if v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	n, err := v.Int64()
	return n, err == nil
}

func finite(v *fastjson.Value) (float64, bool) {
	if v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	f, err := v.Float64()
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func hasZone(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			return true
		}
	}
	return false
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// validFBC checks fb.<0-2>.<13-digit ms timestamp>.<fbclid>, the fbc cookie shape.
func validFBC(s string) bool {
	rest, ok := fbPrefix(s)
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] <= ' ' || rest[i] == 0x7f {
			return false
		}
	}
	return true
}

// validFBP checks fb.<0-2>.<13-digit ms timestamp>.<random number>, the fbp cookie shape.
func validFBP(s string) bool {
	rest, ok := fbPrefix(s)
	return ok && rest != "" && allDigits(rest)
}

// fbPrefix consumes "fb.<0-2>.<13 digits>." and returns what follows.
func fbPrefix(s string) (string, bool) {
	const n = len("fb.1.") + 13 + 1
	if len(s) < n || s[:3] != "fb." || s[3] < '0' || s[3] > '2' || s[4] != '.' || s[n-1] != '.' ||
		!allDigits(s[5:n-1]) {
		return "", false
	}
	return s[n:], true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
