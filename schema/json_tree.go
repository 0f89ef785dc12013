package schema

import (
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/capi-connector/capi-connector/schema/jsonstr"
)

// The fastjson path: visitors over the tree fastjson builds. It decodes every input the single-pass scanner
// (json_fast.go) declines, and decides every error.

func (s *jsonState) wrongType(field string, v *fastjson.Value, want string) {
	s.fail(field, ErrInvalidField, "want "+want+", got "+v.Type().String())
}

// text reads a string field (or a number, kept as its JSON text). ok is false when absent (null) or invalid.
func (s *jsonState) text(v *fastjson.Value, field string) (span, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return s.addStr(b), true
	case fastjson.TypeNumber:
		// fastjson keeps a number as its source text and MarshalTo appends exactly that text.
		off := len(s.str)
		s.str = v.MarshalTo(s.str)
		if !isJSONNumber(s.str[off:]) {
			s.fail(field, ErrInvalidJSON, "malformed number")
			return span{}, false
		}
		return span{off, len(s.str)}, true
	case fastjson.TypeNull:
		return span{}, false
	default:
		s.wrongType(field, v, "string or number")
		return span{}, false
	}
}

// setText records a text field (stored into the Event by finish). It reports whether a non-empty value was set.
func (s *jsonState) setText(v *fastjson.Value, field string, f textField) bool {
	sp, ok := s.text(v, field)
	if !ok {
		return false
	}
	s.setSpan(f, sp)
	return sp.end > sp.off
}

// numText returns the text of a number field: a JSON number or a numeric string (trimmed), in the reused
// scratch buffer s.num (valid until the next call). ok is false when absent (null or "") or invalid.
func (s *jsonState) numText(v *fastjson.Value, field string) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeNumber:
		s.num = v.MarshalTo(s.num[:0])
		if !isJSONNumber(s.num) {
			s.fail(field, ErrInvalidJSON, "malformed number")
			return nil, false
		}
		return s.num, true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		b = trimSpaceBytes(b)
		if len(b) == 0 {
			return nil, false
		}
		if !isDecimalText(b) {
			s.fail(field, ErrInvalidField, "string is not a number")
			return nil, false
		}
		s.num = append(s.num[:0], b...)
		return s.num, true
	case fastjson.TypeNull:
		return nil, false
	default:
		s.wrongType(field, v, "number or numeric string")
		return nil, false
	}
}

// number reads a float field: a JSON number or a numeric string. ok is false when absent or invalid.
func (s *jsonState) number(v *fastjson.Value, field string) (float64, bool) {
	b, ok := s.numText(v, field)
	if !ok {
		return 0, false
	}
	f, ok := parseFloatText(b)
	if !ok {
		s.fail(field, ErrInvalidField, "number out of range")
		return 0, false
	}
	return f, true
}

// integer reads an integer field (number or numeric string). Non-integral values are rejected unless truncate.
func (s *jsonState) integer(v *fastjson.Value, field string, truncate bool) (int64, bool) {
	b, ok := s.numText(v, field)
	if !ok {
		return 0, false
	}
	n, problem := parseIntText(b, truncate)
	if problem != "" {
		s.fail(field, ErrInvalidField, problem)
		return 0, false
	}
	return n, true
}

func (s *jsonState) boolean(v *fastjson.Value, field string) (bool, bool) {
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	case fastjson.TypeNull:
		return false, false
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		if val, ok := parseBoolText(b); ok {
			return val, true
		}
		s.fail(field, ErrInvalidField, "string is not a boolean")
		return false, false
	default:
		s.wrongType(field, v, "boolean")
		return false, false
	}
}

// object returns v as an object, nil when null or of the wrong type (the latter recorded as an error).
func (s *jsonState) object(v *fastjson.Value, field string) *fastjson.Object {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		return o
	case fastjson.TypeNull:
		return nil
	default:
		s.wrongType(field, v, "object")
		return nil
	}
}

// list reads an array of strings/numbers, or one comma-separated string, into spans (trimmed, empties dropped).
// present is false when the field is null.
func (s *jsonState) list(v *fastjson.Value, field string, dst []span) ([]span, bool) {
	dst = dst[:0]
	switch v.Type() {
	case fastjson.TypeNull:
		return dst, false
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return s.splitList(b, dst), true
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for _, e := range arr {
			if e.Type() == fastjson.TypeNull {
				continue
			}
			if t := e.Type(); t != fastjson.TypeString && t != fastjson.TypeNumber {
				s.wrongType(field, e, "string or number")
				return dst, false
			}
			sp, ok := s.text(e, field)
			if !ok {
				return dst, false
			}
			if sp = s.trimSpan(sp); sp.end > sp.off {
				dst = append(dst, sp)
			}
		}
		return dst, true
	default:
		s.wrongType(field, v, "array or comma-separated string")
		return dst, false
	}
}

