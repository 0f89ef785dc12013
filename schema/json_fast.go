package schema

// The single-pass scanner.
//
// fastjson builds a tree of the whole document before the visitors above read it; for the events the connector
// sees by the million that tree costs more than everything else the decoder does. fast decodes the common case
// in one pass straight into the Event instead, and declines (returns false) on anything it does not handle
// exactly like the fastjson path: a string with an escape sequence or a control character, any syntax that
// strict RFC 8259 does not allow, nesting deeper than maxFastDepth, and every input the fastjson path would
// reject with an error. A declined input is decoded again by the fastjson path, from scratch, so the scanner
// never decides an error and never has to reproduce fastjson's leniencies. What it accepts it must decode to the
// very Event the fastjson path produces; FuzzJSONFastPath checks that.

// maxFastDepth bounds the nesting the scanner follows (well under fastjson.MaxDepth).
const maxFastDepth = 64

// fast decodes data into ev and the state; false means it declined (ev and the state are then to be reset).
func (s *jsonState) fast(data []byte, ev *Event) bool {
	s.b, s.i = data, 0
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		switch string(k) {
		case "event_name":
			s.fText(tEventName)
		case "event_id":
			s.fText(tEventID)
		case "type":
			s.fText(tType)
		case "url":
			s.fText(tURL)
		case "referrer":
			s.fText(tReferrer)
		case "value":
			if f, ok := s.fNumber(); ok {
				ev.Value, ev.HasValue = f, true
			}
		case "amount":
			if f, ok := s.fNumber(); ok {
				s.amount, s.hasAmount = f, true
			}
		case "currency":
			s.fText(tCurrency)
		case "id":
			s.fText(tID)
		case "search_term":
			s.fText(tSearchTerm)
		case "name":
			s.fText(tName)
		case "category":
			s.fText(tCategory)
		case "status":
			s.fText(tStatus)
		case "fbp":
			s.fText(tFBP)
		case "fbc":
			s.fText(tFBC)
		case "consent_categories":
			s.consent, _ = s.fList(s.consent)
		case "items":
			s.fItems()
		case "user":
			if s.fObject() {
				s.fUser()
			}
		case "context":
			if s.fObject() {
				s.fContext(&ev.Context)
			}
		case "browser":
			if s.fObject() {
				s.fBrowser()
			}
		case "integrations":
			if s.fObject() {
				s.fIntegrations(&ev.Integrations.Facebook)
			}
		default:
			key := s.addStr(k)
			off := len(s.raw)
			s.rawValue(0)
			s.extra = append(s.extra, rawRef{key: key, val: span{off, len(s.raw)}})
		}
	}
	if s.declined {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

func (s *jsonState) fUser() {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		switch string(k) {
		case "id":
			s.fText(tUser + userID)
		case "email":
			s.fText(tUser + userEmail)
		case "phone":
			s.fText(tUser + userPhone)
		case "firstname":
			s.fText(tUser + userFirstname)
		case "lastname":
			s.fText(tUser + userLastname)
		case "gender":
			s.fText(tUser + userGender)
		case "birthdate":
			s.fText(tUser + userBirthdate)
		case "city":
			s.fText(tUser + userCity)
		case "state":
			s.fText(tUser + userState)
		case "zipcode":
			s.fText(tUser + userZipcode)
		case "country":
			s.fText(tUser + userCountry)
		case "id_sha256":
			s.fText(tUserSHA + userID)
		case "email_sha256":
			s.fText(tUserSHA + userEmail)
		case "phone_sha256":
			s.fText(tUserSHA + userPhone)
		case "firstname_sha256":
			s.fText(tUserSHA + userFirstname)
		case "lastname_sha256":
			s.fText(tUserSHA + userLastname)
		case "gender_sha256":
			s.fText(tUserSHA + userGender)
		case "birthdate_sha256":
			s.fText(tUserSHA + userBirthdate)
		case "city_sha256":
			s.fText(tUserSHA + userCity)
		case "state_sha256":
			s.fText(tUserSHA + userState)
		case "zipcode_sha256":
			s.fText(tUserSHA + userZipcode)
		case "country_sha256":
			s.fText(tUserSHA + userCountry)
		case "consent_categories":
			s.userConsent, _ = s.fList(s.userConsent)
		default:
			s.skip(1)
		}
	}
}

