package normalize

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DateOfBirth returns the normalized clear db: YYYYMMDD.
//
// Accepted forms:
//   - YYYYMMDD;
//   - three numbers separated by '-', '/', '.' or spaces, optionally followed by a time ('T' or ' ', then a
//     clock time and zone: "1997-02-16T00:00:00Z", "16/02/1997 00:00"): year first (YYYY-MM-DD) or year last;
//     one-digit days and months are fine;
//   - a day, a month name and a year in any order, with punctuation, ordinal suffixes ("3rd", "1er", "3º") and
//     the small words of dates ("de", "of", "der") ignored: "3 octobre 1945", "October 3, 1945", "3. Oktober
//     1945", "3 de octubre de 1945", "03-Oct-1945". Month names and their usual abbreviations in English, French,
//     German, Spanish, Italian, Portuguese and Dutch;
//   - a Unix timestamp in seconds (9 or 10 digits, or 8 when they are negative or not a YYYYMMDD date) or
//     milliseconds (11 to 13 digits), negative for births before 1970, taken in UTC.
//
// A year-last date with two numbers up to 12 ("03/04/1981") is AMBIGUOUS and read DAY FIRST (3 April), the order
// of most of the world and of the connector's European customers; when the first number is over 12 it is a day
// and when only the second one is, the date is month first ("03/25/1981" → 19810325). Two-digit years are
// rejected (no safe century). The date is taken as written: a birth date is a calendar date, never shifted to
// UTC (timestamps excepted, which have no other calendar). The date must exist and lie in the plausibility
// window, 1900-01-01 to today (UTC), as Meta documents; anything else is invalid.
func DateOfBirth(s string) (string, bool) {
	return stringOf(appendDateOfBirth(nil, prepare(s), today()))
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

// parseDate reads s (prepared) as a calendar date; ok is false when it is not in an accepted form. The date is
// not checked for existence or plausibility.
func parseDate(s string) (y, m, d int, ok bool) {
	if len(s) == 8 && allDigits(s) {
		if y, m, d := atoi(s[:4]), atoi(s[4:6]), atoi(s[6:]); m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m) {
			return y, m, d, true
		}
		// Not a calendar date: Unix seconds of mid-1970 to early 1973 have eight digits too.
		return unixDate(atoi(s), false)
	}
	if y, m, d, ok := parseTimestamp(s); ok {
		return y, m, d, true
	}
	s, ok = cutTime(s)
	if !ok {
		return 0, 0, 0, false
	}
	if a, b, c, ok := splitDate(s); ok {
		if y, m, d, ok := orderNumbers(a, b, c); ok {
			return y, m, d, true
		}
	}
	return parseDateWords(s)
}

// cutTime removes a clock time written after the date ("T00:00:00Z", " 00:00", " 12:00:00 AM", " 00:00 UTC"):
// from the hour before the first ':' to the end, which must read as a time. ok is false when what follows the
// date is not a time.
func cutTime(s string) (string, bool) {
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return s, true
	}
	h := i
	for h > 0 && '0' <= s[h-1] && s[h-1] <= '9' {
		h--
	}
	if h == i || h == 0 || !validTime(s[h:]) {
		return s, false
	}
	date := s[:h]
	for len(date) > 0 && (date[len(date)-1] == 'T' || date[len(date)-1] == ' ' || date[len(date)-1] == ',') {
		date = date[:len(date)-1]
	}
	return date, true
}

// orderNumbers puts three digit strings in year, month, day order: year first, or year last with the day first
// unless only the second number can be a day.
func orderNumbers(a, b, c string) (y, m, d int, ok bool) {
	switch {
	case len(a) == 4 && len(b) <= 2 && len(c) <= 2:
		return atoi(a), atoi(b), atoi(c), true
	case len(c) == 4 && len(a) <= 2 && len(b) <= 2:
		first, second := atoi(a), atoi(b)
		if first <= 12 && second > 12 {
			return atoi(c), first, second, true // unambiguously month first
		}
		return atoi(c), second, first, true
	}
	return 0, 0, 0, false
}

