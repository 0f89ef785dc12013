// Package mapping is the mapping stage (docs/mapping.md): it turns a Commanders Act event into a Conversions API
// server event, with user data still in clear. The normalize stage hashes it afterwards.
//
// The mapping is a pure function of (event, record bytes, record time, options): the same inputs always give the
// same output, which is what makes replays harmless (event_id never depends on the clock or the offset).
package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/capi-connector/capi-connector/processor/fbevent"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/schema"
)

// Options are the per-destination choices of the mapping.
type Options struct {
	// CustomDataPassthrough sends the unknown root scalar fields of the event (schema.Event.Extra; strings,
	// numbers and booleans only) as custom_data parameters. A passthrough key never replaces a key already sent
	// (mapped, typed, or from integrations.facebook.custom_data). Off by default: root fields the model does not
	// know may be anything, including data the customer never meant to give Meta.
	CustomDataPassthrough bool
}

// Input is what the mapping needs from the Kafka record besides the decoded event.
type Input struct {
	// Raw is the record's value bytes. When the event carries no id, event_id is the hex SHA-256 of these bytes,
	// so a replayed record gets the same event_id and Meta deduplicates it.
	Raw []byte
	// RecordTime is the Kafka record timestamp, the event_time when context.event_timestamp is absent: a replay
	// keeps the original time, never "now".
	RecordTime time.Time
	// Contents, when its capacity suffices, is the backing array of the mapped custom_data.contents instead of a
	// new one, so a caller that maps event after event can reuse it. The caller must not reuse it while the
	// mapped event is in use, and should clear it afterwards (its elements refer to the input event's strings).
	Contents []fbevent.Content
}

// Map resets *out and fills it from ev. User data is left in clear (pre-hashed inputs user.<field>_sha256 are
// used when the clear field is absent); the normalize stage hashes it. It rejects with MissingEventName when
// no event name can be determined and with InvalidPayload when an integrations.facebook override cannot be
// parsed. Rejection details name fields, never values.
//
// out may share read-only memory with ev (strings); slices in out are its own, so later stages may append to
// them without touching ev, which is shared by every destination.
func Map(ev *schema.Event, in Input, opt Options, out *fbevent.Event) *reject.Rejection {
	*out = fbevent.Event{}
	fb := &ev.Integrations.Facebook

	out.EventName = eventName(ev)
	if out.EventName == "" {
		return reject.New(reject.MissingEventName, reject.StageMapping, "event_name is empty and integrations.facebook.event_name is not set")
	}
	out.EventID = eventID(ev, in.Raw)
	timeMS := eventTimeMS(ev, in.RecordTime)
	out.EventTime = floorDiv(timeMS, 1000)
	out.EventSourceURL = firstNonEmpty(ev.Context.Page.URL, ev.URL)
	out.ReferrerURL = firstNonEmpty(ev.Context.Page.Referrer, ev.Referrer)
	out.ActionSource = actionSource(ev)

	out.OptOut, out.HasOptOut = fb.OptOut, fb.HasOptOut
	if fb.HasDataProcessingOptions {
		out.HasDataProcessingOptions = true
		out.DataProcessingOptions = slices.Clone(fb.DataProcessingOptions)
		if out.DataProcessingOptions == nil {
			out.DataProcessingOptions = []string{}
		}
	}
	out.DataProcessingOptionsCountry, out.HasDataProcessingOptionsCountry = fb.DataProcessingOptionsCountry, fb.HasDataProcessingOptionsCountry
	out.DataProcessingOptionsState, out.HasDataProcessingOptionsState = fb.DataProcessingOptionsState, fb.HasDataProcessingOptionsState
	// app_data is sent as the sender wrote it (the decoder compacted it); copied, as every slice of out is.
	out.AppData = bytes.Clone(fb.AppData)

	// Built in the callees' own frames and copied: stores through out would each cost a GC write barrier
	// while a collection is marking, and out is usually on the caller's stack, where the copy needs none.
	out.UserData = mapUserData(ev)
	out.CustomData = mapCustomData(ev, in.Contents)

	if r := overrideUserData(fb.UserData, &out.UserData); r != nil {
		*out = fbevent.Event{}
		return r
	}
	if out.UserData.FBC == "" {
		// Only when no fbc exists at all (integrations, root, cookie, override): a click id in the landing URL is
		// what the pixel would have turned into the _fbc cookie.
		if clid := fbclid(out.EventSourceURL); clid != "" {
			out.UserData.FBC = buildFBC(timeMS, clid)
		}
	}
	if r := overrideCustomData(fb.CustomData, ev.Extra, opt, &out.CustomData); r != nil {
		*out = fbevent.Event{}
		return r
	}
	return nil
}

