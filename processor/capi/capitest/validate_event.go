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

// Event keys, user_data keys and their sets are switches and bit masks rather than maps: the checker runs for
// every event and map hashing dominated it.

// The parameters a server event may carry (eventKey); anything else is refused as Meta refuses it.
const (
	evEventName = iota
	evEventTime
	evEventID
	evEventSourceURL
	evReferrerURL
	evActionSource
	evOptOut
	evDPO
	evDPOCountry
	evDPOState
	evUserData
	evCustomData
	evAppData
	evOriginalEventData
	evAttributionData
	evMessagingChannel
	numEventKeys
)

func eventKey(k []byte) int {
	switch string(k) {
	case "event_name":
		return evEventName
	case "event_time":
		return evEventTime
	case "event_id":
		return evEventID
	case "event_source_url":
		return evEventSourceURL
	case "referrer_url":
		return evReferrerURL
	case "action_source":
		return evActionSource
	case "opt_out":
		return evOptOut
	case "data_processing_options":
		return evDPO
	case "data_processing_options_country":
		return evDPOCountry
	case "data_processing_options_state":
		return evDPOState
	case "user_data":
		return evUserData
	case "custom_data":
		return evCustomData
	case "app_data":
		return evAppData
	case "original_event_data":
		return evOriginalEventData
	case "attribution_data":
		return evAttributionData
	case "messaging_channel":
		return evMessagingChannel
	}
	return -1
}

// actionSource returns the accepted action_source value as a constant string, or "" when b is none of them.
func actionSource(b []byte) string {
	switch string(b) {
	case "email":
		return "email"
	case "website":
		return "website"
	case "app":
		return "app"
	case "phone_call":
		return "phone_call"
	case "chat":
		return "chat"
	case "physical_store":
		return "physical_store"
	case "system_generated":
		return "system_generated"
	case "business_messaging":
		return "business_messaging"
	case "other":
		return "other"
	}
	return ""
}

// user_data keys, as bits of a uint32 set. The hashed ones (up to udDobd) must be SHA-256 digests: 64 lowercase
// hexadecimal characters, alone or in an array; the id ones (from udSubscriptionID) are identifiers sent in
// clear, as a string or an integer.
const (
	udEm = iota
	udPh
	udFn
	udLn
	udGe
	udDb
	udCt
	udSt
	udZp
	udCountry
	udDoby
	udDobm
	udDobd
	udExternalID
	udClientIP
	udClientUserAgent
	udFbc
	udFbp
	udSubscriptionID
	udFbLoginID
	udLeadID
	udAnonID
	udMadid
	udPageID
	udPageScopedUserID
	udCtwaClid
	udIgAccountID
	udIgSid
	numUserKeys
)

var userKeyNames = [numUserKeys]string{
	"em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "doby", "dobm", "dobd", "external_id",
	"client_ip_address", "client_user_agent", "fbc", "fbp", "subscription_id", "fb_login_id", "lead_id", "anon_id",
	"madid", "page_id", "page_scoped_user_id", "ctwa_clid", "ig_account_id", "ig_sid",
}

// userKey returns the index of a user_data key in userKeyNames, or -1.
func userKey(k []byte) int {
	switch string(k) {
	case "em":
		return udEm
	case "ph":
		return udPh
	case "fn":
		return udFn
	case "ln":
		return udLn
	case "ge":
		return udGe
	case "db":
		return udDb
	case "ct":
		return udCt
	case "st":
		return udSt
	case "zp":
		return udZp
	case "country":
		return udCountry
	case "doby":
		return udDoby
	case "dobm":
		return udDobm
	case "dobd":
		return udDobd
	case "external_id":
		return udExternalID
	case "client_ip_address":
		return udClientIP
	case "client_user_agent":
		return udClientUserAgent
	case "fbc":
		return udFbc
	case "fbp":
		return udFbp
	case "subscription_id":
		return udSubscriptionID
	case "fb_login_id":
		return udFbLoginID
	case "lead_id":
		return udLeadID
	case "anon_id":
		return udAnonID
	case "madid":
		return udMadid
	case "page_id":
		return udPageID
	case "page_scoped_user_id":
		return udPageScopedUserID
	case "ctwa_clid":
		return udCtwaClid
	case "ig_account_id":
		return udIgAccountID
	case "ig_sid":
		return udIgSid
	}
	return -1
}

