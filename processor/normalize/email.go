package normalize

import (
	"bytes"
	"unicode/utf8"
)

// Email returns the normalized clear em: trimmed and lowercased, provided it looks like an address.
//
// The check is deliberately simple, to reject obvious garbage ("n/a", "john smith@x", "foo@bar") without
// rejecting real addresses: exactly one '@'; a local part of 1–64 bytes with no whitespace, control characters,
// quotes or `(),:;<>[\]`, not starting or ending with '.', without ".."; a domain of at least two dot-separated
// labels of letters (UTF-8 allowed), digits and '-' (not at a label's ends), the last one at least two
// characters and not all digits; 254 bytes at most. Nothing else is rewritten (no Gmail dot or "+tag" folding:
// Meta does not do it either).
func Email(s string) (string, bool) { return stringOf(appendEmail(nil, prepare(s))) }

func appendEmail(dst []byte, s string) ([]byte, bool) {
	if len(s) > 254 {
		return dst, false
	}
	start := len(dst)
	dst, ok := appendLower(dst, s)
	if !ok || !validEmail(dst[start:]) {
		return dst[:start], false
	}
	return dst, true
}

func validEmail(e []byte) bool {
	// bytes.IndexByte rather than a byte loop: it is vectorized, and this runs on most events.
	at := bytes.IndexByte(e, '@')
	if at <= 0 || at > 64 || at == len(e)-1 || bytes.IndexByte(e[at+1:], '@') >= 0 {
		return false
	}
	return validLocal(e[:at]) && validDomain(e[at+1:])
}

func validLocal(l []byte) bool {
	if l[0] == '.' || l[len(l)-1] == '.' {
		return false
	}
	for i := 0; i < len(l); {
		c := l[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(l[i:])
			if !printableNonSpace(r) {
				return false
			}
			i += size
			continue
		}
		if localForbidden[c] {
			return false
		}
		if c == '.' && l[i+1] == '.' { // l does not end with '.', so l[i+1] exists
			return false
		}
		i++
	}
	return true
}

// localForbidden are the ASCII bytes refused in a local part: controls, space, DEL and `"(),:;<>[\]`.
var localForbidden = func() (t [utf8.RuneSelf]bool) {
	for c := range byte(' ' + 1) {
		t[c] = true
	}
	t[0x7f] = true
	for _, c := range []byte(`"(),:;<>[\]`) {
		t[c] = true
	}
	return t
}()

func validDomain(d []byte) bool {
	labels, labelStart := 0, 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			continue
		}
		if !validLabel(d[labelStart:i]) {
			return false
		}
		labels++
		if i == len(d) && !validTLD(d[labelStart:i]) {
			return false
		}
		labelStart = i + 1
	}
	return labels >= 2
}

func validLabel(l []byte) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); {
		c := l[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(l[i:])
			if !isLetterOrDigit(r) {
				return false
			}
			i += size
			continue
		}
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
		i++
	}
	return true
}

func validTLD(l []byte) bool {
	if utf8.RuneCount(l) < 2 {
		return false
	}
	for _, c := range l {
		if c < '0' || c > '9' {
			return true
		}
	}
	return false // all digits: an IP address or garbage, not a domain
}
