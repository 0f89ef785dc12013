package capitest

import (
	"encoding/binary"
	"net/netip"
	"net/url"
	"strconv"
	"time"
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

// acceptedEvent is what the server records about a valid event. name, id and raw (the event's JSON text) view the
// parser's memory or the request's: they are valid until the request is handled and are copied (all events' in
// one allocation) before that.
type acceptedEvent struct {
	name, id, raw []byte
	actionSource  string
	time          int64
}

// eventChecker validates the events of one request in turn; index is the position in data of the event being
// checked, now the simulator's clock. Its fields are scratch space reused from event to event.
type eventChecker struct {
	index int
	now   time.Time

	// customKeys and seen detect repeated custom_data keys (a linear scan for small objects, a map for big ones).
	customKeys [][]byte
	seen       map[string]bool
}

func (c *eventChecker) invalid(format string, args ...any) *graphError {
	return eventError(SubcodeInvalidParameter, c.index, "Invalid Parameter", format, args...)
}

func (c *eventChecker) missing(param, why string) *graphError {
	return eventError(SubcodeMissingParameter, c.index, "Missing Required Parameter",
		"The parameter %s is required%s.", param, why)
}

// eventFields are an event's parameters by eventKey.
type eventFields [numEventKeys]jval

// check validates ev and returns the accepted summary or the Graph error refusing the whole request.
// Checks run in a fixed order so the same payload always earns the same answer: keys and types, required
// parameters, time window, per-action_source requirements, user_data, custom_data.
func (c *eventChecker) check(ev jval) (acceptedEvent, *graphError) {
	var out acceptedEvent
	if ev.kind() != jsonObject {
		return out, c.invalid("Each element of data must be a JSON object.")
	}
	var fields eventFields
	for k, v := range ev.members() {
		switch i := eventKey(k); {
		case i < 0:
			return out, c.invalid("Unexpected key %q on the event.", string(k))
		case fields[i].present():
			return out, c.invalid("The parameter %s appears more than once.", string(k))
		default:
			fields[i] = v
		}
	}

	// event_name
	nameV := fields[evEventName]
	if !nameV.present() {
		return out, c.missing("event_name", "")
	}
	if s, ok := nameV.str(); !ok || len(s) == 0 {
		return out, c.invalid("The parameter event_name must be a non-empty string.")
	} else {
		out.name = s
	}

	// event_time
	timeV := fields[evEventTime]
	if !timeV.present() {
		return out, c.missing("event_time", "")
	}
	t, ok := timeV.integer()
	if !ok || t <= 0 {
		return out, c.invalid("The parameter event_time must be a positive integer number of seconds since the Unix epoch.")
	}
	out.time = t

	// action_source
	asV := fields[evActionSource]
	if !asV.present() {
		return out, c.missing("action_source", "")
	}
	if s, ok := asV.str(); !ok || actionSource(s) == "" {
		return out, c.invalid("The parameter action_source must be one of email, website, app, phone_call, chat, " +
			"physical_store, system_generated, business_messaging, other.")
	} else {
		out.actionSource = actionSource(s)
	}

	if v := fields[evEventID]; v.present() {
		s, ok := v.str()
		if !ok || len(s) == 0 {
			return out, c.invalid("The parameter event_id must be a non-empty string.")
		}
		out.id = s
	}
	for _, k := range [...]struct {
		i    int
		name string
	}{{evEventSourceURL, "event_source_url"}, {evReferrerURL, "referrer_url"}} {
		if v := fields[k.i]; v.present() {
			if s, ok := v.str(); !ok || !c.absoluteURL(s) {
				return out, c.invalid("The parameter %s must be an absolute http(s) URL.", k.name)
			}
		}
	}
	if v := fields[evOptOut]; v.present() && v.kind() != jsonTrue && v.kind() != jsonFalse {
		return out, c.invalid("The parameter opt_out must be a boolean.")
	}
	if e := c.checkDataProcessing(&fields); e != nil {
		return out, e
	}
	if v := fields[evMessagingChannel]; v.present() {
		if _, ok := v.str(); !ok {
			return out, c.invalid("The parameter messaging_channel must be a string.")
		}
	}
	for _, k := range [...]struct {
		i    int
		name string
	}{{evOriginalEventData, "original_event_data"}, {evAttributionData, "attribution_data"}} {
		if v := fields[k.i]; v.present() && v.kind() != jsonObject {
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
	if !udV.present() {
		return out, c.missing("user_data", "")
	}
	present, e := c.checkUserData(udV)
	if e != nil {
		return out, e
	}

	// per action_source requirements
	switch out.actionSource {
	case "website":
		if !fields[evEventSourceURL].present() {
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
	if v := fields[evAppData]; v.present() && out.actionSource != "app" && v.kind() != jsonObject {
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
	if v := fields[evDPO]; v.present() {
		if v.kind() != jsonArray {
			return c.invalid("The parameter data_processing_options must be an array.")
		}
		for o := range v.elems() {
			if s, ok := o.str(); !ok || string(s) != "LDU" {
				return c.invalid(`The parameter data_processing_options accepts only "LDU" or an empty array.`)
			}
		}
	}
	if v := fields[evDPOCountry]; v.present() {
		if n, ok := v.integer(); !ok || (n != 0 && n != 1) {
			return c.invalid("The parameter data_processing_options_country must be 0 or 1.")
		}
	}
	if v := fields[evDPOState]; v.present() {
		if n, ok := v.integer(); !ok || (n != 0 && n != 1000) {
			return c.invalid("The parameter data_processing_options_state must be 0 or 1000.")
		}
	}
	return nil
}

// checkUserData validates every user_data parameter and returns the set of keys present.
func (c *eventChecker) checkUserData(v jval) (userKeySet, *graphError) {
	if v.kind() != jsonObject {
		return 0, c.invalid("The parameter user_data must be an object.")
	}
	var present userKeySet
	for k, v := range v.members() {
		i := userKey(k)
		if i < 0 {
			// An unknown key is refused at its first occurrence, so it can never be seen twice.
			return present, c.invalid("Unexpected key %q on the parameter user_data.", string(k))
		}
		if present&(1<<i) != 0 {
			return present, c.invalid("The parameter user_data.%s appears more than once.", userKeyNames[i])
		}
		present |= 1 << i
		if gerr := c.checkUserField(i, v); gerr != nil {
			return present, gerr
		}
	}
	return present, nil
}

func (c *eventChecker) checkUserField(i int, v jval) *graphError {
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
		s, ok := v.str()
		if !ok {
			return c.invalid("The parameter user_data.client_ip_address must be a string.")
		}
		if !validIP(s) {
			return c.invalid("The parameter user_data.client_ip_address is not a valid IPv4 or IPv6 address.")
		}
	case i == udClientUserAgent:
		if s, ok := v.str(); !ok || len(s) == 0 {
			return c.invalid("The parameter user_data.client_user_agent must be a non-empty string.")
		}
	case i == udFbc:
		if s, ok := v.str(); !ok || !validFBC(s) {
			return c.invalid("The parameter user_data.fbc must have the format " +
				"fb.${subdomain_index}.${creation_time_ms}.${fbclid}.")
		}
	case i == udFbp:
		if s, ok := v.str(); !ok || !validFBP(s) {
			return c.invalid("The parameter user_data.fbp must have the format " +
				"fb.${subdomain_index}.${creation_time_ms}.${random_number}.")
		}
	default: // the id keys
		if s, ok := v.str(); ok && len(s) != 0 {
			return nil
		}
		if _, ok := v.integer(); ok {
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
func (c *eventChecker) eachString(key string, v jval, f func([]byte) *graphError) *graphError {
	if s, ok := v.str(); ok {
		return f(s)
	}
	if v.kind() != jsonArray || v.empty() {
		return c.invalid("The parameter user_data.%s must be a string or a non-empty array of strings.", key)
	}
	for e := range v.elems() {
		s, ok := e.str()
		if !ok {
			return c.invalid("The parameter user_data.%s must be a string or a non-empty array of strings.", key)
		}
		if gerr := f(s); gerr != nil {
			return gerr
		}
	}
	return nil
}

func (c *eventChecker) checkAppData(v jval) *graphError {
	if !v.present() {
		return c.missing("app_data", " for app events")
	}
	if v.kind() != jsonObject {
		return c.invalid("The parameter app_data must be an object.")
	}
	for _, k := range [...]string{"advertiser_tracking_enabled", "application_tracking_enabled"} {
		f := v.get(k)
		if !f.present() {
			return c.missing("app_data."+k, " for app events")
		}
		if n, ok := f.integer(); !(ok && (n == 0 || n == 1)) && f.kind() != jsonTrue && f.kind() != jsonFalse {
			return c.invalid("The parameter app_data.%s must be a boolean or 0/1.", k)
		}
	}
	ext := v.get("extinfo")
	if !ext.present() {
		return c.missing("app_data.extinfo", " for app events")
	}
	if ext.kind() != jsonArray || ext.empty() {
		return c.invalid("The parameter app_data.extinfo must be a non-empty array.")
	}
	for first := range ext.elems() {
		if s, ok := first.str(); !ok || (string(s) != "a2" && string(s) != "i2") {
			return c.invalid(`The parameter app_data.extinfo must start with "a2" (Android) or "i2" (iOS).`)
		}
		break
	}
	return nil
}

// smallCustomData is the size up to which repeated custom_data keys are found by a linear scan.
const smallCustomData = 16

func (c *eventChecker) checkCustomData(v jval, purchase bool) *graphError {
	if !v.present() {
		if purchase {
			return c.missing("custom_data.value", " for Purchase events; value and currency are both required")
		}
		return nil
	}
	if v.kind() != jsonObject {
		return c.invalid("The parameter custom_data must be an object.")
	}
	small := v.len() <= smallCustomData
	keys := c.customKeys[:0]
	defer func() {
		clear(keys) // drop the views of the document's memory
		c.customKeys = keys[:0]
	}()
	if !small {
		if c.seen == nil {
			c.seen = map[string]bool{}
		}
		clear(c.seen)
	}
	var hasValue, hasCurrency bool
	for k, v := range v.members() {
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
			return c.invalid("The parameter custom_data.%s appears more than once.", string(k))
		}
		switch string(k) {
		case "value":
			hasValue = true
		case "currency":
			hasCurrency = true
		}
		if gerr := c.checkCustomField(k, v); gerr != nil {
			return gerr
		}
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
func (c *eventChecker) checkCustomField(k []byte, v jval) *graphError {
	switch string(k) {
	case "value", "predicted_ltv":
		if !v.finite() {
			return c.invalid("The parameter custom_data.%s must be a number.", string(k))
		}
	case "currency":
		if s, ok := v.str(); !ok || !isCurrency(s) {
			return c.invalid("The parameter custom_data.currency must be a 3-letter ISO 4217 currency code.")
		}
	case "order_id", "search_string", "content_name", "content_category", "status", "delivery_category":
		if _, ok := v.str(); !ok {
			return c.invalid("The parameter custom_data.%s must be a string.", string(k))
		}
	case "content_type":
		if s, ok := v.str(); !ok || (string(s) != "product" && string(s) != "product_group") {
			return c.invalid(`The parameter custom_data.content_type must be "product" or "product_group".`)
		}
	case "num_items":
		if n, ok := v.integer(); !ok || n < 0 {
			return c.invalid("The parameter custom_data.num_items must be a non-negative integer.")
		}
	case "content_ids":
		if v.kind() != jsonArray {
			return c.invalid("The parameter custom_data.content_ids must be an array of strings.")
		}
		for e := range v.elems() {
			if s, ok := e.str(); !ok || len(s) == 0 {
				return c.invalid("The parameter custom_data.content_ids must be an array of non-empty strings.")
			}
		}
	case "contents":
		if v.kind() != jsonArray {
			return c.invalid("The parameter custom_data.contents must be an array of objects.")
		}
		i := 0
		for e := range v.elems() {
			if gerr := c.checkContent(i, e); gerr != nil {
				return gerr
			}
			i++
		}
	}
	return nil
}

func (c *eventChecker) checkContent(i int, v jval) *graphError {
	if v.kind() != jsonObject {
		return c.invalid("The parameter custom_data.contents[%d] must be an object.", i)
	}
	id := v.get("id")
	if !id.present() {
		return c.missing("custom_data.contents["+strconv.Itoa(i)+"].id", "")
	}
	if s, ok := id.str(); !ok || len(s) == 0 {
		return c.invalid("The parameter custom_data.contents[%d].id must be a non-empty string.", i)
	}
	q := v.get("quantity")
	if !q.present() {
		return c.missing("custom_data.contents["+strconv.Itoa(i)+"].quantity", "")
	}
	if n, ok := q.integer(); !ok || n < 0 {
		return c.invalid("The parameter custom_data.contents[%d].quantity must be a non-negative integer.", i)
	}
	if p := v.get("item_price"); p.present() && !p.finite() {
		return c.invalid("The parameter custom_data.contents[%d].item_price must be a number.", i)
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

// isSHA256Hex reports whether s is 64 lowercase hexadecimal characters. It is the simulator's hottest check
// (ten digests an event), so it tests eight bytes at a time: see hexBytes.
func isSHA256Hex(s []byte) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < 64; i += 8 {
		if !hexBytes(binary.LittleEndian.Uint64(s[i:])) {
			return false
		}
	}
	return true
}

// hexBytes reports whether each of x's eight bytes is in '0'..'9' or 'a'..'f'. For a byte b below 0x80 and
// bounds lo < hi <= 0x80, (0x7f+hi-b) has its high bit set exactly when b < hi, and (b+0x7f-lo) exactly when
// b > lo; neither borrows nor carries into the next byte. Bytes from 0x80 are excluded by &^x.
func hexBytes(x uint64) bool {
	low := x & (ones * 0x7f)
	between := func(lo, hi uint64) uint64 { // high bit of each byte in lo < b < hi
		return (ones*(0x7f+hi) - low) & (low + ones*(0x7f-lo))
	}
	return (between('0'-1, '9'+1)|between('a'-1, 'f'+1))&^x&highs == highs
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

// absoluteURL reports whether s parses (net/url) as an http(s) URL with a host. The common shape is recognized
// without parsing; anything else goes to url.Parse, which allocates.
func (c *eventChecker) absoluteURL(s []byte) bool {
	if plainHTTPURL(s) {
		return true
	}
	u, err := url.Parse(string(s))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// plainHTTPURL accepts a subset of what absoluteURL accepts, without allocating: "http://" or "https://", a
// non-empty host of letters, digits, dots and hyphens (no port, no user), then printable ASCII without space or
// '%'. Why url.Parse accepts all of these: no control byte; the scheme is http(s); the authority ends at the
// first '/', '?' or '#' and its characters are all allowed in a host; path, query and fragment only fail on a bad
// %-escape. FuzzAbsoluteURL checks it never accepts what url.Parse refuses.
func plainHTTPURL(s []byte) bool {
	var rest []byte
	switch {
	case len(s) > len("https://") && string(s[:len("https://")]) == "https://":
		rest = s[len("https://"):]
	case len(s) > len("http://") && string(s[:len("http://")]) == "http://":
		rest = s[len("http://"):]
	default:
		return false
	}
	host := 0
	for host < len(rest) && urlHostByte[rest[host]] {
		host++
	}
	if host == 0 || (host < len(rest) && rest[host] != '/' && rest[host] != '?' && rest[host] != '#') {
		return false
	}
	for _, b := range rest[host:] {
		if b <= ' ' || b >= 0x7f || b == '%' {
			return false
		}
	}
	return true
}

// urlHostByte marks the bytes plainHTTPURL accepts in a host.
var urlHostByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
	}
	return t
}()

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