// userKeySet is a set of user_data keys, bit i standing for userKeyNames[i].
type userKeySet uint32

func userKeys(keys ...int) userKeySet {
	var s userKeySet
	for _, k := range keys {
		s |= 1 << k
	}
	return s
}

// weakCustomerSets are Meta's baseline: customer information made only of keys from one of these sets cannot
// match anyone and the event is refused (2804050).
var weakCustomerSets = [...]userKeySet{
	userKeys(udCt, udCountry, udSt, udZp, udGe, udClientUserAgent),
	userKeys(udDb, udClientUserAgent),
	userKeys(udFn, udGe),
	userKeys(udLn, udGe),
}

// acceptedEvent is what the server records about a valid event. name and id view the parser's memory: they are
// valid until the parser is reused and are copied (all events' in one allocation) before that.
type acceptedEvent struct {
	name, id     []byte
	actionSource string
	time         int64
}

// eventChecker validates the events of one request in turn; index is the position in data of the event being
// checked, now the simulator's clock. Its fields are scratch space reused from event to event.
type eventChecker struct {
	index int
	now   time.Time

	// lastURL is the last URL absoluteURL accepted: events of one request usually share their URLs, and the
	// answer for the same text is the same.
	lastURL []byte
	// customKeys and seen detect repeated custom_data keys (a linear scan for small objects, a map for big ones).
	customKeys [][]byte
	seen       map[string]bool
}

func newEventChecker(now time.Time) *eventChecker {
	return &eventChecker{now: now}
}

func (c *eventChecker) invalid(format string, args ...any) *graphError {
	return eventError(SubcodeInvalidParameter, c.index, "Invalid Parameter", format, args...)
}

func (c *eventChecker) missing(param, why string) *graphError {
	return eventError(SubcodeMissingParameter, c.index, "Missing Required Parameter",
		"The parameter %s is required%s.", param, why)
}

// eventFields are an event's parameters by eventKey.
type eventFields [numEventKeys]*fastjson.Value