// rawObject stores every member of an object as (key, canonical raw JSON value), in input order.
func (s *jsonState) rawObject(o *fastjson.Object, field string, dst []rawRef) []rawRef {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		ref, ok := s.rawMember(k, v, field+".")
		if ok {
			dst = append(dst, ref)
		}
	})
	return dst
}

// rawMember stores one member; prefix is the parent path with its trailing dot ("" at the root).
func (s *jsonState) rawMember(k []byte, v *fastjson.Value, prefix string) (rawRef, bool) {
	key := s.addStr(k)
	off := len(s.raw)
	var ok bool
	s.raw, ok = appendCanonical(s.raw, v)
	if !ok {
		s.fail(prefix+string(k), ErrInvalidJSON, "malformed number")
		return rawRef{}, false
	}
	return rawRef{key: key, val: span{off, len(s.raw)}}, true
}

// root decodes the top-level object.
func (s *jsonState) root(o *fastjson.Object, ev *Event) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "event_name":
			s.setText(v, "event_name", tEventName)
		case "event_id":
			s.setText(v, "event_id", tEventID)
		case "type":
			s.setText(v, "type", tType)
		case "url":
			s.setText(v, "url", tURL)
		case "referrer":
			s.setText(v, "referrer", tReferrer)
		case "value":
			if f, ok := s.number(v, "value"); ok {
				ev.Value, ev.HasValue = f, true
			}
		case "amount":
			if f, ok := s.number(v, "amount"); ok {
				s.amount, s.hasAmount = f, true
			}
		case "currency":
			s.setText(v, "currency", tCurrency)
		case "id":
			s.setText(v, "id", tID)
		case "search_term":
			s.setText(v, "search_term", tSearchTerm)
		case "name":
			s.setText(v, "name", tName)
		case "category":
			s.setText(v, "category", tCategory)
		case "status":
			s.setText(v, "status", tStatus)
		case "fbp":
			s.setText(v, "fbp", tFBP)
		case "fbc":
			s.setText(v, "fbc", tFBC)
		case "consent_categories":
			s.consent, _ = s.list(v, "consent_categories", s.consent)
		case "items":
			s.items(v)
		case "user":
			if u := s.object(v, "user"); u != nil {
				s.user(u)
			}
		case "context":
			if c := s.object(v, "context"); c != nil {
				s.context(c, &ev.Context)
			}
		case "browser":
			if b := s.object(v, "browser"); b != nil {
				s.browser(b)
			}
		case "integrations":
			if in := s.object(v, "integrations"); in != nil {
				if fb := in.Get("facebook"); fb != nil {
					if f := s.object(fb, "integrations.facebook"); f != nil {
						s.facebook(f, &ev.Integrations.Facebook)
					}
				}
			}
		default:
			if ref, ok := s.rawMember(k, v, ""); ok {
				s.extra = append(s.extra, ref)
			}
		}
	})
}

func (s *jsonState) items(v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeNull:
		return
	case fastjson.TypeArray:
	default:
		s.wrongType("items", v, "array")
		return
	}
	arr, _ := v.Array()
	nums := s.elems[:0]
	for i, e := range arr {
		nums = append(nums, itemScratch{})
		s.item(e, &nums[i])
		if s.err != nil {
			s.elems = nums
			if s.err.Field == "" {
				s.err.Field = "items[" + strconv.Itoa(i) + "]"
			} else {
				s.err.Field = "items[" + strconv.Itoa(i) + "]." + s.err.Field
			}
			return
		}
	}
	s.elems, s.hasItems = nums, true
}

func (s *jsonState) item(v *fastjson.Value, it *itemScratch) {
	if v.Type() != fastjson.TypeObject {
		s.wrongType("", v, "object")
		return
	}
	o, _ := v.Object()
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "quantity":
			if n, ok := s.integer(v, "quantity", false); ok {
				it.quantity, it.hasQuantity = n, true
			}
		case "product":
			if p := s.object(v, "product"); p != nil {
				s.product(p, it)
			}
		}
	})
}