// eventName applies integrations.facebook.event_name, else the standard-event table, else the event's own name
// (a custom event).
func eventName(ev *schema.Event) string {
	if n := strings.TrimSpace(ev.Integrations.Facebook.EventName); n != "" {
		return n
	}
	n := strings.TrimSpace(ev.EventName)
	if std, ok := StandardEvent(n); ok {
		return std
	}
	return n
}

// StandardEvent returns the Meta standard event for a Commanders Act standard event name (docs/mapping.md).
// ok is false for any other name, which is then sent as a custom event under its own name.
func StandardEvent(name string) (string, bool) {
	switch name {
	case "begin_checkout":
		return "InitiateCheckout", true
	case "purchase":
		return "Purchase", true
	case "add_to_cart":
		return "AddToCart", true
	case "view_item", "view_item_list":
		return "ViewContent", true
	case "search":
		return "Search", true
	case "add_payment_info":
		return "AddPaymentInfo", true
	case "add_to_wishlist":
		return "AddToWishlist", true
	case "generate_lead":
		return "Lead", true
	case "page_view":
		return "PageView", true
	case "sign_up", "complete_registration":
		return "CompleteRegistration", true
	case "contact":
		return "Contact", true
	case "customize_product":
		return "CustomizeProduct", true
	case "donate":
		return "Donate", true
	case "find_location":
		return "FindLocation", true
	case "schedule":
		return "Schedule", true
	case "start_trial":
		return "StartTrial", true
	case "submit_application":
		return "SubmitApplication", true
	case "subscribe":
		return "Subscribe", true
	}
	return "", false
}

// eventID follows docs/delivery.md#event-ids: never random, never the offset.
func eventID(ev *schema.Event, raw []byte) string {
	for _, id := range [...]string{ev.Integrations.Facebook.EventID, ev.EventID, ev.Context.EventID} {
		if strings.TrimSpace(id) != "" {
			return id
		}
	}
	sum := sha256.Sum256(raw)
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

// eventTimeMS is the event time in milliseconds: context.event_timestamp, else the record timestamp.
func eventTimeMS(ev *schema.Event, recordTime time.Time) int64 {
	if ev.Context.HasEventTimestamp {
		return ev.Context.EventTimestamp
	}
	return recordTime.UnixMilli()
}

// floorDiv divides rounding toward negative infinity, so a pre-1970 millisecond time maps to the second it lies in.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func actionSource(ev *schema.Event) string {
	if s := strings.TrimSpace(ev.Integrations.Facebook.ActionSource); s != "" {
		return s
	}
	t := strings.TrimSpace(ev.Type)
	switch {
	case strings.EqualFold(t, "offline"):
		return "physical_store"
	case strings.EqualFold(t, "app"), strings.EqualFold(t, "mobile_app"):
		return "app"
	}
	return "website"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func mapUserData(ev *schema.Event) (ud fbevent.UserData) {
	u, h := &ev.User.UserFields, &ev.User.SHA256
	// The clear value wins over a pre-hashed one: the normalizer hashes it the way Meta expects, while a
	// hash computed upstream may have been computed on an unnormalized value.
	ud.Em = firstNonEmpty(u.Email, h.Email)
	ud.Ph = firstNonEmpty(u.Phone, h.Phone)
	ud.Fn = firstNonEmpty(u.Firstname, h.Firstname)
	ud.Ln = firstNonEmpty(u.Lastname, h.Lastname)
	ud.Ge = firstNonEmpty(u.Gender, h.Gender)
	ud.Db = firstNonEmpty(u.Birthdate, h.Birthdate)
	ud.Ct = firstNonEmpty(u.City, h.City)
	ud.St = firstNonEmpty(u.State, h.State)
	ud.Zp = firstNonEmpty(u.Zipcode, h.Zipcode)
	ud.Country = firstNonEmpty(u.Country, h.Country)
	ud.ExternalID = firstNonEmpty(u.ID, h.ID)

	ud.ClientIPAddress = ev.Context.Device.IP
	ud.ClientUserAgent = ev.Context.Device.UserAgent

	fb := &ev.Integrations.Facebook
	ud.FBC = firstNonEmpty(fb.FBC, ev.FBC)
	ud.FBP = firstNonEmpty(fb.FBP, ev.FBP)
	if (ud.FBC == "" || ud.FBP == "") && ev.Context.Device.Cookie != "" {
		fbc, fbp := fbCookies(ev.Context.Device.Cookie)
		ud.FBC = firstNonEmpty(ud.FBC, fbc)
		ud.FBP = firstNonEmpty(ud.FBP, fbp)
	}
	return ud
}

// fbCookies reads the _fbc and _fbp values of a Cookie header ("k=v; k2=v2"). The first occurrence wins, as in
// browsers' document.cookie ordering (most specific path first).
func fbCookies(header string) (fbc, fbp string) {
	for header != "" && (fbc == "" || fbp == "") {
		var pair string
		pair, header, _ = strings.Cut(header, ";")
		name, val, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		switch strings.TrimSpace(name) {
		case "_fbc":
			if fbc == "" {
				fbc = val
			}
		case "_fbp":
			if fbp == "" {
				fbp = val
			}
		}
	}
	return fbc, fbp
}

// fbclid returns the fbclid query parameter of a URL ("" when absent or empty).
func fbclid(rawURL string) string {
	_, query, ok := strings.Cut(rawURL, "?")
	if !ok {
		return ""
	}
	query, _, _ = strings.Cut(query, "#")
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		key, val, _ := strings.Cut(pair, "=")
		if key != "fbclid" || val == "" {
			continue
		}
		if strings.ContainsAny(val, "%+") {
			if dec, err := url.QueryUnescape(val); err == nil {
				return dec
			}
		}
		return val
	}
	return ""
}

