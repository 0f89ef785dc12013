package normalize

import (
	"regexp/syntax"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// The phone fast path.
//
// phonenumbers.Parse costs ~10 µs and 36 allocations, most of it regular expressions, and real traffic brings a
// new number with almost every event, so the cache rarely helps. fastPhone computes the library's answer for the
// shapes that dominate (ASCII digits with spaces, dots, dashes or slashes, optionally after a '+' or the region's
// international prefix) by following the library's parse step by step with its own metadata, and declines
// (handled == false) every input or branch whose outcome depends on a regular expression it does not evaluate:
// the caller then asks the library. Where the library would consult a metadata pattern, the fast path only goes
// on when the pattern provably cannot match (the first digit is outside the set of characters the pattern can
// start with, computed once from the parsed pattern), so it never has to evaluate one.
//
// The steps mirrored, from phonenumberutil.go (nyaruka/phonenumbers v1.8.1, libphonenumber's algorithm):
//  1. extractPossibleNumber, isViablePhoneNumber, the extension and RFC 3966 handling: for input that starts
//     with '+' or a digit, ends with a digit, has at least three digits and only the separators above, they
//     keep the input whole and find no extension;
//  2. maybeExtractCountryCode: '+' (or, without a default region, the international form made by
//     internationalize), else the region's international prefix when it is a plain digit string, followed by a
//     country calling code of one to three digits; else the national number of the default region, declining
//     when it starts with the region's country code (the library then runs pattern matches);
//  3. maybeStripNationalPrefixAndCarrierCode with the metadata the library picks (the default region's for a
//     national number, the calling code's main region's otherwise): declined unless the prefix for parsing
//     cannot match, or is one of a few literal digit strings with no transform rule and the general number
//     pattern cannot match the unstripped number; then the possible-length test that decides whether the
//     stripped number is kept;
//  4. the NSN length bounds, and IsValidNumber, decided by automata compiled from the same metadata patterns
//     (phonevalid.go).
//
// FuzzPhoneFastPath compares it with the library on every input it accepts; TestPhoneFastPathTable pins the
// tricky cases.

// phoneMeta is what the fast path needs from one region's metadata.
type phoneMeta struct {
	cc    int
	ccStr string

	// intlLiteral is the international (IDD) prefix when it is a plain digit string ("00", "011"); otherwise
	// intlFirst/intlNullable describe the pattern: where it may match at the start, the fast path declines.
	intlLiteral  string
	intlFirst    digitSet
	intlNullable bool

	// National prefix for parsing: none (nppNone); a few literal alternatives tried in order (nppAlts, with no
	// transform rule); or a pattern the fast path only knows the possible first digits of.
	nppNone     bool
	nppAlts     []string
	nppFirst    digitSet
	nppNullable bool

	// genFirst/genNullable describe the general national number pattern (the viability check of step 3).
	genFirst    digitSet
	genNullable bool

	// possible and localOnly are the general description's possible lengths; noPattern marks metadata whose
	// general pattern is empty (only the NSN length bounds apply then).
	possible  []int32
	localOnly []int32
	noPattern bool
	unusable  bool // metadata the fast path does not trust itself to read like the library

	phoneMetaValidity // validity automata (phonevalid.go)
}

// digitSet has bit d set for each ASCII digit d a pattern may start with; bit 10 stands for anything else.
type digitSet uint16

const anyChar digitSet = 1<<11 - 1

func (s digitSet) has(c byte) bool { return s&(1<<(c-'0')) != 0 }

// phoneTables indexes the library's metadata the way the library does (see newMetadataContainer): by region
// code, and by calling code for the calling code's main region (getMetadataForRegionOrCallingCode).
type phoneTables struct {
	byRegion map[string]*phoneMeta
	byCC     [1000]*phoneMeta // nil: not a calling code, or one without usable metadata
	validCC  [1000]bool       // the library's countryCodeToRegion keys
	// ccRegions lists, by calling code, the metadata of its regions in the library's order (main region first;
	// the non-geographical entity's for codes such as 800).
	ccRegions [1000][]*phoneMeta
	// codes holds every pair of lowercase letters as a string ("fr"), regions the upper-case region ("FR") of
	// the pairs the library has metadata for ("" for the others), both by pairIndex: a country code found in an
	// event becomes a phone region without allocating.
	codes   [26 * 26]string
	regions [26 * 26]string
}

// loadPhoneTables builds the tables once; they are immutable afterwards and shared by every Normalizer.
var loadPhoneTables = sync.OnceValue(buildPhoneTables)

func buildPhoneTables() *phoneTables {
	t := &phoneTables{byRegion: map[string]*phoneMeta{}}
	for a := byte('a'); a <= 'z'; a++ {
		for b := byte('a'); b <= 'z'; b++ {
			t.codes[pairIndex(a, b)] = string([]byte{a, b})
		}
	}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return t // no metadata: every input goes to the library, which reports the problem itself
	}
	nonGeo := map[int]*phoneMeta{}
	for _, m := range coll.GetMetadata() {
		pm := newPhoneMeta(m)
		if m.GetId() == "001" {
			nonGeo[int(m.GetCountryCode())] = pm
		} else {
			t.byRegion[m.GetId()] = pm
			if id := m.GetId(); len(id) == 2 && 'A' <= id[0] && id[0] <= 'Z' && 'A' <= id[1] && id[1] <= 'Z' {
				t.regions[pairIndex(id[0]+'a'-'A', id[1]+'a'-'A')] = id
			}
		}
	}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		if cc <= 0 || cc >= len(t.byCC) {
			continue
		}
		t.validCC[cc] = true
		for _, r := range phonenumbers.GetRegionCodesForCountryCode(cc) {
			m := t.byRegion[r]
			if r == "001" {
				m = nonGeo[cc]
			}
			if m == nil {
				t.ccRegions[cc] = nil // unknown metadata: leave validity to the library
				break
			}
			t.ccRegions[cc] = append(t.ccRegions[cc], m)
		}
		switch main := phonenumbers.GetRegionCodeForCountryCode(cc); main {
		case "001":
			t.byCC[cc] = nonGeo[cc]
		default:
			t.byCC[cc] = t.byRegion[main]
		}
	}
	return t
}