// check validates ev and returns the accepted summary or the Graph error refusing the whole request.
// Checks run in a fixed order so the same payload always earns the same answer: keys and types, required
// parameters, time window, per-action_source requirements, user_data, custom_data.
func (c *eventChecker) check(ev *fastjson.Value) (acceptedEvent, *graphError) {
	var out acceptedEvent
	obj, err := ev.Object()
	if err != nil {
		return out, c.invalid("Each element of data must be a JSON object.")
	}
	var fields eventFields
	var gerr *graphError
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if gerr != nil {
			return
		}
		switch i := eventKey(k); {
		case i < 0:
			gerr = c.invalid("Unexpected key %q on the event.", string(k))
		case fields[i] != nil:
			gerr = c.invalid("The parameter %s appears more than once.", string(k))
		default:
			fields[i] = v
		}
	})
	if gerr != nil {
		return out, gerr
	}

	// event_name
	nameV := fields[evEventName]
	if nameV == nil {
		return out, c.missing("event_name", "")
	}
	if s, ok := str(nameV); !ok || len(s) == 0 {
		return out, c.invalid("The parameter event_name must be a non-empty string.")
	} else {
		out.name = s
	}

	// event_time
	timeV := fields[evEventTime]
	if timeV == nil {
		return out, c.missing("event_time", "")
	}
	t, ok := integer(timeV)
	if !ok || t <= 0 {
		return out, c.invalid("The parameter event_time must be a positive integer number of seconds since the Unix epoch.")
	}
	out.time = t

	// action_source
	asV := fields[evActionSource]
	if asV == nil {
		return out, c.missing("action_source", "")
	}
	if s, ok := str(asV); !ok || actionSource(s) == "" {
		return out, c.invalid("The parameter action_source must be one of email, website, app, phone_call, chat, " +
			"physical_store, system_generated, business_messaging, other.")
	} else {
		out.actionSource = actionSource(s)
	}

	if v := fields[evEventID]; v != nil {
		s, ok := str(v)
		if !ok || len(s) == 0 {
			return out, c.invalid("The parameter event_id must be a non-empty string.")
		}
		out.id = s
	}
	for _, k := range [...]struct {
		i    int
		name string
	}{{evEventSourceURL, "event_source_url"}, {evReferrerURL, "referrer_url"}} {
		if v := fields[k.i]; v != nil {
			if s, ok := str(v); !ok || !c.absoluteURL(s) {
				return out, c.invalid("The parameter %s must be an absolute http(s) URL.", k.name)
			}
		}
	}
	if v := fields[evOptOut]; v != nil && v.Type() != fastjson.TypeTrue && v.Type() != fastjson.TypeFalse {
		return out, c.invalid("The parameter opt_out must be a boolean.")
	}
	if e := c.checkDataProcessing(&fields); e != nil {
		return out, e
	}
	if v := fields[evMessagingChannel]; v != nil {
		if _, ok := str(v); !ok {
			return out, c.invalid("The parameter messaging_channel must be a string.")
		}
	}
	for _, k := range [...]struct {
		i    int
		name string
	}{{evOriginalEventData, "original_event_data"}, {evAttributionData, "attribution_data"}} {
		if v := fields[k.i]; v != nil && v.Type() != fastjson.TypeObject {
			return out, c.invalid("The parameter %s must be an object.", k.name)
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
	udV := fields[evUserData]
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
		if fields[evEventSourceURL] == nil {
			return out, c.missing("event_source_url", " for website events")
		}
		if present&(1<<udClientUserAgent) == 0 {
			return out, c.missing("user_data.client_user_agent", " for website events")
		}
	case "app":
		if e := c.checkAppData(fields[evAppData]); e != nil {
			return out, e
		}
	}
	if v := fields[evAppData]; v != nil && out.actionSource != "app" && v.Type() != fastjson.TypeObject {
		return out, c.invalid("The parameter app_data must be an object.")
	}

	if weakCustomerInformation(present) {
		return out, eventError(SubcodeInsufficientCustomerInfo, c.index, "Insufficient Customer Information",
			"The event you sent does not have enough customer information parameters to match the event to "+
				"a person. Add customer information parameters such as email (em), phone (ph), external_id, "+
				"fbp or fbc.")
	}

	return out, c.checkCustomData(fields[evCustomData], string(out.name) == "Purchase")
}

func (c *eventChecker) checkDataProcessing(fields *eventFields) *graphError {
	if v := fields[evDPO]; v != nil {
		arr, err := v.Array()
		if err != nil {
			return c.invalid("The parameter data_processing_options must be an array.")
		}
		for _, o := range arr {
			if s, ok := str(o); !ok || string(s) != "LDU" {
				return c.invalid(`The parameter data_processing_options accepts only "LDU" or an empty array.`)
			}
		}
	}
	if v := fields[evDPOCountry]; v != nil {
		if n, ok := integer(v); !ok || (n != 0 && n != 1) {
			return c.invalid("The parameter data_processing_options_country must be 0 or 1.")
		}
	}
	if v := fields[evDPOState]; v != nil {
		if n, ok := integer(v); !ok || (n != 0 && n != 1000) {
			return c.invalid("The parameter data_processing_options_state must be 0 or 1000.")
		}
	}
	return nil
}

// checkUserData validates every user_data parameter and returns the set of keys present.
func (c *eventChecker) checkUserData(v *fastjson.Value) (userKeySet, *graphError) {
	obj, err := v.Object()
	if err != nil {
		return 0, c.invalid("The parameter user_data must be an object.")
	}
	var present userKeySet
	var gerr *graphError
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if gerr != nil {
			return
		}
		i := userKey(k)
		if i < 0 {
			// An unknown key is refused at its first occurrence, so it can never be seen twice.
			gerr = c.invalid("Unexpected key %q on the parameter user_data.", string(k))
			return
		}
		if present&(1<<i) != 0 {
			gerr = c.invalid("The parameter user_data.%s appears more than once.", userKeyNames[i])
			return
		}
		present |= 1 << i
		gerr = c.checkUserField(i, v)
	})
	return present, gerr
}

