// Package normalize is the normalize + SHA-256 stage (docs/mapping.md): it turns the clear customer information the
// mapping stage put in user_data into the normalized, lowercase-hex SHA-256 values the Conversions API matches on.
//
// Contract:
//   - Every hashed field (em ph fn ln ge db ct st zp country external_id) is trimmed, normalized by its own rule
//     and hashed. A value that already is a SHA-256 (64 hex characters) is passed through, lowercased, never
//     hashed twice: pre-hashed inputs from upstream are trusted as they are.
//   - A value that is invalid once normalized is cleared and its key reported as dropped; it is never sent half
//     normalized (a wrong hash matches nobody and costs the event its match quality silently).
//   - client_ip_address, client_user_agent, fbc and fbp are only trimmed: they are sent in clear.
//   - Nothing here logs or returns personal data in an error.
//
// The per-field normalizers are exported (returning the normalized clear value) for tests, fuzzing and reuse,
// e.g. by a preview command that shows what would be hashed.
package normalize

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/nyaruka/phonenumbers"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// ErrUnknownRegion is returned by New when the default phone region is not a region the phone library knows.
var ErrUnknownRegion = errors.New("unknown phone region")

// maxInput bounds the length of a clear value we are willing to normalize. Real values are far shorter (an
// address is at most 254 bytes); longer ones are garbage, and the bound keeps the stage's cost per event bounded.
const maxInput = 512

// Normalizer normalizes and hashes user_data in place (docs/mapping.md). It is safe for concurrent use: its only
// mutable state is the phone cache, which has its own locks, and the last date seen as today (atomic).
type Normalizer struct {
	region string // upper-case ISO 3166-1 alpha-2 phone region, or "" for none
	// today is the UTC date (a date) when the clock was last read for a date of birth. Days only move forward, so
	// a birth date not after it is not in the future, and the clock needs reading only for a later one: reading
	// it for every event cost ~4% of a transform.
	today        atomic.Int64
	phones       *phoneCache
	tables       *phoneTables  // the phone fast path's view of the library's metadata (immutable, shared)
	short        *shortDigests // the digests of one- and two-letter values (immutable, shared)
	placeholders *placeholders // immutable
}

// Options configures a Normalizer.
type Options struct {
	// DefaultRegion is the ISO 3166-1 alpha-2 region ("FR", case-insensitive) of national phone numbers of events
	// whose user.country is absent or not a region the phone library knows; "" for none.
	DefaultRegion string
	// Placeholders are values that mean "no data" ("n/a", "null", "-"): a field equal to one of them, ignoring
	// case, after trimming and NFKC, is dropped (ReasonPlaceholder) instead of hashed. Nil or empty: none.
	Placeholders []string
}

// New returns a Normalizer whose phone numbers without an international prefix are read in defaultRegion (see
// Options.DefaultRegion), with no placeholders. An unknown region is an error (ErrUnknownRegion): silently
// parsing every number in the wrong country would drop or mis-hash all of them.
func New(defaultRegion string) (*Normalizer, error) {
	return NewWithOptions(Options{DefaultRegion: defaultRegion})
}

// NewWithOptions returns a Normalizer configured by o; an unknown default region is ErrUnknownRegion.
func NewWithOptions(o Options) (*Normalizer, error) {
	region := strings.ToUpper(strings.TrimSpace(o.DefaultRegion))
	if region != "" && (len(region) != 2 || phonenumbers.GetCountryCodeForRegion(region) == 0) {
		return nil, fmt.Errorf("normalize: default phone region %q: %w", o.DefaultRegion, ErrUnknownRegion)
	}
	n := &Normalizer{
		region: region, phones: newPhoneCache(), tables: loadPhoneTables(), short: loadShortDigests(),
		placeholders: newPlaceholders(o.Placeholders),
	}
	n.today.Store(int64(today()))
	return n, nil
}

