package schema

import (
	"math"
	"strconv"
	"strings"
)

// Number and boolean texts: the strconv-free shortcuts for the common case and the checks that keep
// non-JSON numbers (NaN, Inf, hex, "1-2") out of the events.

// parseFloatText parses a number text (JSON number or isDecimalText); ok is false when it does not fit a float64.
func parseFloatText(b []byte) (float64, bool) {
	if f, ok := parseSimpleFloat(b); ok {
		return f, true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// maxSimpleDigits is the most decimal digits parseSimpleInt and parseSimpleFloat take: any such integer fits an
// int64 and, below 2^53, is exact in a float64.
const maxSimpleDigits = 15

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseSimpleFloat is the common case of parseFloatText without strconv: an optional '-', at most
// maxSimpleDigits digits with an optional fraction, no exponent. The mantissa and the power of ten are then
// both exact float64 values, so one IEEE division gives the correctly rounded result, as ParseFloat would
// (it takes the same shortcut). ok is false for anything else, left to strconv.
func parseSimpleFloat(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var m uint64
	digits, frac, dot := 0, 0, false
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > maxSimpleDigits || dot && frac == 0 {
		return 0, false
	}
	f := float64(m) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// parseSimpleInt is the common case of parseIntText without strconv: an optional '-' and at most
// maxSimpleDigits digits. ok is false for anything else, left to strconv.
func parseSimpleInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > maxSimpleDigits {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseIntText parses an integer from a number text; problem is the value-free reason when it cannot.
// Non-integral values are refused unless truncate.
func parseIntText(b []byte, truncate bool) (n int64, problem string) {
	if n, ok := parseSimpleInt(b); ok {
		return n, ""
	}
	// Parse integers exactly (float64 would round beyond 2^53); fall back to float for 1.5e3, 2.0 and the like.
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		return n, ""
	}
	f, err := strconv.ParseFloat(string(b), 64)
	switch {
	case err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f >= 0x1p63 || f < -0x1p63:
		return 0, "integer out of range"
	case f != math.Trunc(f) && !truncate:
		return 0, "want an integer"
	}
	return int64(f), ""
}

// parseBoolText reads "true" or "false" (surrounding spaces allowed).
func parseBoolText(b []byte) (val, ok bool) {
	switch strings.TrimSpace(string(b)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// isJSONNumber reports whether s is a number as RFC 8259 defines it.
func isJSONNumber[T string | []byte](s T) bool {
	return numberEnd(s, 0) == len(s)
}

// numberEnd returns the end of the number RFC 8259 defines that starts at s[i], or -1 when none does (no digit
// where one must be: after the sign, the '.' or the exponent mark). The caller checks what follows.
func numberEnd[T string | []byte](s T, i int) int {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digitsEnd(s, i+1)
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		d := i + 1
		if i = digitsEnd(s, d); i == d {
			return -1
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		if i = digitsEnd(s, d); i == d {
			return -1
		}
	}
	return i
}

// digitsEnd returns the end of the run of decimal digits that starts at s[i].
func digitsEnd[T string | []byte](s T, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// isDecimalText reports whether a numeric string is plain decimal notation (optionally signed, with a fraction
// and exponent). It rules out what strconv.ParseFloat would also accept: "NaN", "Inf", hex floats, underscores.
func isDecimalText(s []byte) bool {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E':
		default:
			return false
		}
	}
	return digits
}
