package normalize

import "strings"

// State returns the normalized clear st: lowercase letters only (no spaces, punctuation or digits, UTF-8 kept);
// a two-letter result is kept as the code it is ("CA" → "ca"); a US state or territory written in full becomes
// its two-letter ANSI code ("California" → "ca", "New York" → "ny"). Every other state, province or region
// stays in its letters-only form ("Ontario" → "ontario", "Île-de-France" → "îledefrance"): Meta's rule is the
// 2-letter code for US states only. Invalid when no letter remains.
func State(s string) (string, bool) { return stringOf(appendState(nil, prepare(s))) }

func appendState(dst []byte, s string) ([]byte, bool) {
	if len(s) > maxInput {
		return dst, false
	}
	start := len(dst)
	dst = appendLetters(dst, s)
	if len(dst) == start {
		return dst, false
	}
	if code, ok := states[string(dst[start:])]; ok {
		return append(dst[:start], code...), true
	}
	return dst, true
}

// Zip returns the normalized clear zp: lowercase ASCII letters and digits, spaces and punctuation removed
// ("SW1A 1AA" → "sw1a1aa", "75 008" → "75008"); a US ZIP+4 ("12345-6789", "12345 6789") keeps its first five
// digits. Other dashes are removed, not cut at ("00-950" → "00950": Polish, Portuguese and Japanese codes are
// written with a dash and their parts belong together). Invalid when the result is shorter than 3 or longer than
// 10 characters or when the input holds a non-ASCII character.
func Zip(s string) (string, bool) { return stringOf(appendZipIn(nil, prepare(s), false)) }

// appendZipIn is Zip for a prepared s; us marks an event whose country is the US, where nine digits without a
// separator are a ZIP+4 too ("940251234" → "94025").
func appendZipIn(dst []byte, s string, us bool) ([]byte, bool) {
	if len(s) > 64 {
		return dst, false
	}
	if isZipPlus4(s) || us && len(s) == 9 && allDigits(s) {
		return append(dst, s[:5]...), true
	}
	start := len(dst)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'z':
			dst = append(dst, c)
		case 'A' <= c && c <= 'Z':
			dst = append(dst, c+'a'-'A')
		case c >= 0x80:
			return dst[:start], false
		}
	}
	if n := len(dst) - start; n < 3 || n > 10 {
		return dst[:start], false
	}
	return dst, true
}

// isZipPlus4 reports whether s is five digits, a dash or space, and four digits.
func isZipPlus4(s string) bool {
	return len(s) == 10 && (s[5] == '-' || s[5] == ' ') && allDigits(s[:5]) && allDigits(s[6:])
}

// ExternalID returns the normalized clear external_id: trimmed only. Its case is kept: identifiers are often
// case-sensitive, and the same normalization must be applied wherever the customer sends this ID to Meta.
// Invalid only when empty.
//
// It is the one field not put in NFKC: an identifier is an opaque string, hashed byte for byte as the customer's
// other sources hash it.
func ExternalID(s string) (string, bool) {
	return stringOf(appendExternalID(nil, strings.TrimSpace(s)))
}

func appendExternalID(dst []byte, s string) ([]byte, bool) {
	if s == "" {
		return dst, false
	}
	return append(dst, s...), true
}

// states maps the letters-only form of US state and territory names to their codes.
var states = map[string]string{
	"alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca", "colorado": "co",
	"connecticut": "ct", "delaware": "de", "districtofcolumbia": "dc", "washingtondc": "dc", "florida": "fl",
	"georgia": "ga", "hawaii": "hi", "idaho": "id", "illinois": "il", "indiana": "in", "iowa": "ia",
	"kansas": "ks", "kentucky": "ky", "louisiana": "la", "maine": "me", "maryland": "md",
	"massachusetts": "ma", "michigan": "mi", "minnesota": "mn", "mississippi": "ms", "missouri": "mo",
	"montana": "mt", "nebraska": "ne", "nevada": "nv", "newhampshire": "nh", "newjersey": "nj",
	"newmexico": "nm", "newyork": "ny", "northcarolina": "nc", "northdakota": "nd", "ohio": "oh",
	"oklahoma": "ok", "oregon": "or", "pennsylvania": "pa", "rhodeisland": "ri", "southcarolina": "sc",
	"southdakota": "sd", "tennessee": "tn", "texas": "tx", "utah": "ut", "vermont": "vt", "virginia": "va",
	"washington": "wa", "westvirginia": "wv", "wisconsin": "wi", "wyoming": "wy",
	"puertorico": "pr", "guam": "gu", "americansamoa": "as", "northernmarianaislands": "mp",
	"usvirginislands": "vi", "virginislands": "vi", "unitedstatesvirginislands": "vi",
}