// field identifies one hashed user_data field; it lets UserData dispatch with direct calls (no function values),
// so the scratch buffer stays on the stack.
type field uint8

const (
	fieldEm field = iota
	fieldPh
	fieldFn
	fieldLn
	fieldGe
	fieldDb
	fieldCt
	fieldSt
	fieldZp
	fieldCountry
	fieldExternalID
	numFields
)

// order is the order fields are normalized in: the country first, because its code is the region of the event's
// national phone numbers (and tells a US zip code).
var order = [numFields]field{
	fieldCountry, fieldEm, fieldPh, fieldFn, fieldLn, fieldGe, fieldDb, fieldCt, fieldSt, fieldZp, fieldExternalID,
}

// hexLen is the length of a digest in hex.
const hexLen = 2 * sha256.Size

// keys are the user_data keys of the fields, as reported in Drops.
var keys = [...]string{
	fieldEm: "em", fieldPh: "ph", fieldFn: "fn", fieldLn: "ln", fieldGe: "ge", fieldDb: "db", fieldCt: "ct",
	fieldSt: "st", fieldZp: "zp", fieldCountry: "country", fieldExternalID: "external_id",
}

// FieldIndex returns the index of user_data key k in Fields and Drops, or -1.
func FieldIndex(k string) int {
	for i, key := range keys {
		if key == k {
			return i
		}
	}
	return -1
}

// UserData normalizes and hashes every hashed field of ud in place and trims the clear ones. A field that is
// empty after trimming is cleared and not reported. A field whose value is invalid after normalization is cleared
// and reported in the returned Drops with its reason; the caller decides eligibility afterwards.
//
// The digests it computes share one allocation (a string of 64 bytes per digest, sliced): retaining any of them
// retains all, which is at most 704 bytes.
func (n *Normalizer) UserData(ud *fbevent.UserData) Drops {
	var (
		hexes  Digests
		hashed [numFields]field
	)
	drops, nh := n.userData(ud, &hexes, &hashed)
	if nh > 0 {
		fields := fieldsOf(ud)
		all := string(hexes[:nh*hexLen])
		for i, f := range hashed[:nh] {
			*fields[f] = all[i*hexLen : (i+1)*hexLen]
		}
	}
	return drops
}

// Digests is the memory UserDataInto writes digests into: 64 hex bytes for each of the eleven hashed fields.
type Digests [int(numFields) * hexLen]byte

// UserDataInto is UserData without its allocation: the digests are written into *d and the hashed fields of ud
// alias it. They are valid only until *d is reused or written again; the caller must be done with ud (or copy
// its hashed fields) before that. It suits a hot path that encodes ud right away from pooled memory.
func (n *Normalizer) UserDataInto(ud *fbevent.UserData, d *Digests) Drops {
	var hashed [numFields]field
	drops, nh := n.userData(ud, d, &hashed)
	fields := fieldsOf(ud)
	for i, f := range hashed[:nh] {
		*fields[f] = unsafe.String(&d[i*hexLen], hexLen)
	}
	return drops
}

// Field returns the normalized clear value of one user_data field (key "em", "ph", … as in Fields) as UserData
// would hash it, or the reason it would be dropped. country is the event's user.country in clear ("" for none):
// it is the region of a national phone number and marks a US zip code. A value that is empty after trimming is
// ("", Kept); a pre-hashed value is returned lowercased. It serves tests, the corpus and tools that show what
// would be hashed.
func (n *Normalizer) Field(key, value, country string) (string, Reason) {
	f := FieldIndex(key)
	if f < 0 {
		return "", ReasonEmpty
	}
	var region, cc string
	if c, ok := Country(country); ok {
		cc = c
		region = n.regionOf(c)
	}
	if region == "" {
		region = n.region
	}
	s := trimSpace(value)
	if s == "" {
		return "", Kept
	}
	if h, ok := passThrough(s); ok {
		return h, Kept
	}
	b, r := n.appendField(field(f), nil, s, region, cc)
	if r != Kept {
		return "", r
	}
	return string(b), Kept
}