func (c *eventChecker) checkUserField(i int, v *fastjson.Value) *graphError {
	key := userKeyNames[i]
	switch {
	case i <= udDobd:
		return c.eachString(key, v, func(s []byte) *graphError {
			if !isSHA256Hex(s) {
				// The value is personal data: it is never echoed.
				return eventError(SubcodeNotHashed, c.index, "User Data Parameter Not Hashed",
					"The parameter user_data.%s must be hashed with SHA-256 and sent as 64 lowercase "+
						"hexadecimal characters.", key)
			}
			return nil
		})
	case i == udExternalID:
		// Meta recommends hashing external_id but accepts it in clear.
		return c.eachString(key, v, func(s []byte) *graphError {
			if len(s) == 0 {
				return c.invalid("The parameter user_data.external_id must not be empty.")
			}
			return nil
		})
	case i == udClientIP:
		s, ok := str(v)
		if !ok {
			return c.invalid("The parameter user_data.client_ip_address must be a string.")
		}
		if !validIP(s) {
			return c.invalid("The parameter user_data.client_ip_address is not a valid IPv4 or IPv6 address.")
		}
	case i == udClientUserAgent:
		if s, ok := str(v); !ok || len(s) == 0 {
			return c.invalid("The parameter user_data.client_user_agent must be a non-empty string.")
		}
	case i == udFbc:
		if s, ok := str(v); !ok || !validFBC(s) {
			return c.invalid("The parameter user_data.fbc must have the format " +
				"fb.${subdomain_index}.${creation_time_ms}.${fbclid}.")
		}
	case i == udFbp:
		if s, ok := str(v); !ok || !validFBP(s) {
			return c.invalid("The parameter user_data.fbp must have the format " +
				"fb.${subdomain_index}.${creation_time_ms}.${random_number}.")
		}
	default: // the id keys
		if s, ok := str(v); ok && len(s) != 0 {
			return nil
		}
		if _, ok := integer(v); ok {
			return nil
		}
		return c.invalid("The parameter user_data.%s must be a non-empty string or an integer.", key)
	}
	return nil
}

// validIP accepts an IPv4 or IPv6 address without zone.
func validIP(s []byte) bool {
	for _, c := range s {
		if c == '%' {
			return false
		}
	}
	if dottedQuad(s) {
		return true
	}
	_, err := netip.ParseAddr(string(s)) // allocates: the string escapes
	return err == nil
}

// dottedQuad accepts the IPv4 addresses netip.ParseAddr accepts (four decimal fields up to 255, no leading
// zero), without allocating; what it refuses goes to ParseAddr. FuzzValidIP checks it never accepts more.
func dottedQuad(s []byte) bool {
	fields, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 255 {
				return false
			}
			fields++
			n, digits = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || (digits == 1 && n == 0) || digits == 3 {
			return false
		}
		n = n*10 + int(c-'0')
		digits++
	}
	return fields == 4
}

// eachString applies f to v when v is a string, or to each element when v is a non-empty array of strings.
func (c *eventChecker) eachString(key string, v *fastjson.Value, f func([]byte) *graphError) *graphError {
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
	if s, ok := str(arr[0]); !ok || (string(s) != "a2" && string(s) != "i2") {
		return c.invalid(`The parameter app_data.extinfo must start with "a2" (Android) or "i2" (iOS).`)
	}
	return nil
}

// smallCustomData is the size up to which repeated custom_data keys are found by a linear scan.
const smallCustomData = 16