func newPhoneMeta(m *phonenumbers.PhoneMetadata) *phoneMeta {
	pm := &phoneMeta{cc: int(m.GetCountryCode())}
	pm.md = m
	pm.ccStr = strconv.Itoa(pm.cc)

	intl := m.GetInternationalPrefix()
	if isDigits(intl) {
		pm.intlLiteral = intl
	} else {
		pm.intlFirst, pm.intlNullable = patternStart(intl)
	}

	npp := m.GetNationalPrefixForParsing()
	switch alts, ok := literalAlternatives(npp); {
	case npp == "":
		pm.nppNone = true
	case ok && m.GetNationalPrefixTransformRule() == "":
		pm.nppAlts = alts
	default:
		pm.nppFirst, pm.nppNullable = patternStart(npp)
	}

	gen := m.GetGeneralDesc()
	pm.genFirst, pm.genNullable = patternStart(gen.GetNationalNumberPattern())
	pm.noPattern = gen.GetNationalNumberPattern() == ""
	pm.possible = gen.GetPossibleLength()
	pm.localOnly = gen.GetPossibleLengthLocalOnly()
	// The library would index an empty slice: never take the fast path with such metadata.
	pm.unusable = len(pm.possible) == 0 && !pm.noPattern
	return pm
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// literalAlternatives reports whether pattern is a digit string or an alternation of digit strings, and
// returns them in order: anchored at the start, Go's leftmost-first matching then picks the first alternative
// that is a prefix of the input, as the library's FindSubmatchIndex does.
func literalAlternatives(pattern string) ([]string, bool) {
	if pattern == "" {
		return nil, false
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	lit := func(r *syntax.Regexp) (string, bool) {
		if r.Op != syntax.OpLiteral || r.Flags&syntax.FoldCase != 0 {
			return "", false
		}
		s := string(r.Rune)
		return s, isDigits(s)
	}
	if s, ok := lit(re); ok {
		return []string{s}, true
	}
	if re.Op != syntax.OpAlternate {
		return nil, false
	}
	var out []string
	for _, sub := range re.Sub {
		s, ok := lit(sub)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// patternStart returns the characters a match of pattern (as Go's regexp compiles it) may start with, and
// whether it may match the empty string. It over-approximates (assertions are taken as matching anything),
// which is the safe direction: the fast path only relies on a digit being outside the set. An unparsable
// pattern may start with anything.
func patternStart(pattern string) (digitSet, bool) {
	if pattern == "" {
		return 0, true
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return anyChar, true
	}
	return firstChars(re)
}

func firstChars(re *syntax.Regexp) (set digitSet, nullable bool) {
	switch re.Op {
	case syntax.OpNoMatch:
		return 0, false
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0, true
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return 0, true
		}
		if re.Flags&syntax.FoldCase != 0 {
			return anyChar, false
		}
		return runeSet(re.Rune[0], re.Rune[0]), false
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			set |= runeSet(re.Rune[i], re.Rune[i+1])
		}
		return set, false
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return anyChar, false
	case syntax.OpCapture:
		return firstChars(re.Sub[0])
	case syntax.OpStar, syntax.OpQuest:
		set, _ = firstChars(re.Sub[0])
		return set, true
	case syntax.OpPlus:
		return firstChars(re.Sub[0])
	case syntax.OpRepeat:
		if re.Max == 0 {
			return 0, true
		}
		set, nullable = firstChars(re.Sub[0])
		return set, nullable || re.Min == 0
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			s, n := firstChars(sub)
			set |= s
			if !n {
				return set, false
			}
		}
		return set, true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			s, n := firstChars(sub)
			set |= s
			nullable = nullable || n
		}
		return set, nullable
	}
	return anyChar, true
}

// runeSet is the digitSet of the runes lo..hi.
func runeSet(lo, hi rune) digitSet {
	var s digitSet
	for d := rune('0'); d <= '9'; d++ {
		if lo <= d && d <= hi {
			s |= 1 << (d - '0')
		}
	}
	if lo < '0' || hi > '9' {
		s |= 1 << 10
	}
	return s
}

