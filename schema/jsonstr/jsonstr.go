// Package jsonstr writes JSON string literals, the one home of the escaping the decoders and the payload encoder
// share. Append writes a string byte for byte as encoding/json does (HTML-safe), for the Conversions API payloads
// (processor/fbevent); AppendMinimal escapes only what JSON requires, the canonical form in which the decoders
// (schema) keep raw JSON values. The two forms differ on purpose: a raw value's string without escapes is kept as
// its input text, and AppendMinimal writes a string with escapes exactly as such a text would read.
//
// It lives under schema because processor imports schema, never the reverse; it imports nothing of the project.
package jsonstr

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// Append appends s as a JSON string escaped exactly like encoding/json (HTML-safe): ", \ and control
// characters escaped (\b \f \n \r \t short forms, others as \u00xx), <, > and & as \u003c \u003e \u0026, U+2028
// and U+2029 escaped, and every invalid UTF-8 byte replaced by \ufffd.
//
// Most strings need none of this (hex digests, most URLs and user agents): they are recognized eight bytes at a
// time and copied with one append.
func Append(dst []byte, s string) []byte {
	if plainString(s) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendEscaped(dst, s)
}

// AppendMinimal appends b (valid UTF-8; a string or a byte slice, so neither is copied to call it) as a JSON string
// literal with only what JSON requires escaped: '"', '\\' (as \" and \\) and control characters (\n \r \t short
// forms, others, \b and \f included, as \u00xx). Every other byte, <, > and & and non-ASCII included, is copied as
// it is.
func AppendMinimal[T string | []byte](dst []byte, b T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = appendByteEscape(append(dst, b[start:i]...), c, false)
		start = i + 1
	}
	dst = append(dst, b[start:]...)
	return append(dst, '"')
}

// appendByteEscape appends the escape of the ASCII byte c: \" \\ \n \r \t, \b and \f too when shortBF, and \u00xx
// for any other byte. Both forms call it with a constant shortBF.
func appendByteEscape(dst []byte, c byte, shortBF bool) []byte {
	switch c {
	case '\\', '"':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\b':
		if shortBF {
			return append(dst, '\\', 'b')
		}
	case '\f':
		if shortBF {
			return append(dst, '\\', 'f')
		}
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// plainString reports whether Append copies s as is.
func plainString(s string) bool {
	if len(s) < 8 {
		for i := 0; i < len(s); i++ {
			if !plainByte[s[i]] {
				return false
			}
		}
		return true
	}
	// Whole words, then the last eight bytes (overlapping the previous word when len(s) is not a multiple of 8).
	for i := 0; i < len(s)-8; i += 8 {
		if !plain8(load64(s, i)) {
			return false
		}
	}
	return plain8(load64(s, len(s)-8))
}

// plainByte is plain8 for one byte.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendEscaped is Append for a string that needs escaping or checking somewhere; runs of plain bytes are still
// skipped eight at a time.
func appendEscaped(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && plain8(load64(s, i)) {
			i += 8
		}
		// Byte by byte to the end of the word that needs a look (or of s); a rune may take i past it.
		for end := min(i+8, len(s)); i < end; {
			b := s[i]
			if b < utf8.RuneSelf {
				if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
					i++
					continue
				}
				dst = appendByteEscape(append(dst, s[start:i]...), b, true)
				i++
				start = i
				continue
			}
			c, size := utf8.DecodeRuneInString(s[i:])
			if c == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i += size
				start = i
				continue
			}
			if c == '\u2028' || c == '\u2029' {
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
				i += size
				start = i
				continue
			}
			i += size
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// load64 reads s[i:i+8] as a little-endian word (the compiler turns this into one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plain8 reports whether all eight bytes of w are ASCII that Append copies as is: not a control character, '"',
// '\\', '<', '>' or '&'. It is written out so that the compiler inlines it, and it is exact (TestPlain8):
//   - w itself has a top bit set when a byte is not ASCII;
//   - for a word x of ASCII bytes and c <= 0x80, x-c*lsb sets a top bit exactly when some byte of x is below c:
//     the lowest such byte wraps to at least 0x80, and no byte borrows unless a lower one did. So w-0x20*lsb
//     flags control characters, and (x^b*lsb)-lsb flags a byte equal to b;
//   - or-ing one bit first lets one test find two bytes: x|0x04 is '&' (0x26) exactly for '"' (0x22) and '&',
//     x|0x02 is '>' (0x3e) exactly for '<' (0x3c) and '>'.
//
// The non-ASCII term makes the others exact: they only ever see ASCII bytes when it does not fire.
func plain8(w uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	qa := w | 0x04*lsb ^ '&'*lsb   // zero where the byte is '"' or '&'
	bs := w ^ '\\'*lsb             // zero where the byte is '\\'
	ltgt := w | 0x02*lsb ^ '>'*lsb // zero where the byte is '<' or '>'
	return (w|(w-0x20*lsb)|(qa-lsb)|(bs-lsb)|(ltgt-lsb))&msb == 0
}
