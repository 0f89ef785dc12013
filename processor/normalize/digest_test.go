package normalize

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// TestEncodeHex compares the word-at-a-time hex encoder with encoding/hex on every byte value in every lane and
// on real digests.
func TestEncodeHex(t *testing.T) {
	t.Parallel()
	var sums [][sha256.Size]byte
	for c := range 256 {
		for lane := range 4 {
			var s [sha256.Size]byte
			for i := lane; i < len(s); i += 4 {
				s[i] = byte(c)
			}
			sums = append(sums, s)
		}
	}
	for _, in := range []string{"", "a", "john.smith@example.com", "33612345678"} {
		sums = append(sums, sha256.Sum256([]byte(in)))
	}
	// Every byte value next to every other in each position pair, then random sums.
	for c := range 256 {
		var s [sha256.Size]byte
		for i := range s {
			s[i] = byte(c + i*37)
		}
		sums = append(sums, s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		var s [sha256.Size]byte
		for i := 0; i < len(s); i += 8 {
			binary.LittleEndian.PutUint64(s[i:], rng.Uint64())
		}
		sums = append(sums, s)
	}
	sums = append(sums, [sha256.Size]byte{}, [sha256.Size]byte{0: 0xff, 31: 0xff})
	var ff [sha256.Size]byte
	for i := range ff {
		ff[i] = 0xff
	}
	sums = append(sums, ff)
	for _, s := range sums {
		var got [hexLen]byte
		encodeHex(&got, s)
		if want := hex.EncodeToString(s[:]); string(got[:]) != want {
			t.Fatalf("encodeHex(%x) = %s", s, got)
		}
	}
}

// TestUserDataMatchesFieldNormalizers cross-checks UserData, which writes all its digests from one shared buffer
// at the end, with the exported per-field normalizers and Hash, on a mix of hashed, pre-hashed, empty and
// invalid fields: every digest must land in its own field.
func TestUserDataMatchesFieldNormalizers(t *testing.T) {
	t.Parallel()
	n := newNormalizer(t, "FR")
	prehashed := strings.ToUpper(Hash("x"))
	for _, in := range []fbevent.UserData{
		frenchUser(),
		{Em: "not an address", Ph: prehashed, Fn: " ", Ln: "Smith", Ge: "?", Db: "1985-07-23", Ct: "42",
			St: "California", Zp: "1", Country: "fr", ExternalID: "C1", FBP: " fb.1.1.1 "},
		{Ln: prehashed, Country: "Nowhere", ExternalID: "\t"},
	} {
		want := in
		var wantDropped Drops
		for _, f := range []struct {
			key  string
			v    *string
			norm func(string) (string, bool)
		}{
			{"em", &want.Em, Email}, {"ph", &want.Ph, n.Phone}, {"fn", &want.Fn, Name}, {"ln", &want.Ln, Name},
			{"ge", &want.Ge, Gender}, {"db", &want.Db, DateOfBirth}, {"ct", &want.Ct, City}, {"st", &want.St, State},
			{"zp", &want.Zp, Zip}, {"country", &want.Country, Country}, {"external_id", &want.ExternalID, ExternalID},
		} {
			s := strings.TrimSpace(*f.v)
			switch h, ok := passThrough(s); {
			case s == "":
				*f.v = ""
			case ok:
				*f.v = h
			default:
				if c, ok := f.norm(s); ok {
					*f.v = Hash(c)
				} else {
					*f.v = ""
					wantDropped[FieldIndex(f.key)] = failReason[FieldIndex(f.key)]
				}
			}
		}
		want.ClientIPAddress, want.ClientUserAgent = strings.TrimSpace(want.ClientIPAddress), strings.TrimSpace(want.ClientUserAgent)
		want.FBC, want.FBP = strings.TrimSpace(want.FBC), strings.TrimSpace(want.FBP)
		got := in
		dropped := n.UserData(&got)
		if got != want || dropped != wantDropped {
			t.Errorf("UserData(%+v)\n = %+v, dropped %v\nwant %+v, dropped %v", in, got, dropped, want, wantDropped)
		}
		// UserDataInto gives the same result from caller memory, whatever that memory held before.
		var d Digests
		for i := range d {
			d[i] = 'x'
		}
		got = in
		dropped = n.UserDataInto(&got, &d)
		if got != want || dropped != wantDropped {
			t.Errorf("UserDataInto(%+v)\n = %+v, dropped %v\nwant %+v, dropped %v", in, got, dropped, want, wantDropped)
		}
	}
}

// TestShortDigests compares the table of one- and two-letter digests with sha256.Sum256 on every entry, and
// checks that nothing else is looked up in it (digestInto must hash every other value, whatever its length).
func TestShortDigests(t *testing.T) {
	t.Parallel()
	tab := loadShortDigests()
	var inputs [][]byte
	for a := range 256 {
		inputs = append(inputs, []byte{byte(a)})
		for b := range 256 {
			inputs = append(inputs, []byte{byte(a), byte(b)})
		}
	}
	for _, s := range []string{"", "abc", "fra", "é", "F", "fR", "zz ", strings.Repeat("a", 55), strings.Repeat("b", 56), strings.Repeat("c", 64), strings.Repeat("d", 200)} {
		inputs = append(inputs, []byte(s))
	}
	lookedUp := 0
	for _, in := range inputs {
		want := hex.EncodeToString(func() []byte { s := sha256.Sum256(in); return s[:] }())
		var got [hexLen]byte
		tab.digestInto(&got, in)
		if string(got[:]) != want {
			t.Fatalf("digestInto(%q) = %s, want %s", in, got, want)
		}
		d, ok := tab.lookup(in)
		short := (len(in) == 1 || len(in) == 2) && strings.Trim(string(in), "abcdefghijklmnopqrstuvwxyz") == ""
		if ok != short {
			t.Fatalf("lookup(%q) ok = %v", in, ok)
		}
		if ok {
			lookedUp++
			if string(d[:]) != want {
				t.Fatalf("lookup(%q) = %s, want %s", in, d, want)
			}
		}
	}
	if lookedUp != 26+26*26 {
		t.Errorf("%d values found in the table, want %d", lookedUp, 26+26*26)
	}
}

// TestPassThroughEveryByte puts every byte value at every position of a digest, in lower and upper case, and
// every pair of byte values at neighbouring positions, and compares passThrough with its definition.
func TestPassThroughEveryByte(t *testing.T) {
	t.Parallel()
	ref := func(s string) (string, bool) {
		if len(s) != hexLen {
			return "", false
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return "", false
			}
		}
		return strings.ToLower(s), true
	}
	check := func(b []byte) {
		s := string(b)
		got, ok := passThrough(s)
		want, wantOK := ref(s)
		if got != want || ok != wantOK {
			t.Fatalf("passThrough(%q) = %q, %v; want %q, %v", s, got, ok, want, wantOK)
		}
	}
	for _, digest := range []string{Hash("x"), strings.ToUpper(Hash("y")), strings.Repeat("0", hexLen)} {
		for pos := range hexLen {
			for c := range 256 {
				b := []byte(digest)
				b[pos] = byte(c)
				check(b)
			}
		}
		for _, pos := range []int{0, 3, 6, 7, 62} {
			for c := range 256 {
				for d := range 256 {
					b := []byte(digest)
					b[pos], b[pos+1] = byte(c), byte(d)
					check(b)
				}
			}
		}
	}
	check([]byte(Hash("z")[:hexLen-1]))
	check([]byte(Hash("z") + "0"))
}