// parseTimestamp reads a Unix time in seconds (9 or 10 digits) or milliseconds (11 to 13), with an optional '-'.
func parseTimestamp(s string) (y, m, d int, ok bool) {
	digits := strings.TrimPrefix(s, "-")
	minDigits := 9
	if len(digits) != len(s) {
		minDigits = 8 // a negative number is never a YYYYMMDD date
	}
	if len(digits) < minDigits || len(digits) > 13 || !allDigits(digits) {
		return 0, 0, 0, false
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	if len(s) != len(digits) {
		v = -v
	}
	return unixDate(int(v), len(digits) > 10)
}

// unixDate is the UTC calendar date of a Unix time in seconds or milliseconds.
func unixDate(v int, millis bool) (y, m, d int, ok bool) {
	t := time.Unix(int64(v), 0)
	if millis {
		t = time.UnixMilli(int64(v))
	}
	yy, mm, dd := t.UTC().Date()
	return yy, int(mm), dd, true
}

// parseDateWords reads a date written with a month name: one day (1 or 2 digits), one month name and one year (4
// digits), in any order, among ignored words and punctuation.
func parseDateWords(s string) (y, m, d int, ok bool) {
	if len(s) > 64 || isDigitsAndSeps(s) {
		return 0, 0, 0, false
	}
	var nums [3]string
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case '0' <= r && r <= '9':
			j := i
			for j < len(s) && '0' <= s[j] && s[j] <= '9' {
				j++
			}
			if n == len(nums) {
				return 0, 0, 0, false
			}
			nums[n] = s[i:j]
			n++
			// An ordinal suffix right after the day ("3rd", "1er", "3º", "3.") is skipped with the words.
			i = j
		case unicode.IsLetter(r):
			j := i
			for j < len(s) {
				r2, size2 := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r2) && !unicode.IsMark(r2) {
					break
				}
				j += size2
			}
			word := lowerFull(s[i:j])
			switch {
			case monthOf(word) != 0:
				if m != 0 {
					return 0, 0, 0, false
				}
				m = monthOf(word)
			case dateFillers[word]:
			case i > 0 && '0' <= s[i-1] && s[i-1] <= '9' && ordinalSuffixes[word]:
			default:
				return 0, 0, 0, false
			}
			i = j
		default:
			i += size
		}
	}
	if m == 0 || n != 2 {
		return 0, 0, 0, false
	}
	switch {
	case len(nums[0]) == 4 && len(nums[1]) <= 2:
		return atoi(nums[0]), m, atoi(nums[1]), true
	case len(nums[1]) == 4 && len(nums[0]) <= 2:
		return atoi(nums[1]), m, atoi(nums[0]), true
	}
	return 0, 0, 0, false
}

// isDigitsAndSeps reports whether s has no letter (a numeric date the other forms already refused).
func isDigitsAndSeps(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; isASCIILetter(c) || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// monthOf returns the month (1-12) a lowercase month name or abbreviation stands for, 0 for none.
func monthOf(word string) int { return months[word] }

// months maps month names and their usual abbreviations in English, French, German, Spanish, Italian,
// Portuguese and Dutch, lowercase, with and without accents, to month numbers. No spelling means two months
// across these languages.
var months = func() map[string]int {
	names := [12]string{
		"january jan janvier janv januar jänner janner enero ene gennaio gen janeiro januari",
		"february feb febr février fevrier févr fevr februar febrero febbraio fevereiro fev februari",
		"march mar mars märz maerz marz mrz mär marzo março marco maart mrt",
		"april apr avril avr abril abr aprile",
		"may mai mayo maggio mag maio mei",
		"june jun juin juni junio giugno giu junho",
		"july jul juillet juil juli julio luglio lug julho",
		"august aug août aout agosto ago augustus",
		"september sep sept septembre septiembre setiembre settembre set setembro",
		"october oct octobre oktober okt octubre ottobre ott outubro out",
		"november nov novembre noviembre novembro",
		"december dec décembre decembre déc dezember dez diciembre dic dicembre dezembro",
	}
	m := map[string]int{}
	for i, list := range names {
		for _, w := range strings.Fields(list) {
			m[w] = i + 1
		}
	}
	return m
}()

// dateFillers are the small words found in written dates ("3 de octubre de 1945", "the 3rd of October") and
// weekday names, ignored.
var dateFillers = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields("de del of the le la den der am el du d em van " +
		"monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun " +
		"lundi mardi mercredi jeudi vendredi samedi dimanche " +
		"montag dienstag mittwoch donnerstag freitag samstag sonntag " +
		"lunes martes miércoles miercoles jueves viernes sábado sabado domingo " +
		"lunedì lunedi martedì martedi mercoledì mercoledi giovedì giovedi venerdì venerdi sabato domenica " +
		"segunda terça terca quarta quinta sexta feira " +
		"maandag dinsdag woensdag donderdag vrijdag zaterdag zondag") {
		m[w] = true
	}
	return m
}()

// ordinalSuffixes follow a day number: "3rd", "1er", "1ère", "3º" (NFKC makes º an o), "3e", "3ème", "3de".
var ordinalSuffixes = map[string]bool{
	"st": true, "nd": true, "rd": true, "th": true, "er": true, "re": true, "ère": true, "ere": true, "e": true,
	"ème": true, "eme": true, "o": true, "a": true, "de": true, "ste": true, "te": true,
}

// splitDate splits "x<sep>y<sep>z" where sep is one of - / . or a space (the same twice) and x, y, z are
// non-empty digits.
func splitDate(s string) (a, b, c string, ok bool) {
	i := indexSep(s)
	if j := strings.IndexByte(s, ' '); j >= 0 && (i < 0 || j < i) {
		i = j
	}
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

// validTime reports whether t reads as a clock time and zone: digits, ':', '.', '+', '-', spaces, 'Z', and the
// words AM, PM, UTC and GMT.
func validTime(t string) bool {
	if len(t) > 40 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case '0' <= c && c <= '9', c == ':', c == '.', c == '+', c == '-', c == ' ', c == 'Z', c == 'z':
		case isASCIILetter(c):
			j := i
			for j < len(t) && isASCIILetter(t[j]) {
				j++
			}
			switch strings.ToLower(t[i:j]) {
			case "am", "pm", "utc", "gmt":
			default:
				return false
			}
			i = j - 1
		default:
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