func (c *eventChecker) checkCustomData(v *fastjson.Value, purchase bool) *graphError {
	if v == nil {
		if purchase {
			return c.missing("custom_data.value", " for Purchase events; value and currency are both required")
		}
		return nil
	}
	obj, err := v.Object()
	if err != nil {
		return c.invalid("The parameter custom_data must be an object.")
	}
	small := obj.Len() <= smallCustomData
	keys := c.customKeys[:0]
	if !small {
		if c.seen == nil {
			c.seen = map[string]bool{}
		}
		clear(c.seen)
	}
	var hasValue, hasCurrency bool
	var gerr *graphError
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if gerr != nil {
			return
		}
		dup := false
		if small {
			for _, prev := range keys {
				if string(prev) == string(k) {
					dup = true
					break
				}
			}
			keys = append(keys, k)
		} else {
			dup = c.seen[string(k)]
			if !dup {
				c.seen[string(k)] = true
			}
		}
		if dup {
			gerr = c.invalid("The parameter custom_data.%s appears more than once.", string(k))
			return
		}
		switch string(k) {
		case "value":
			hasValue = true
		case "currency":
			hasCurrency = true
		}
		gerr = c.checkCustomField(k, v)
	})
	clear(keys) // drop the views of the parser's memory
	c.customKeys = keys[:0]
	if gerr != nil {
		return gerr
	}
	if purchase {
		if !hasValue {
			return c.missing("custom_data.value", " for Purchase events; value and currency are both required")
		}
		if !hasCurrency {
			return c.missing("custom_data.currency", " for Purchase events; value and currency are both required")
		}
	}
	return nil
}

// checkCustomField checks the standard custom_data parameters; custom parameters may hold any JSON.
func (c *eventChecker) checkCustomField(k []byte, v *fastjson.Value) *graphError {
	switch string(k) {
	case "value", "predicted_ltv":
		if _, ok := finite(v); !ok {
			return c.invalid("The parameter custom_data.%s must be a number.", string(k))
		}
	case "currency":
		if s, ok := str(v); !ok || !isCurrency(s) {
			return c.invalid("The parameter custom_data.currency must be a 3-letter ISO 4217 currency code.")
		}
	case "order_id", "search_string", "content_name", "content_category", "status", "delivery_category":
		if _, ok := str(v); !ok {
			return c.invalid("The parameter custom_data.%s must be a string.", string(k))
		}
	case "content_type":
		if s, ok := str(v); !ok || (string(s) != "product" && string(s) != "product_group") {
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
			if s, ok := str(e); !ok || len(s) == 0 {
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
	if s, ok := str(id); !ok || len(s) == 0 {
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
func weakCustomerInformation(present userKeySet) bool {
	for _, set := range weakCustomerSets {
		if present&^set == 0 {
			return true
		}
	}
	return false
}

// str returns a JSON string's unescaped bytes, a view of the parser's memory.
func str(v *fastjson.Value) ([]byte, bool) {
	if v.Type() != fastjson.TypeString {
		return nil, false
	}
	b, _ := v.StringBytes()
	return b, true
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

func isSHA256Hex(s []byte) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isCurrency(s []byte) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c |= 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// absoluteURL reports whether s parses as an http(s) URL with a host; the last accepted text is remembered.
func (c *eventChecker) absoluteURL(s []byte) bool {
	if c.lastURL != nil && string(s) == string(c.lastURL) {
		return true
	}
	u, err := url.Parse(string(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	c.lastURL = append(c.lastURL[:0], s...)
	return true
}

// validFBC checks fb.<0-2>.<13-digit ms timestamp>.<fbclid>, the fbc cookie shape.
func validFBC(s []byte) bool {
	rest, ok := fbPrefix(s)
	if !ok || len(rest) == 0 {
		return false
	}
	for _, c := range rest {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// validFBP checks fb.<0-2>.<13-digit ms timestamp>.<random number>, the fbp cookie shape.
func validFBP(s []byte) bool {
	rest, ok := fbPrefix(s)
	return ok && len(rest) != 0 && allDigits(rest)
}

// fbPrefix consumes "fb.<0-2>.<13 digits>." and returns what follows.
func fbPrefix(s []byte) ([]byte, bool) {
	const n = len("fb.1.") + 13 + 1
	if len(s) < n || string(s[:3]) != "fb." || s[3] < '0' || s[3] > '2' || s[4] != '.' || s[n-1] != '.' ||
		!allDigits(s[5:n-1]) {
		return nil, false
	}
	return s[n:], true
}

func allDigits[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
