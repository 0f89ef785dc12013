package schema

import (
	"bytes"
	"math/bits"

	"github.com/valyala/fastjson"
)

// The state both parsers share: texts recorded as spans of one buffer by field number, items under
// construction, and finish, which builds the Event from them once decoding succeeded.

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

// textDsts returns the string fields of ev by textField number, for finish to store the recorded texts through.
func textDsts(ev *Event) [numTextFields]*string {
	u, h := &ev.User.UserFields, &ev.User.SHA256
	c, fb := &ev.Context, &ev.Integrations.Facebook
	return [numTextFields]*string{
		tEventName:  &ev.EventName,
		tEventID:    &ev.EventID,
		tType:       &ev.Type,
		tURL:        &ev.URL,
		tReferrer:   &ev.Referrer,
		tCurrency:   &ev.Currency,
		tID:         &ev.ID,
		tSearchTerm: &ev.SearchTerm,
		tName:       &ev.Name,
		tCategory:   &ev.Category,
		tStatus:     &ev.Status,
		tFBP:        &ev.FBP,
		tFBC:        &ev.FBC,

		tUser + userID:        &u.ID,
		tUser + userEmail:     &u.Email,
		tUser + userPhone:     &u.Phone,
		tUser + userFirstname: &u.Firstname,
		tUser + userLastname:  &u.Lastname,
		tUser + userGender:    &u.Gender,
		tUser + userBirthdate: &u.Birthdate,
		tUser + userCity:      &u.City,
		tUser + userState:     &u.State,
		tUser + userZipcode:   &u.Zipcode,
		tUser + userCountry:   &u.Country,

		tUserSHA + userID:        &h.ID,
		tUserSHA + userEmail:     &h.Email,
		tUserSHA + userPhone:     &h.Phone,
		tUserSHA + userFirstname: &h.Firstname,
		tUserSHA + userLastname:  &h.Lastname,
		tUserSHA + userGender:    &h.Gender,
		tUserSHA + userBirthdate: &h.Birthdate,
		tUserSHA + userCity:      &h.City,
		tUserSHA + userState:     &h.State,
		tUserSHA + userZipcode:   &h.Zipcode,
		tUserSHA + userCountry:   &h.Country,

		tCtxEventID:   &c.EventID,
		tPageURL:      &c.Page.URL,
		tPageReferrer: &c.Page.Referrer,
		tDeviceIP:     &c.Device.IP,
		tDeviceUA:     &c.Device.UserAgent,
		tDeviceCookie: &c.Device.Cookie,

		tFBEventName:    &fb.EventName,
		tFBEventID:      &fb.EventID,
		tFBActionSource: &fb.ActionSource,
		tFBFBP:          &fb.FBP,
		tFBFBC:          &fb.FBC,
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
	dsts := textDsts(ev)
	for set := s.textSet; set != 0; set &= set - 1 {
		f := textField(bits.TrailingZeros64(set))
		sp := s.texts[f]
		*dsts[f] = all[sp.off:sp.end]
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

// setSpan records sp as the text of f.
func (s *jsonState) setSpan(f textField, sp span) {
	s.texts[f] = sp
	s.textSet |= 1 << f
}

// splitList appends the comma-separated parts of b (trimmed, empties dropped) to dst.
func (s *jsonState) splitList(b []byte, dst []span) []span {
	for len(b) > 0 {
		part := b
		i := bytes.IndexByte(b, ',')
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

// trimSpan is sp without the white space trimSpaceBytes trims.
func (s *jsonState) trimSpan(sp span) span {
	i, j := trimSpaceBounds(s.str[sp.off:sp.end])
	return span{sp.off + i, sp.off + j}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// trimSpaceBytes returns b without its leading and trailing JSON white space (' ', \t, \n, \r).
func trimSpaceBytes(b []byte) []byte {
	i, j := trimSpaceBounds(b)
	return b[i:j]
}

// trimSpaceBounds returns the bounds of b without its leading and trailing JSON white space.
func trimSpaceBounds(b []byte) (i, j int) {
	i, j = 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return i, j
}

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