// The library's ValidationResult values the fast path distinguishes (testNumberLength).
const (
	lenPossible = iota
	lenLocalOnly
	lenTooShort
	lenTooLong
	lenInvalid
)

// testLength is the library's testNumberLength(number, metadata, UNKNOWN): the general description's lengths.
func (m *phoneMeta) testLength(n int) int {
	if len(m.possible) == 0 || m.possible[0] == -1 {
		return lenInvalid
	}
	l := int32(n)
	for _, x := range m.localOnly {
		if x == l {
			return lenLocalOnly
		}
	}
	switch {
	case m.possible[0] == l:
		return lenPossible
	case m.possible[0] > l:
		return lenTooShort
	case m.possible[len(m.possible)-1] < l:
		return lenTooLong
	}
	for _, x := range m.possible[1:] {
		if x == l {
			return lenPossible
		}
	}
	return lenInvalid
}

// maxFastDigits bounds the digits the fast path collects: a country code, an international prefix and the
// longest NSN (17) fit with room to spare; longer input goes to the library.
const maxFastDigits = 32

// appendFastPhone is parsePhone for the inputs it handles, appending the E.164 digits (without '+') to dst when
// ok; handled is false for every other input (dst is then returned unchanged and the caller must ask the
// library). region is "" or a region the library supports. It allocates nothing beyond growing dst.
func appendFastPhone(dst []byte, t *phoneTables, s, region string) (out []byte, ok, handled bool) {
	var buf [maxFastDigits]byte
	n := 0
	plus := false
	if len(s) == 0 || len(s) > phonenumbers.MAX_INPUT_STRING_LENGTH {
		return dst, false, false
	}
	i := 0
	if s[0] == '+' {
		plus, i = true, 1
	}
	if i >= len(s) || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return dst, false, false
	}
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			if n == len(buf) {
				return dst, false, false
			}
			buf[n] = c
			n++
		case c == ' ' || c == '.' || c == '-' || c == '/':
			if n == 0 && !plus {
				return dst, false, false // extractPossibleNumber would skip it: leave such input to the library
			}
		default:
			return dst, false, false
		}
	}
	if n < 3 {
		return dst, false, false
	}
	digits := buf[:n]

	var (
		cc    int
		nn    []byte     // the national number being built
		strip *phoneMeta // the metadata the library strips the national prefix with
	)
	international := plus
	if region == "" && !plus && n >= 2 && s[0] == '0' && s[1] == '0' {
		digits, international = digits[2:], true // internationalize: a leading "00" is the international prefix
	} else if region == "" {
		international = true
	}
	def := t.byRegion[region]
	if !international {
		if def == nil {
			return dst, false, false
		}
		switch {
		case def.intlLiteral != "":
			if hasPrefix(digits, def.intlLiteral) {
				rest := digits[len(def.intlLiteral):]
				if len(rest) == 0 || rest[0] != '0' {
					digits, international = rest, true
				}
			}
		case def.intlNullable || def.intlFirst.has(digits[0]):
			return dst, false, false
		}
	}
	if international {
		if len(digits) <= phonenumbers.MIN_LENGTH_FOR_NSN || digits[0] == '0' {
			return dst, false, false
		}
		for l := 1; l <= 3 && l <= len(digits); l++ {
			if c := digitsValue(digits[:l]); t.validCC[c] {
				cc, nn = c, digits[l:]
				break
			}
		}
		if cc == 0 || t.byCC[cc] == nil {
			return dst, false, false
		}
		strip = t.byCC[cc]
	} else {
		if hasPrefix(digits, def.ccStr) {
			return dst, false, false
		}
		cc, nn, strip = def.cc, digits, def
	}
	if len(nn) < phonenumbers.MIN_LENGTH_FOR_NSN || strip.unusable {
		return dst, false, false
	}

	switch {
	case strip.nppNone:
	case strip.nppAlts != nil:
		for _, p := range strip.nppAlts {
			if !hasPrefix(nn, p) {
				continue
			}
			if strip.genNullable || strip.genFirst.has(nn[0]) {
				return dst, false, false // the unstripped number might be viable: the library's regexp decides
			}
			switch strip.testLength(len(nn) - len(p)) {
			case lenTooShort, lenLocalOnly, lenInvalid:
			default:
				nn = nn[len(p):]
			}
			break
		}
	case strip.nppNullable || strip.nppFirst.has(nn[0]):
		return dst, false, false
	}
	if len(nn) < phonenumbers.MIN_LENGTH_FOR_NSN || len(nn) > phonenumbers.MAX_LENGTH_FOR_NSN {
		return dst, false, false
	}

	main := t.byCC[cc]
	if main == nil || main.unusable {
		return dst, false, false
	}
	valid, handled := t.validNumber(cc, nn)
	if !handled {
		return dst, false, false
	}
	if !valid {
		return dst, false, true
	}
	return append(append(dst, main.ccStr...), nn...), true, true
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// digitsValue parses 1 to 3 ASCII digits.
func digitsValue(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}