// fieldsOf returns the hashed fields of ud by field.
func fieldsOf(ud *fbevent.UserData) [numFields]*string {
	return [numFields]*string{
		fieldEm: &ud.Em, fieldPh: &ud.Ph, fieldFn: &ud.Fn, fieldLn: &ud.Ln, fieldGe: &ud.Ge, fieldDb: &ud.Db,
		fieldCt: &ud.Ct, fieldSt: &ud.St, fieldZp: &ud.Zp, fieldCountry: &ud.Country,
		fieldExternalID: &ud.ExternalID,
	}
}

// userData is UserData's work: the digests go to hexes side by side, in the order of the fields hashed[:nh]
// they belong to, for the caller to assign. It retains neither hexes nor ud, so both can stay on a caller's
// stack.
func (n *Normalizer) userData(ud *fbevent.UserData, hexes *Digests, hashed *[numFields]field) (Drops, int) {
	fields := fieldsOf(ud)
	// One scratch buffer for every normalized value (each is hashed before the next one is built).
	var (
		buf    [256]byte
		nh     int
		drops  Drops
		region = n.region
		cc     string // the event's country code in clear, "" when unknown
	)
	for _, f := range order {
		v := fields[f]
		if *v == "" {
			continue // most events leave some fields empty: no store (and no write barrier) for them
		}
		s := trimSpace(*v)
		if s == "" {
			*v = ""
			continue
		}
		if h, ok := passThrough(s); ok {
			*v = h
			continue
		}
		b, r := n.appendField(f, buf[:0], s, region, cc)
		if r != Kept {
			*v = ""
			drops[f] = r
			continue
		}
		if f == fieldCountry && len(b) == 2 {
			i := pairIndex(b[0], b[1])
			cc = n.tables.codes[i]
			if r := n.tables.regions[i]; r != "" {
				region = r
			}
		}
		n.short.digestInto((*[hexLen]byte)(hexes[nh*hexLen:]), b)
		hashed[nh] = f
		nh++
	}

	trimInPlace(&ud.ClientIPAddress)
	trimInPlace(&ud.ClientUserAgent)
	trimInPlace(&ud.FBC)
	trimInPlace(&ud.FBP)
	return drops, nh
}

// regionOf returns the phone region (upper case) of a lowercase alpha-2 country code, "" when the phone library
// has no metadata for it.
func (n *Normalizer) regionOf(cc string) string {
	if len(cc) != 2 || cc[0] < 'a' || cc[0] > 'z' || cc[1] < 'a' || cc[1] > 'z' {
		return ""
	}
	return n.tables.regions[pairIndex(cc[0], cc[1])]
}

// pairIndex indexes tables by a pair of lowercase ASCII letters.
func pairIndex(a, b byte) int { return int(a-'a')*26 + int(b-'a') }

// trimInPlace trims *s, storing only when that changes it: a store of a pointer costs a GC write barrier while a
// collection is marking, and these values rarely have anything to trim.
func trimInPlace(s *string) {
	if t := trimSpace(*s); len(t) != len(*s) {
		*s = t
	}
}

// trimSpace is strings.TrimSpace with a shortcut for the common value that has nothing to trim: one that begins
// with a printable ASCII byte or the first byte of a non-space character (every Unicode space is at most ' ' or
// starts with 0xC2, 0xE1, 0xE2 or 0xE3 in UTF-8), and ends with a printable ASCII byte or a non-space character.
func trimSpace(s string) string {
	if len(s) == 0 {
		return s
	}
	c := s[0]
	startOK := ' ' < c && (c < utf8.RuneSelf || c >= 0xC3 && c != 0xE1 && c != 0xE2 && c != 0xE3)
	if startOK {
		e := s[len(s)-1]
		if ' ' < e && e < utf8.RuneSelf {
			return s
		}
		if e >= utf8.RuneSelf {
			if r, _ := utf8.DecodeLastRuneInString(s); r != utf8.RuneError && !unicode.IsSpace(r) {
				return s
			}
		}
	}
	return strings.TrimSpace(s)
}

