package normalize

import (
	"strings"
	"time"
)

// DateOfBirth returns the normalized clear db: YYYYMMDD.
//
// Accepted forms: YYYYMMDD; YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD; DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY; one-digit
// days and months in the separated forms; and a separated form written with two-digit day and month followed by
// a time ('T' or ' ' then digits, ':', '.', '+', '-', 'Z'), as in "1997-02-16T00:00:00Z".
// A year-last date is read DAY FIRST, the European order of the connector's customers: a US-style MM/DD/YYYY is
// misread when its day is 12 or less and rejected otherwise; send ISO dates from US sources. The date is taken as written: a birth date is a calendar date, never shifted to UTC.
// The date must exist and lie between 1900-01-01 and today (UTC); anything else is invalid.
func DateOfBirth(s string) (string, bool) {
	return stringOf(appendDateOfBirth(nil, strings.TrimSpace(s), today()))
}

// date is a calendar date as y*10000 + m*100 + d, comparable as an integer.
type date int

func today() date {
	y, m, d := time.Now().UTC().Date()
	return date(y*10000 + int(m)*100 + d)
}

func appendDateOfBirth(dst []byte, s string, now date) ([]byte, bool) {
	y, m, d, ok := parseDate(s)
	if !ok || y < 1900 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) || date(y*10000+m*100+d) > now {
		return dst, false
	}
	return append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		byte('0'+m/10), byte('0'+m%10), byte('0'+d/10), byte('0'+d%10)), true
}

func parseDate(s string) (y, m, d int, ok bool) {
	if len(s) == 8 && allDigits(s) {
		return atoi(s[:4]), atoi(s[4:6]), atoi(s[6:]), true
	}
	// Split off a time: only after a 10-character date part.
	datePart, timePart := s, ""
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		datePart, timePart = s[:10], s[11:]
	}
	if !validTime(timePart) {
		return 0, 0, 0, false
	}
	a, b, c, ok := splitDate(datePart)
	if !ok {
		return 0, 0, 0, false
	}
	switch {
	case len(a) == 4 && len(b) <= 2 && len(c) <= 2:
		return atoi(a), atoi(b), atoi(c), true
	case len(c) == 4 && len(a) <= 2 && len(b) <= 2:
		return atoi(c), atoi(b), atoi(a), true
	}
	return 0, 0, 0, false
}

// splitDate splits "x<sep>y<sep>z" where sep is one of - / . (the same twice) and x, y, z are non-empty digits.
func splitDate(s string) (a, b, c string, ok bool) {
	i := indexSep(s)
	if i <= 0 {
		return "", "", "", false
	}
	sep := s[i]
	j := strings.IndexByte(s[i+1:], sep)
	if j <= 0 {
		return "", "", "", false
	}
	j += i + 1
	a, b, c = s[:i], s[i+1:j], s[j+1:]
	if c == "" || !allDigits(a) || !allDigits(b) || !allDigits(c) {
		return "", "", "", false
	}
	return a, b, c, true
}

// indexSep is strings.IndexAny(s, "-/."), without building IndexAny's byte set on every call.
func indexSep(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '-' || c == '/' || c == '.' {
			return i
		}
	}
	return -1
}

func validTime(t string) bool {
	if len(t) > 32 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('0' <= c && c <= '9' || c == ':' || c == '.' || c == '+' || c == '-' || c == 'Z' || c == 'z') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi parses a short all-digit string (callers checked it).
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
