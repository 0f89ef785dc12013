package normalize

import (
	"strings"
	"testing"
)

// The fast path must give exactly the library's answer (parsePhone) on every input it handles; declining is
// always allowed. These tests compare the two; FuzzPhoneFastPath explores beyond the table.

// fastRegions are the default regions the differential tests run in ("" = none).
var fastRegions = []string{"", "FR", "DE", "GB", "US", "CA", "IT", "BE", "CH", "ES", "NL", "BR", "AR", "MX", "RU", "JP", "AU", "IN"}

// checkFastPhone compares the fast path with the library for s in region; it reports whether the fast path
// handled s.
func checkFastPhone(t *testing.T, tables *phoneTables, s, region string) bool {
	t.Helper()
	got, ok, handled := appendFastPhone([]byte("x"), tables, s, region)
	if !handled {
		if string(got) != "x" {
			t.Fatalf("[%s] %q: declined but wrote %q", region, s, got)
		}
		return false
	}
	want, wantOK := parsePhone(s, region)
	if ok != wantOK || (ok && string(got) != "x"+want) || (!ok && string(got) != "x") {
		t.Fatalf("[%s] %q: fast path %q, %v; library %q, %v", region, s, got, ok, want, wantOK)
	}
	return true
}

// TestPhoneFastPathTable pins the tricky inputs: every one must agree with the library, and the common shapes
// must be handled by the fast path (the performance contract).
func TestPhoneFastPathTable(t *testing.T) {
	t.Parallel()
	tables := loadPhoneTables()
	tests := []struct {
		region, in string
		fast       bool // must be handled by the fast path (else either way)
	}{
		// France: national, leading zero stripped, international forms.
		{"FR", "06 12 34 56 78", true},
		{"FR", "0612345678", true},
		{"FR", "06.12.34.56.78", true},
		{"FR", "06-12-34-56-78", true},
		{"FR", "06/12/34/56/78", true},
		{"FR", "+33 6 12 34 56 78", true},
		{"FR", "+33 0 6 12 34 56 78", true}, // national prefix after the country code: stripped
		{"FR", "+33612345678", true},
		{"FR", "0033 6 12 34 56 78", true},
		{"FR", "0033612345678", true},
		{"FR", "00 33 6 12 34 56 78", true},
		{"FR", "33612345678", false},     // starts with the country code: the library decides
		{"FR", "612345678", true},        // no national prefix
		{"FR", "06 12 34 56", true},      // too short
		{"FR", "06 12 34 56 78 9", true}, // too long
		{"FR", "006 12 34 56 78", true},  // 00 then 6: the international prefix, then an unknown country code?
		{"FR", "000612345678", true},     // 00 followed by 0: not an international prefix
		{"FR", "+44 20 7946 0958", true},
		{"FR", "+1 650 555 1212", true},
		{"FR", "+39 06 1234 5678", true}, // Italian leading zero kept
		{"FR", "+0 6 12", false},
		{"FR", "+", false},
		{"FR", "++33612345678", false},
		{"FR", "(0)6 12 34 56 78", false},
		{"FR", "06 12 34 56 78 ext 12", false},
		{"FR", "06 12 34 56 78#", false},
		{"FR", "12", false},
		{"FR", "123", true},
		{"FR", "+33 1", false},
		{"FR", "+999 123 456", false},  // unknown country code
		{"FR", "+800 1234 5678", true}, // non-geographic calling code
		{"FR", "+262 692 12 34 56", true},
		// Germany, Great Britain, Italy, Belgium, Switzerland, Spain, Netherlands.
		{"DE", "030 123456", true},
		{"DE", "0151 23456789", true},
		{"DE", "+49 30 123456", true},
		{"DE", "49 30 123456", false},
		{"GB", "020 7946 0958", true},
		{"GB", "07911 123456", true},
		{"GB", "+44 7911 123456", true},
		{"GB", "+44 07911 123456", true},
		{"GB", "180020 123", false}, // the second national prefix alternative: the library's regexp decides
		{"IT", "06 1234 5678", true},
		{"IT", "+39 06 1234 5678", true},
		{"IT", "312 345 6789", true},
		{"IT", "0039 312 345 6789", true},
		{"BE", "0470 12 34 56", true},
		{"BE", "+32 470 12 34 56", true},
		{"CH", "079 123 45 67", true},
		{"CH", "+41 79 123 45 67", true},
		{"CH", "0041 79 123 45 67", true},
		{"ES", "612 34 56 78", true},
		{"ES", "+34 612 34 56 78", true},
		{"NL", "06 12345678", true},
		{"NL", "+31 6 12345678", true},
		// North America: 1-prefixed national numbers go to the library.
		{"US", "650 555 1212", true},
		{"US", "650-555-1212", true},
		{"US", "650.555.1212", true},
		{"US", "1 650 555 1212", false},
		{"US", "+1 650 555 1212", true},
		{"US", "011 33 6 12 34 56 78", true},
		{"US", "555 1212", true}, // local only: not possible
		{"US", "(650) 555-1212", false},
		{"CA", "416 555 0199", true},
		{"CA", "+1 416 555 0199", true},
		// Latin America: complex prefixes; whatever is handled must agree.
		{"BR", "11 91234 5678", true},
		{"BR", "+55 11 91234 5678", true},
		{"BR", "011 91234 5678", false},
		{"BR", "91 91234 5678", false},
		{"AR", "11 1234 5678", false},
		{"AR", "+54 9 11 1234 5678", false},
		{"MX", "55 1234 5678", true},
		{"MX", "+52 55 1234 5678", true},
		{"MX", "01 55 1234 5678", false},
		{"RU", "8 912 345 67 89", false},
		{"RU", "+7 912 345 67 89", false},
		{"JP", "090 1234 5678", false},
		{"AU", "0412 345 678", false},
		{"IN", "98765 43210", true},
		// No default region: international only.
		{"", "+33 6 12 34 56 78", true},
		{"", "33 6 12 34 56 78", true},
		{"", "0033 6 12 34 56 78", true},
		{"", "16505551212", true},
		{"", "00 1 650 555 1212", true},
		{"", "06 12 34 56 78", false},
		{"", "0 0 33 6 12 34 56 78", false},
		{"", "+39 06 1234 5678", true},
		{"", "+33 0 6 12 34 56 78", true},
	}
	for _, tt := range tests {
		handled := checkFastPhone(t, tables, tt.in, tt.region)
		if tt.fast && !handled {
			t.Errorf("[%s] %q: declined, want the fast path", tt.region, tt.in)
		}
	}
	// Every entry in every region too: the answer must agree wherever the fast path takes it.
	for _, region := range fastRegions {
		for _, tt := range tests {
			checkFastPhone(t, tables, tt.in, region)
		}
	}
}