func (s *jsonState) product(o *fastjson.Object, p *itemScratch) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "id":
			p.setText(s, v, "product.id", prodID)
		case "name":
			p.setText(s, v, "product.name", prodName)
		case "price":
			if f, ok := s.number(v, "product.price"); ok {
				p.price, p.hasPrice = f, true
			}
		case "currency":
			p.setText(s, v, "product.currency", prodCurrency)
		case "category_1":
			p.setText(s, v, "product.category_1", prodCategory1)
		case "category_2":
			p.setText(s, v, "product.category_2", prodCategory1+1)
		case "category_3":
			p.setText(s, v, "product.category_3", prodCategory1+2)
		case "category_4":
			p.setText(s, v, "product.category_4", prodCategory1+3)
		case "category_5":
			p.setText(s, v, "product.category_5", prodCategory1+4)
		}
	})
}

func (s *jsonState) user(o *fastjson.Object) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "id":
			s.setText(v, "user.id", tUser+userID)
		case "email":
			s.setText(v, "user.email", tUser+userEmail)
		case "phone":
			s.setText(v, "user.phone", tUser+userPhone)
		case "firstname":
			s.setText(v, "user.firstname", tUser+userFirstname)
		case "lastname":
			s.setText(v, "user.lastname", tUser+userLastname)
		case "gender":
			s.setText(v, "user.gender", tUser+userGender)
		case "birthdate":
			s.setText(v, "user.birthdate", tUser+userBirthdate)
		case "city":
			s.setText(v, "user.city", tUser+userCity)
		case "state":
			s.setText(v, "user.state", tUser+userState)
		case "zipcode":
			s.setText(v, "user.zipcode", tUser+userZipcode)
		case "country":
			s.setText(v, "user.country", tUser+userCountry)
		case "id_sha256":
			s.setText(v, "user.id_sha256", tUserSHA+userID)
		case "email_sha256":
			s.setText(v, "user.email_sha256", tUserSHA+userEmail)
		case "phone_sha256":
			s.setText(v, "user.phone_sha256", tUserSHA+userPhone)
		case "firstname_sha256":
			s.setText(v, "user.firstname_sha256", tUserSHA+userFirstname)
		case "lastname_sha256":
			s.setText(v, "user.lastname_sha256", tUserSHA+userLastname)
		case "gender_sha256":
			s.setText(v, "user.gender_sha256", tUserSHA+userGender)
		case "birthdate_sha256":
			s.setText(v, "user.birthdate_sha256", tUserSHA+userBirthdate)
		case "city_sha256":
			s.setText(v, "user.city_sha256", tUserSHA+userCity)
		case "state_sha256":
			s.setText(v, "user.state_sha256", tUserSHA+userState)
		case "zipcode_sha256":
			s.setText(v, "user.zipcode_sha256", tUserSHA+userZipcode)
		case "country_sha256":
			s.setText(v, "user.country_sha256", tUserSHA+userCountry)
		case "consent_categories":
			s.userConsent, _ = s.list(v, "user.consent_categories", s.userConsent)
		}
	})
}

func (s *jsonState) context(o *fastjson.Object, c *Context) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "event_timestamp":
			if n, ok := s.integer(v, "context.event_timestamp", true); ok {
				c.EventTimestamp, c.HasEventTimestamp = n, true
			}
		case "event_id":
			s.setText(v, "context.event_id", tCtxEventID)
		case "page":
			if p := s.object(v, "context.page"); p != nil {
				p.Visit(func(k []byte, v *fastjson.Value) {
					switch string(k) {
					case "url":
						s.setText(v, "context.page.url", tPageURL)
					case "referrer":
						s.setText(v, "context.page.referrer", tPageReferrer)
					}
				})
			}
		case "device":
			if d := s.object(v, "context.device"); d != nil {
				d.Visit(func(k []byte, v *fastjson.Value) {
					switch string(k) {
					case "ip":
						if s.setText(v, "context.device.ip", tDeviceIP) {
							s.hasDeviceIP = true
						}
					case "user_agent":
						if s.setText(v, "context.device.user_agent", tDeviceUA) {
							s.hasDevUA = true
						}
					case "cookie":
						s.setText(v, "context.device.cookie", tDeviceCookie)
					}
				})
			}
		}
	})
}

