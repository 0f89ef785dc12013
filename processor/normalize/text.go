package normalize

import (
	"encoding/binary"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Name returns the normalized clear fn/ln: lowercase letters only, UTF-8 kept ("Éloïse" → "éloïse").
//
// Choice (Meta says "lowercase, no punctuation, UTF-8 for special characters" and is silent on inner spaces):
// spaces, punctuation, digits and symbols are all removed, so "Jean-Pierre", "jean pierre" and "JEAN PIERRE"
// hash alike ("jeanpierre"); this matches what Meta's own SDK normalizers do for names (they keep letters only).
// Letters keep their accents and the result is in Unicode NFC, so a decomposed "e\u0301" and "é" hash alike.
// Invalid when no letter remains.
func Name(s string) (string, bool) { return stringOf(appendName(nil, prepare(s))) }

// City returns the normalized clear ct: lowercase letters only, no spaces, punctuation or digits, UTF-8 kept
// ("Saint-Étienne" → "saintétienne", "Paris 15" → "paris"), as Meta's SDK does. Invalid when no letter remains.
func City(s string) (string, bool) { return stringOf(appendCity(nil, prepare(s))) }

func appendName(dst []byte, s string) ([]byte, bool) { return appendLettersValid(dst, s) }

func appendCity(dst []byte, s string) ([]byte, bool) { return appendLettersValid(dst, s) }

func appendLettersValid(dst []byte, s string) ([]byte, bool) {
	if len(s) > maxInput {
		return dst, false
	}
	start := len(dst)
	dst = appendLetters(dst, s)
	return dst, len(dst) > start
}

// appendLetters appends to dst the letters and combining marks of s, lowercased, dropping everything else
// (spaces, punctuation, digits, symbols, invalid UTF-8), and puts what it appended in NFC. The result is valid
// UTF-8, and appendLetters(appendLetters(s)) == appendLetters(s).
//
// ASCII input takes a byte loop. Other input is lowercased as a whole with full Unicode case mapping (lowerFull:
// final sigma, "İ" → "i̇") before the filter, since the mapping of a letter can depend on its neighbours.
func appendLetters(dst []byte, s string) []byte {
	start := len(dst)
	if !isASCII(s) && needsFullLower(s) {
		s = lowerFull(s)
	}
	var maxRune rune
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z':
				dst = append(dst, c)
			case 'A' <= c && c <= 'Z':
				dst = append(dst, c+'a'-'A')
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			continue
		}
		if unicode.IsLetter(r) || unicode.IsMark(r) {
			r = unicode.ToLower(r)
			maxRune = max(maxRune, r)
			dst = utf8.AppendRune(dst, r)
		}
	}
	// Below U+0300 (Latin, Latin-1, Latin Extended A and B) every character is in NFC and none combines with
	// its neighbours (TestLatinIsNFC), so the common case needs no normalization pass.
	if maxRune >= 0x300 {
		dst = appendNFC(dst, start)
	}
	return dst
}

// appendNFC rewrites dst[start:] in NFC. Removing characters can leave a sequence that composes differently, so
// the letters are composed again, and lowercased again while that changes them (at most a couple of rounds on
// real text). It works on a copy: the norm package lets its arguments escape, and dst is usually a stack buffer
// we do not want moved to the heap.
func appendNFC(dst []byte, start int) []byte {
	s := string(dst[start:])
	for range 4 {
		if norm.NFC.IsNormalString(s) {
			break
		}
		s = lowerFull(norm.NFC.String(s))
	}
	return append(dst[:start], s...)
}

// appendLower appends s lowercased to dst and reports whether s was valid UTF-8. ASCII goes eight bytes at a
// time (addresses, and most names and cities, are ASCII); anything else is lowercased as a whole by lowerFull,
// since a letter's lowercase can depend on its neighbours.
func appendLower(dst []byte, s string) ([]byte, bool) {
	if !isASCII(s) {
		if !utf8.ValidString(s) {
			return dst, false
		}
		if needsFullLower(s) {
			return append(dst, lowerFull(s)...), true
		}
		return appendLowerRunes(dst, s), true
	}
	i := 0
	for ; i+8 <= len(s); i += 8 {
		dst = binary.LittleEndian.AppendUint64(dst, lowerASCII8(load64(s, i)))
	}
	for ; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst, true
}

// lowerASCII8 lowercases the eight ASCII bytes of w (TestLowerASCII8). For an ASCII byte x, x+0x80-c has its
// top bit set exactly when x >= c and carries into no other byte; so the top bit of upper is set exactly for
// 'A'-'Z', and moved down to 0x20 it is the case bit to set.
func lowerASCII8(w uint64) uint64 {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	upper := (w + (0x80-'A')*lsb) &^ (w + (0x80-'Z'-1)*lsb) & msb
	return w | upper>>2
}

// printableNonSpace reports whether a non-ASCII rune may appear in an address's local part.
func printableNonSpace(r rune) bool {
	return r != utf8.RuneError && unicode.IsPrint(r) && !unicode.IsSpace(r)
}

// isLetterOrDigit reports whether a non-ASCII rune may appear in an internationalized domain label.
func isLetterOrDigit(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
}