func (s *jsonState) fContext(c *Context) {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		switch string(k) {
		case "event_timestamp":
			if n, ok := s.fInteger(true); ok {
				c.EventTimestamp, c.HasEventTimestamp = n, true
			}
		case "event_id":
			s.fText(tCtxEventID)
		case "page":
			if !s.fObject() {
				continue
			}
			for k, more := s.firstKey(); more; k, more = s.nextKey() {
				switch string(k) {
				case "url":
					s.fText(tPageURL)
				case "referrer":
					s.fText(tPageReferrer)
				default:
					s.skip(2)
				}
			}
		case "device":
			if !s.fObject() {
				continue
			}
			for k, more := s.firstKey(); more; k, more = s.nextKey() {
				switch string(k) {
				case "ip":
					if s.fText(tDeviceIP) {
						s.hasDeviceIP = true
					}
				case "user_agent":
					if s.fText(tDeviceUA) {
						s.hasDevUA = true
					}
				case "cookie":
					s.fText(tDeviceCookie)
				default:
					s.skip(2)
				}
			}
		default:
			s.skip(1)
		}
	}
}

func (s *jsonState) fBrowser() {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		switch string(k) {
		case "ip":
			if sp, ok := s.fTextSpan(); ok && sp.end > sp.off {
				s.browserIP, s.hasBrowserIP = sp, true
			}
		case "user_agent":
			if sp, ok := s.fTextSpan(); ok && sp.end > sp.off {
				s.browserUA, s.hasBrUA = sp, true
			}
		default:
			s.skip(1)
		}
	}
}

// fIntegrations reads the first "facebook" member only, like fastjson's Object.Get.
func (s *jsonState) fIntegrations(f *Facebook) {
	seen := false
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		if string(k) != "facebook" || seen {
			s.skip(1)
			continue
		}
		seen = true
		if s.fObject() {
			s.fFacebook(f)
		}
	}
}

func (s *jsonState) fFacebook(f *Facebook) {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		switch string(k) {
		case "event_name":
			s.fText(tFBEventName)
		case "event_id":
			s.fText(tFBEventID)
		case "action_source":
			s.fText(tFBActionSource)
		case "fbp":
			s.fText(tFBFBP)
		case "fbc":
			s.fText(tFBFBC)
		case "opt_out":
			if b, ok := s.fBool(); ok {
				f.OptOut, f.HasOptOut = b, true
			}
		case "data_processing_options":
			if s.peek() == '"' {
				s.decline() // the fastjson path refuses a lone string here
				continue
			}
			var ok bool
			if s.dpo, ok = s.fList(s.dpo); ok {
				f.HasDataProcessingOptions = true
			}
		case "data_processing_options_country":
			if n, ok := s.fInteger(false); ok {
				f.DataProcessingOptionsCountry, f.HasDataProcessingOptionsCountry = n, true
			}
		case "data_processing_options_state":
			if n, ok := s.fInteger(false); ok {
				f.DataProcessingOptionsState, f.HasDataProcessingOptionsState = n, true
			}
		case "user_data":
			if s.fObject() {
				s.userData = s.fRawObject(s.userData[:0])
			}
		case "custom_data":
			if s.fObject() {
				s.customData = s.fRawObject(s.customData[:0])
			}
		case "app_data":
			if s.fObject() {
				off := len(s.raw)
				s.rawValue(3)
				s.appData, s.hasAppData = span{off, len(s.raw)}, true
			}
		default:
			s.skip(3)
		}
	}
}

// fItems reads items: null leaves Event.Items as it is, an array replaces it (as the fastjson path does).
func (s *jsonState) fItems() {
	switch s.peek() {
	case 'n':
		s.scalar()
		return
	case '[':
	default:
		s.decline()
		return
	}
	nums := s.elems[:0]
	for more := s.arrStart(); more; more = s.arrNext() {
		nums = append(nums, itemScratch{})
		it := &nums[len(nums)-1]
		if s.peek() != '{' {
			s.decline()
			break
		}
		for k, more := s.firstKey(); more; k, more = s.nextKey() {
			switch string(k) {
			case "quantity":
				if n, ok := s.fInteger(false); ok {
					it.quantity, it.hasQuantity = n, true
				}
			case "product":
				if s.fObject() {
					s.fProduct(it)
				}
			default:
				s.skip(2)
			}
		}
	}
	s.elems, s.hasItems = nums, true
}