// TestIndexSep compares indexSep with the strings.IndexAny call it replaces.
func TestIndexSep(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "-", "1997-02-16", "16/02/1997", "16.02.1997", "19970216", "é-1", "\xff/", "a.b-c/d",
		"abc", "日本.1", "--", "1997/02-16"} {
		if got, want := indexSep(s), strings.IndexAny(s, "-/."); got != want {
			t.Errorf("indexSep(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestLowerASCII8 compares lowerASCII8 with a byte loop on every ASCII byte in every lane and on random words.
func TestLowerASCII8(t *testing.T) {
	t.Parallel()
	want := func(w uint64) uint64 {
		var out uint64
		for i := range 8 {
			c := byte(w >> (8 * i))
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out |= uint64(c) << (8 * i)
		}
		return out
	}
	check := func(w uint64) {
		if got := lowerASCII8(w); got != want(w) {
			t.Fatalf("lowerASCII8(%#016x) = %#016x, want %#016x", w, got, want(w))
		}
	}
	const filler = 0x4141414141414141 // "AAAAAAAA"
	for lane := range 8 {
		for c := range uint64(0x80) {
			check(filler&^(0xff<<(8*lane)) | c<<(8*lane))
			check(c << (8 * lane))
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1 << 16 {
		check(rng.Uint64() & 0x7f7f7f7f7f7f7f7f)
	}
}

// TestAppendLower compares appendLower, which copies ASCII words at a time, with a rune loop on strings where
// non-ASCII, invalid and upper-case bytes fall at every position relative to the words.
func TestAppendLower(t *testing.T) {
	t.Parallel()
	ref := func(s string) (string, bool) {
		if !utf8.ValidString(s) {
			return "", false
		}
		return lowerFull(s), true
	}
	for n := 0; n <= 24; n++ {
		for pos := range max(n, 1) {
			for _, ins := range []string{"A", "z", "@", "É", "\xff", "ẞ", "Z"} {
				base := strings.Repeat("Ab", n)[:n]
				s := base[:pos] + ins + base[pos:]
				got, ok := appendLower([]byte("x"), s)
				want, wantOK := ref(s)
				if ok != wantOK || ok && string(got) != "x"+want {
					t.Fatalf("appendLower(%q) = %q %v, want %q %v", s, got, ok, want, wantOK)
				}
			}
		}
	}
}