// browser is the older home of ip and user_agent; they apply only when context.device has none (see finish).
func (s *jsonState) browser(o *fastjson.Object) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "ip":
			if sp, ok := s.text(v, "browser.ip"); ok && sp.end > sp.off {
				s.browserIP, s.hasBrowserIP = sp, true
			}
		case "user_agent":
			if sp, ok := s.text(v, "browser.user_agent"); ok && sp.end > sp.off {
				s.browserUA, s.hasBrUA = sp, true
			}
		}
	})
}

func (s *jsonState) facebook(o *fastjson.Object, f *Facebook) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s.err != nil {
			return
		}
		switch string(k) {
		case "event_name":
			s.setText(v, "integrations.facebook.event_name", tFBEventName)
		case "event_id":
			s.setText(v, "integrations.facebook.event_id", tFBEventID)
		case "action_source":
			s.setText(v, "integrations.facebook.action_source", tFBActionSource)
		case "fbp":
			s.setText(v, "integrations.facebook.fbp", tFBFBP)
		case "fbc":
			s.setText(v, "integrations.facebook.fbc", tFBFBC)
		case "opt_out":
			if b, ok := s.boolean(v, "integrations.facebook.opt_out"); ok {
				f.OptOut, f.HasOptOut = b, true
			}
		case "data_processing_options":
			var ok bool
			if v.Type() == fastjson.TypeString {
				// A lone string would be split on commas by list; Meta's field is an array, so insist on it.
				s.wrongType("integrations.facebook.data_processing_options", v, "array")
				return
			}
			if s.dpo, ok = s.list(v, "integrations.facebook.data_processing_options", s.dpo); ok {
				f.HasDataProcessingOptions = true
			}
		case "data_processing_options_country":
			if n, ok := s.integer(v, "integrations.facebook.data_processing_options_country", false); ok {
				f.DataProcessingOptionsCountry, f.HasDataProcessingOptionsCountry = n, true
			}
		case "data_processing_options_state":
			if n, ok := s.integer(v, "integrations.facebook.data_processing_options_state", false); ok {
				f.DataProcessingOptionsState, f.HasDataProcessingOptionsState = n, true
			}
		case "user_data":
			if u := s.object(v, "integrations.facebook.user_data"); u != nil {
				s.userData = s.rawObject(u, "integrations.facebook.user_data", s.userData[:0])
			}
		case "custom_data":
			if c := s.object(v, "integrations.facebook.custom_data"); c != nil {
				s.customData = s.rawObject(c, "integrations.facebook.custom_data", s.customData[:0])
			}
		case "app_data":
			// Kept whole, as canonical compact JSON: the Conversions API object is the sender's to fill.
			if s.object(v, "integrations.facebook.app_data") != nil {
				off := len(s.raw)
				var ok bool
				if s.raw, ok = appendCanonical(s.raw, v); !ok {
					s.fail("integrations.facebook.app_data", ErrInvalidJSON, "malformed number")
					return
				}
				s.appData, s.hasAppData = span{off, len(s.raw)}, true
			}
		}
	})
}

// appendCanonical appends v as compact JSON. fastjson accepts some non-JSON numbers (NaN, Inf, "1-2"), which
// would make Facebook reject the whole batch, so numbers are checked; ok is false on such a number. Strings are
// re-escaped the JSON way (fastjson's own escaper falls back to Go quoting, which is not JSON).
func appendCanonical(dst []byte, v *fastjson.Value) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		ok, first := true, true
		o.Visit(func(k []byte, vv *fastjson.Value) {
			if !ok {
				return
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = jsonstr.AppendMinimal(dst, k)
			dst = append(dst, ':')
			dst, ok = appendCanonical(dst, vv)
		})
		return append(dst, '}'), ok
	case fastjson.TypeArray:
		arr, _ := v.Array()
		dst = append(dst, '[')
		for i, e := range arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendCanonical(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return jsonstr.AppendMinimal(dst, b), true
	case fastjson.TypeNumber:
		off := len(dst)
		dst = v.MarshalTo(dst)
		return dst, isJSONNumber(dst[off:])
	case fastjson.TypeTrue:
		return append(dst, "true"...), true
	case fastjson.TypeFalse:
		return append(dst, "false"...), true
	default:
		return append(dst, "null"...), true
	}
}

// setText is jsonState.setText for a product field of the element.
func (it *itemScratch) setText(s *jsonState, v *fastjson.Value, field string, f uint8) {
	if sp, ok := s.text(v, field); ok {
		it.setSpan(f, sp)
	}
}