// TestPhoneFastPathEveryPrefix walks the first digits of national and international numbers in every region
// the library knows, so that each region's metadata (prefixes, lengths) is exercised at least once.
func TestPhoneFastPathEveryPrefix(t *testing.T) {
	t.Parallel()
	tables := loadPhoneTables()
	regions := []string{""}
	for r := range tables.byRegion {
		regions = append(regions, r)
	}
	if len(regions) < 200 {
		t.Fatalf("only %d regions in the metadata", len(regions))
	}
	handled := 0
	for _, region := range regions {
		for d := range 100 {
			body := strings.Repeat("123456789", 2)[:6+d%7] // every length from 6 to 12 digits across d
			for _, in := range []string{
				string(rune('0'+d/10)) + string(rune('0'+d%10)) + " " + body,
				"+" + string(rune('1'+d%9)) + string(rune('0'+d/10)) + " " + body,
				"00" + string(rune('1'+d%9)) + string(rune('0'+d/10)) + body,
			} {
				if checkFastPhone(t, tables, in, region) {
					handled++
				}
			}
		}
	}
	t.Logf("fast path handled %d inputs", handled)
}

// FuzzPhoneFastPath compares the fast path with the library on arbitrary input in several regions. Run with
// `go test ./processor/normalize -run '^$' -fuzz '^FuzzPhoneFastPath$' -fuzztime 5m`; the corpus it finds is kept
// in testdata/fuzz/FuzzPhoneFastPath.
func FuzzPhoneFastPath(f *testing.F) {
	for _, s := range []string{
		"06 12 34 56 78", "+33 0 6 12 34 56 78", "0033612345678", "+39 06 1234 5678", "650-555-1212",
		"1 650 555 1212", "011 44 20 7946 0958", "+800 1234 5678", "07911 123456", "180020 123", "00 0 33",
		"+1/650/555.1212", "11 91234 5678", "8 912 345 67 89", "+7 912 345 67 89", "000612345678", "123",
		"16505551212", "1-650-555-1212", "447911123456", "818060615939", "5511969148580", "03-1345-0541",
		"0000000000", "90-1234-5678", "(11) 96123-4567", "0412 345 678", "+52 222 123 4567", "1 268 464 1234",
	} {
		for i := range fastRegions {
			f.Add(s, uint8(i))
		}
	}
	tables := loadPhoneTables()
	f.Fuzz(func(t *testing.T, s string, r uint8) {
		checkFastPhone(t, tables, s, fastRegions[int(r)%len(fastRegions)])
	})
}

func BenchmarkPhoneFastPath(b *testing.B) {
	n := newNormalizer(b, "FR")
	phones := distinctPhones(1 << 12)
	buf := make([]byte, 0, 32)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = n.appendPhone(buf[:0], phones[i%len(phones)], "FR")
		i++
	}
}

// phoneAlphabet maps fuzz bytes to phone-shaped input (digits weighted, the separators and '+'), so that most
// inputs of FuzzPhoneFastPathShaped reach deep into the fast path instead of being declined at the first byte.
const phoneAlphabet = "01234567890123456789000111 .-/+"

// FuzzPhoneFastPathShaped is FuzzPhoneFastPath on phone-shaped input. Run with
// `go test ./processor/normalize -run '^$' -fuzz '^FuzzPhoneFastPathShaped$' -fuzztime 5m`.
func FuzzPhoneFastPathShaped(f *testing.F) {
	for _, s := range []string{"\x00\x06\x1a\x01\x02", "\x1e\x03\x03\x06\x01\x02\x03\x04\x05\x06\x07\x08", "\x00\x00\x03\x09"} {
		for i := range fastRegions {
			f.Add([]byte(s), uint8(i))
		}
	}
	tables := loadPhoneTables()
	f.Fuzz(func(t *testing.T, data []byte, r uint8) {
		b := make([]byte, len(data))
		for i, c := range data {
			b[i] = phoneAlphabet[int(c)%len(phoneAlphabet)]
		}
		checkFastPhone(t, tables, string(b), fastRegions[int(r)%len(fastRegions)])
	})
}