func (s *jsonState) fProduct(it *itemScratch) {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		var field uint8
		switch string(k) {
		case "id":
			field = prodID
		case "name":
			field = prodName
		case "currency":
			field = prodCurrency
		case "category_1":
			field = prodCategory1
		case "category_2":
			field = prodCategory1 + 1
		case "category_3":
			field = prodCategory1 + 2
		case "category_4":
			field = prodCategory1 + 3
		case "category_5":
			field = prodCategory1 + 4
		case "price":
			if f, ok := s.fNumber(); ok {
				it.price, it.hasPrice = f, true
			}
			continue
		default:
			s.skip(3)
			continue
		}
		if sp, ok := s.fTextSpan(); ok {
			it.setSpan(field, sp)
		}
	}
}

// fRawObject stores every member as (key, canonical raw value), in input order, like rawObject.
func (s *jsonState) fRawObject(dst []rawRef) []rawRef {
	for k, more := s.firstKey(); more; k, more = s.nextKey() {
		key := s.addStr(k)
		off := len(s.raw)
		s.rawValue(3)
		dst = append(dst, rawRef{key: key, val: span{off, len(s.raw)}})
	}
	return dst
}

// fText is setText: a string or number recorded as the text of f, null ignored. It reports whether a
// non-empty value was set.
func (s *jsonState) fText(f textField) bool {
	sp, ok := s.fTextSpan()
	if !ok {
		return false
	}
	s.setSpan(f, sp)
	return sp.end > sp.off
}

// fTextSpan is text: ok is false for null (and when declined).
func (s *jsonState) fTextSpan() (span, bool) {
	if b, i := s.b, s.i; i < len(b) && b[i] == '"' {
		// The common case (a string right after the colon) without scalar's dispatch.
		start := i + 1
		j := start + strSpecial(b[start:])
		if j < len(b) && b[j] == '"' {
			s.i, s.escaped = j+1, false
			return s.addStr(b[start:j]), true
		}
		return s.addStr(s.scanEscaped(start, j)), !s.declined
	}
	kind, b := s.scalar()
	switch kind {
	case '"', '0':
		return s.addStr(b), true
	case 'n':
	default:
		s.decline()
	}
	return span{}, false
}

// fNumText is numText: the text of a number or numeric string; ok is false when absent (null, "").
func (s *jsonState) fNumText() ([]byte, bool) {
	kind, b := s.scalar()
	switch kind {
	case '0':
		return b, true
	case '"':
		b = trimSpaceBytes(b)
		if len(b) == 0 {
			return nil, false
		}
		if isDecimalText(b) {
			return b, true
		}
	case 'n':
		return nil, false
	}
	s.decline()
	return nil, false
}

func (s *jsonState) fNumber() (float64, bool) {
	b, ok := s.fNumText()
	if !ok {
		return 0, false
	}
	f, ok := parseFloatText(b)
	if !ok {
		s.decline()
	}
	return f, ok
}

func (s *jsonState) fInteger(truncate bool) (int64, bool) {
	b, ok := s.fNumText()
	if !ok {
		return 0, false
	}
	n, problem := parseIntText(b, truncate)
	if problem != "" {
		s.decline()
		return 0, false
	}
	return n, true
}

func (s *jsonState) fBool() (bool, bool) {
	kind, b := s.scalar()
	switch kind {
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		return false, false
	case '"':
		if v, ok := parseBoolText(b); ok {
			return v, true
		}
	}
	s.decline()
	return false, false
}

// fObject reports whether an object follows (left for the caller to read); null is consumed and reported as
// false, anything else declines.
func (s *jsonState) fObject() bool {
	switch s.peek() {
	case '{':
		return true
	case 'n':
		s.scalar()
	default:
		s.decline()
	}
	return false
}

// fList is list: an array of strings/numbers (nulls skipped) or one comma-separated string; present is false
// for null. dst is reset first, as in the fastjson path.
func (s *jsonState) fList(dst []span) ([]span, bool) {
	dst = dst[:0]
	switch s.peek() {
	case 'n':
		s.scalar()
		return dst, false
	case '"':
		_, b := s.scalar()
		return s.splitList(b, dst), true
	case '[':
		for more := s.arrStart(); more; more = s.arrNext() {
			kind, b := s.scalar()
			switch kind {
			case 'n':
			case '"', '0':
				if sp := s.trimSpan(s.addStr(b)); sp.end > sp.off {
					dst = append(dst, sp)
				}
			default:
				s.decline()
			}
		}
		return dst, true
	}
	s.decline()
	return dst, false
}