// appendField appends the normalized clear value of s (already trimmed, not empty) for field f to dst, or
// returns why it is dropped. region is the phone region of the event; cc its lowercase country code or "".
func (n *Normalizer) appendField(f field, dst []byte, s string, region, cc string) ([]byte, Reason) {
	start := len(dst)
	if f != fieldExternalID {
		s = prepare(s)
	}
	if len(s) > maxInput {
		return dst, ReasonTooLong
	}
	if s == "" {
		return dst, ReasonEmpty
	}
	if n.placeholders.match(s) {
		return dst, ReasonPlaceholder
	}
	var ok bool
	switch f {
	case fieldEm:
		dst, ok = appendEmail(dst, s)
	case fieldPh:
		dst, ok = n.appendPhone(dst, s, region)
	case fieldFn, fieldLn:
		dst, ok = appendName(dst, s)
	case fieldGe:
		dst, ok = appendGender(dst, s)
	case fieldDb:
		if out, ok := appendDateOfBirth(dst, s, date(n.today.Load())); ok {
			return out, Kept
		}
		// Invalid, or after the day last seen as today: read the clock and decide on the real today.
		t := today()
		n.today.Store(int64(t))
		if out, ok := appendDateOfBirth(dst, s, t); ok {
			return out, Kept
		}
		if y, m, d, parsed := parseDate(s); parsed && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m) {
			return dst, ReasonImplausibleDate // a real day, outside the window
		}
		return dst, ReasonUnparseableDate
	case fieldCt:
		dst, ok = appendCity(dst, s)
	case fieldSt:
		dst, ok = appendState(dst, s)
	case fieldZp:
		dst, ok = appendZipIn(dst, s, cc == "us")
	case fieldCountry:
		dst, ok = appendCountry(dst, s)
	case fieldExternalID:
		dst, ok = appendExternalID(dst, s)
	}
	if !ok {
		return dst, failReason[f]
	}
	switch f {
	case fieldFn, fieldLn, fieldCt, fieldSt, fieldZp:
		if n.placeholders.matchFolded(dst[start:]) {
			return dst[:start], ReasonPlaceholder
		}
	}
	return dst, Kept
}

// failReason is the reason a field's rule rejects a value for (dates have two).
var failReason = [numFields]Reason{
	fieldEm: ReasonInvalidEmail, fieldPh: ReasonInvalidPhone, fieldFn: ReasonEmpty, fieldLn: ReasonEmpty,
	fieldGe: ReasonUnknownGender, fieldDb: ReasonUnparseableDate, fieldCt: ReasonEmpty, fieldSt: ReasonEmpty,
	fieldZp: ReasonInvalidZip, fieldCountry: ReasonUnknownCountry, fieldExternalID: ReasonEmpty,
}

// passThrough reports whether s already is a SHA-256 in hex (any case) and returns it lowercased. Such a value is
// never hashed again: upstream pre-hashed it (docs/mapping.md, user.<field>_sha256).
//
// It reads eight bytes at a time (TestPassThroughEveryByte): an upstream that pre-hashes sends eleven of these
// per event. A hex digit in either case, or-ed with 0x20, is a lowercase hex digit; the only other bytes that
// become one are 0x10-0x19, which the control-character term refuses. Among hex digits, exactly 'A'-'F' have
// the 0x20 bit clear.
func passThrough(s string) (string, bool) {
	if len(s) != hexLen {
		return "", false
	}
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	var bad, upper uint64
	for i := 0; i < hexLen; i += 8 {
		w := load64(s, i)
		// w itself flags non-ASCII bytes, which makes w-0x20*lsb exact for the control characters.
		bad |= w | (w - 0x20*lsb) | notLowerHex8(w|0x20*lsb)
		upper |= ^w & (0x20 * lsb)
	}
	if bad&msb != 0 {
		return "", false
	}
	if upper != 0 {
		return strings.ToLower(s), true
	}
	return s, true
}

