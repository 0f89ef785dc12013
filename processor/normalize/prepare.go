package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// prepare is the step every field rule starts from (external_id excepted): the value trimmed and, when it holds
// a non-ASCII character, put in Unicode NFKC, which folds compatibility forms — full-width digits and letters
// (a common IME artefact in Japanese data), ligatures, superscripts, non-breaking and ideographic spaces — into
// the characters a customer's other sources send. ASCII text is its own NFKC: the common case costs one scan.
func prepare(s string) string {
	s = trimSpace(s)
	if isASCII(s) || latinNFKC(s) {
		return s
	}
	if !utf8.ValidString(s) {
		// Invalid bytes become U+FFFD first: the norm package may read them together with the character that
		// follows, leaving it unfolded, so that normalizing the output again would change it. U+FFFD is no
		// letter, digit or address character, so every rule drops it (or the value) afterwards.
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	t := norm.NFKC.String(s)
	if len(t) == len(s) && t == s {
		return s
	}
	return strings.TrimSpace(t) // NFKC can turn a compatibility space (U+3000) into a space
}

// latinNFKC reports whether s, besides ASCII, holds only letters of Latin-1 Supplement and Latin Extended-A
// (U+00C0–U+017F) that have no compatibility decomposition: then s is its own NFKC, since none of these letters
// decomposes under NFKC (Ĳ ĳ Ŀ ŀ ŉ ſ, which do, are excluded) and nothing in s can compose with them (composition
// needs a combining mark, U+0300 and above). This is most accented text in Western and Central European names,
// cities and addresses, and the check costs a fraction of norm's quick check (TestLatinNFKC verifies it).
func latinNFKC(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			continue
		}
		if i+1 >= len(s) {
			return false
		}
		d := s[i+1]
		switch c {
		case 0xC3: // U+00C0–U+00FF
		case 0xC4: // U+0100–U+013F
			if d == 0xB2 || d == 0xB3 || d == 0xBF {
				return false
			}
		case 0xC5: // U+0140–U+017F
			if d == 0x80 || d == 0x89 || d == 0xBF {
				return false
			}
		default:
			return false
		}
		if d < 0x80 || d > 0xBF {
			return false // not a continuation byte: invalid UTF-8
		}
		i++
	}
	return true
}

// isASCII reports whether s has no byte ≥ 0x80, eight bytes at a time.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if load64(s, i)&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerFull is full Unicode lowercasing, as JavaScript's toLowerCase and Python's str.lower do, which is what
// Meta's pixel and SDKs apply: context-sensitive final sigma ("ΣΩΚΡΆΤΗΣ" → "σωκράτης") and one-to-many mappings
// ("İ" → "i̇", i and a combining dot). unicode.ToLower, rune by rune, gets both wrong. A Caser keeps state, so
// each call gets its own.
func lowerFull(s string) string {
	return cases.Lower(language.Und).String(s)
}

// needsFullLower reports whether s holds one of the two characters whose full lowercase mapping differs from
// unicode.ToLower: capital sigma (U+03A3, final sigma depends on context) and capital I with dot above (U+0130,
// the only unconditional one-to-many lowercase mapping of Unicode's SpecialCasing). Any other text lowercases
// rune by rune to the same result, without the Caser's allocations (TestLowerRuneByRuneIsFull).
func needsFullLower(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if c := s[i]; c == 0xCE && s[i+1] == 0xA3 || c == 0xC4 && s[i+1] == 0xB0 {
			return true
		}
	}
	return false
}

// appendLowerRunes appends s lowercased rune by rune (valid UTF-8; see needsFullLower for when this is full
// lowercasing).
func appendLowerRunes(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += size
	}
	return dst
}

// placeholders is a configured list of values that mean "no data" (n/a, null, unknown, …): such a value is
// dropped (ReasonPlaceholder), never hashed. The match is on the prepared value, ignoring case. Most values are
// ruled out by their length or first byte without comparing anything.
type placeholders struct {
	list  []string // lowercase
	lens  uint64   // bit n set when some entry is n bytes long (n < 64)
	first [256]bool
	// folded holds the entries of at least three letters or digits in the form the text rules give them
	// ("null", "unknown"), so that "(null)", "<unknown>" or "Test." are caught after normalization too; shorter
	// forms ("na" from "n/a") are real names and are not matched that way.
	folded      map[string]bool
	foldedLens  uint64
	foldedFirst [256]bool
}

func newPlaceholders(list []string) *placeholders {
	p := &placeholders{}
	for _, w := range list {
		w = strings.TrimSpace(w)
		if w == "" || len(w) >= 64 {
			continue
		}
		w = prepare(w)
		if isASCII(w) {
			w = strings.ToLower(w)
		} else {
			w = lowerFull(w)
		}
		p.list = append(p.list, w)
		p.lens |= 1 << len(w)
		p.first[w[0]] = true
		if c := w[0]; 'a' <= c && c <= 'z' {
			p.first[c-'a'+'A'] = true
		}
		if w[0] >= utf8.RuneSelf {
			// Case-insensitive matching of a non-ASCII first letter: let every non-ASCII first byte through.
			for c := utf8.RuneSelf; c < 256; c++ {
				p.first[c] = true
			}
		}
		var buf [64]byte
		if f := appendLettersDigits(buf[:0], w); len(f) >= 3 {
			if p.folded == nil {
				p.folded = map[string]bool{}
			}
			p.folded[string(f)] = true
			p.foldedLens |= 1 << len(f)
			p.foldedFirst[f[0]] = true
		}
	}
	return p
}

// matchFolded reports whether a value normalized by a text rule (letters, or letters and digits, lowercase) is
// the folded form of a placeholder.
func (p *placeholders) matchFolded(b []byte) bool {
	if len(b) < 3 || len(b) >= 64 || p.foldedLens&(1<<len(b)) == 0 || !p.foldedFirst[b[0]] {
		return false
	}
	return p.folded[string(b)]
}

// appendLettersDigits appends the lowercase letters and digits of s.
func appendLettersDigits(dst []byte, s string) []byte {
	for _, r := range lowerFull(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// match reports whether the prepared value s is a placeholder.
func (p *placeholders) match(s string) bool {
	if len(s) == 0 || len(s) >= 64 || p.lens&(1<<len(s)) == 0 || !p.first[s[0]] {
		// The length filter is exact for ASCII; a non-ASCII value whose lowercase form changes length is not
		// caught, which only matters for placeholders written in non-Latin scripts with such letters.
		return false
	}
	for _, w := range p.list {
		if len(w) == len(s) && strings.EqualFold(w, s) {
			return true
		}
	}
	return false
}