// buildFBC formats Meta's fbc: fb.{subdomain_index}.{creation_time ms}.{fbclid}, subdomain index 1 (the
// registrable domain), creation time the event time in milliseconds.
func buildFBC(timeMS int64, clid string) string {
	var buf [24]byte
	return "fb.1." + string(strconv.AppendInt(buf[:0], timeMS, 10)) + "." + clid
}

func mapCustomData(ev *schema.Event, contents []fbevent.Content) (cd fbevent.CustomData) {
	cd.Value, cd.HasValue = ev.Value, ev.HasValue
	cd.Currency = ev.Currency
	cd.OrderID = ev.ID
	cd.SearchString = ev.SearchTerm
	cd.ContentName = ev.Name
	cd.ContentCategory = ev.Category
	cd.Status = ev.Status
	if len(ev.Items) == 0 {
		return cd
	}
	first := &ev.Items[0].Product
	cd.Currency = firstNonEmpty(cd.Currency, first.Currency)
	cd.ContentName = firstNonEmpty(cd.ContentName, first.Name)
	if cd.ContentCategory == "" {
		cd.ContentCategory = itemsCategory(ev.Items)
	}
	cd.ContentType = "product"
	cd.NumItems, cd.HasNumItems = int64(len(ev.Items)), true

	complete, ids := true, 0
	for i := range ev.Items {
		it := &ev.Items[i]
		if it.Product.ID != "" {
			ids++
		}
		if it.Product.ID == "" || !it.HasQuantity || !it.Product.HasPrice {
			complete = false
		}
	}
	if complete {
		if cap(contents) >= len(ev.Items) {
			cd.Contents = contents[:len(ev.Items):len(ev.Items)]
		} else {
			cd.Contents = make([]fbevent.Content, len(ev.Items))
		}
		for i := range ev.Items {
			it := &ev.Items[i]
			cd.Contents[i] = fbevent.Content{ID: it.Product.ID, Quantity: it.Quantity, ItemPrice: it.Product.Price, HasItemPrice: true}
		}
		return cd
	}
	// contents needs id and quantity per element; when one item lacks something, send what is certain.
	if ids > 0 {
		cd.ContentIDs = make([]string, 0, ids)
		for i := range ev.Items {
			if id := ev.Items[i].Product.ID; id != "" {
				cd.ContentIDs = append(cd.ContentIDs, id)
			}
		}
	}
	return cd
}

// itemsCategory is the first non-empty category_1..5 of the first item that has one.
func itemsCategory(items []schema.Item) string {
	for i := range items {
		p := &items[i].Product
		for _, c := range [...]string{p.Category1, p.Category2, p.Category3, p.Category4, p.Category5} {
			if c != "" {
				return c
			}
		}
	}
	return ""
}