// notLowerHex8 returns a word with the top bit of some byte set exactly when a byte of w is not in '0'-'9' or
// 'a'-'f'. For an ASCII byte x, x+0x80-c has its top bit set exactly when x >= c, and carries into no other
// byte; a non-ASCII byte sets its own top bit through w (whatever its carry does to the bytes above).
func notLowerHex8(w uint64) uint64 {
	const lsb = 0x0101010101010101
	digit := (w + (0x80-'0')*lsb) &^ (w + (0x80-'9'-1)*lsb)
	lower := (w + (0x80-'a')*lsb) &^ (w + (0x80-'f'-1)*lsb)
	return w | ^(digit | lower)
}

// load64 reads s[i:i+8] as a little-endian word (the compiler turns this into one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Hash returns the lowercase hex SHA-256 of s.
func Hash(s string) string {
	var buf [256]byte
	if len(s) <= len(buf) {
		return hashBytes(append(buf[:0], s...))
	}
	return hashBytes([]byte(s))
}

// hashBytes returns the lowercase hex SHA-256 of b; the returned string is its only allocation.
func hashBytes(b []byte) string {
	var out [hexLen]byte
	encodeHex(&out, sha256.Sum256(b))
	return string(out[:])
}

// encodeHex writes sum in lowercase hex. Every event hashes up to eleven values, and encoding/hex's byte loop
// cost as much as a third of a hash. The eight words are written straight-line: unrolled, the compiler keeps the
// masks in registers instead of reloading them for every word (BenchmarkUserDataInto ~6% faster than the loop).
func encodeHex(dst *[hexLen]byte, sum [sha256.Size]byte) {
	a := binary.LittleEndian.Uint64(sum[0:])
	b := binary.LittleEndian.Uint64(sum[8:])
	c := binary.LittleEndian.Uint64(sum[16:])
	d := binary.LittleEndian.Uint64(sum[24:])
	binary.LittleEndian.PutUint64(dst[0:], hex8(a&0xffffffff))
	binary.LittleEndian.PutUint64(dst[8:], hex8(a>>32))
	binary.LittleEndian.PutUint64(dst[16:], hex8(b&0xffffffff))
	binary.LittleEndian.PutUint64(dst[24:], hex8(b>>32))
	binary.LittleEndian.PutUint64(dst[32:], hex8(c&0xffffffff))
	binary.LittleEndian.PutUint64(dst[40:], hex8(c>>32))
	binary.LittleEndian.PutUint64(dst[48:], hex8(d&0xffffffff))
	binary.LittleEndian.PutUint64(dst[56:], hex8(d>>32))
}

// hex8 returns the eight lowercase hex digits of the four bytes in the low half of x (the first byte in the low
// byte) as a little-endian word. The bytes are spread one per 16-bit lane; then each lane's high nibble goes to
// its low byte and its low nibble to its high byte (t>>4 brings the high nibble down, t<<8 moves the byte up,
// and the mask keeps one nibble of each byte). Each nibble v becomes '0'+v, plus 'a'-'0'-10 when v > 9.
func hex8(x uint64) uint64 {
	const lsb = 0x0101010101010101
	t := (x | x<<16) & 0x0000ffff0000ffff
	t = (t | t<<8) & 0x00ff00ff00ff00ff // byte k of x in byte 2k
	n := (t>>4 | t<<8) & (0x0f * lsb)
	return n + '0'*lsb + (n+6*lsb)>>4&lsb*('a'-'0'-10)
}

// stringOf is the exported normalizers' adapter from the append form.
func stringOf(b []byte, ok bool) (string, bool) {
	if !ok {
		return "", false
	}
	return string(b), true
}
