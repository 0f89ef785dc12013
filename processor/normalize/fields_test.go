package normalize

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// fieldCase is one input of a per-field table; want "" means invalid.
type fieldCase struct {
	in, want string
}

func runFieldTable(t *testing.T, name string, fn func(string) (string, bool), cases []fieldCase) {
	t.Helper()
	for _, c := range cases {
		got, ok := fn(c.in)
		if wantOK := c.want != ""; ok != wantOK || got != c.want {
			t.Errorf("%s(%q) = %q, %v; want %q, %v", name, c.in, got, ok, c.want, wantOK)
		}
	}
}

func TestEmail(t *testing.T) {
	t.Parallel()
	runFieldTable(t, "Email", Email, []fieldCase{
		{"john_smith@gmail.com", "john_smith@gmail.com"},
		{" John_Smith@Gmail.COM\t", "john_smith@gmail.com"},
		{"first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"},
		{"o'hara@example.ie", "o'hara@example.ie"},
		{"Éloïse@Exemple.FR", "éloïse@exemple.fr"},
		{"user@bücher.de", "user@bücher.de"},
		{"user@xn--bcher-kva.de", "user@xn--bcher-kva.de"},
		{"a@b.io", "a@b.io"},
		{"user@123.example.com", "user@123.example.com"},
		{"", ""},
		{"   ", ""},
		{"n/a", ""},
		{"john smith@gmail.com", ""},
		{"john@gmail", ""},
		{"john@gmail.c", ""},
		{"john@@gmail.com", ""},
		{"john@doe@gmail.com", ""},
		{"@gmail.com", ""},
		{"john@", ""},
		{"john@.com", ""},
		{"john@gmail..com", ""},
		{"john@-gmail.com", ""},
		{"john@gmail-.com", ""},
		{".john@gmail.com", ""},
		{"john.@gmail.com", ""},
		{"jo..hn@gmail.com", ""},
		{"john@192.168.0.1", ""},
		{"john@[192.168.0.1]", ""},
		{"<john@gmail.com>", ""},
		{`"john"@gmail.com`, ""},
		{"john@gmail.com.", ""},
		{"john@gma_il.com", ""},
		{"john\x00@gmail.com", ""},
		{"jo\xffhn@gmail.com", ""},
		{"john@gmail.com\u00a0x", ""},
		{"a@" + repeat("b", 64) + ".com", ""},
		{repeat("a", 65) + "@example.com", ""},
		{repeat("a", 64) + "@example.com", repeat("a", 64) + "@example.com"},
		{"a@" + repeat("b.", 130) + "com", ""},
	})
}

func TestPhone(t *testing.T) {
	t.Parallel()
	fr := newNormalizer(t, "FR")
	us := newNormalizer(t, "US")
	none := newNormalizer(t, "")
	tests := []struct {
		n    *Normalizer
		in   string
		want string
	}{
		{fr, "06 12 34 56 78", "33612345678"},
		{fr, "0612345678", "33612345678"},
		{fr, "06.12.34.56.78", "33612345678"},
		{fr, "+33 6 12 34 56 78", "33612345678"},
		{fr, "+33 (0)6 12 34 56 78", "33612345678"},
		{fr, "0033612345678", "33612345678"},
		{fr, "33612345678", "33612345678"},
		{fr, "+33612345678", "33612345678"},
		{fr, "01 23 45 67 89", "33123456789"},
		{fr, "+1 (650) 555-1212", "16505551212"},
		{fr, "+44 20 7946 0958", "442079460958"},
		{fr, "+39 06 1234 5678", "390612345678"}, // Italian leading zero is part of the number
		{fr, "+49 30 123456", "4930123456"},
		{fr, "06 12 34 56 78 ext. 12", "33612345678"},
		{fr, "tel:+33-6-12-34-56-78", "33612345678"},
		{fr, "０６１２３４５６７８", "33612345678"}, // full-width digits
		{us, "(650) 555-1212", "16505551212"},
		{us, "650-555-1212", "16505551212"},
		{us, "1-650-555-1212", "16505551212"},
		{us, "011 33 6 12 34 56 78", "33612345678"},
		{none, "+33 6 12 34 56 78", "33612345678"},
		{none, "33612345678", "33612345678"},
		{none, "0033 6 12 34 56 78", "33612345678"},
		{none, "+1 650 555 1212", "16505551212"},
		{none, "06 12 34 56 78", ""}, // no region, no international prefix
		{fr, "", ""},
		{fr, "   ", ""},
		{fr, "12", ""},
		{fr, "0612", ""},
		{fr, "06 12 34 56 78 90 12 34", ""},
		{fr, "not a number", ""},
		{fr, "+999 123456789", ""},
		{fr, "+", ""},
		{fr, "++33612345678", "33612345678"}, // the library tolerates a doubled plus
		{us, "555-1212", ""},                 // local only: no area code
		{fr, repeat("1", 300), ""},
	}
	for _, tt := range tests {
		// Twice: the second answer comes from the cache and must be the same.
		for round := range 2 {
			got, ok := tt.n.Phone(tt.in)
			if wantOK := tt.want != ""; ok != wantOK || got != tt.want {
				t.Errorf("Phone[%s](%q) round %d = %q, %v; want %q, %v", tt.n.region, tt.in, round, got, ok, tt.want, wantOK)
			}
		}
	}
}

func TestPhoneCacheBounded(t *testing.T) {
	t.Parallel()
	n := newNormalizer(t, "FR")
	for i := range 3 * phoneCacheShards * phoneCacheShardSize {
		in := fmt.Sprintf("(06) %08d", i) // parentheses: the library's parse, not the fast path
		got, ok := n.Phone(in)
		if want := fmt.Sprintf("336%08d", i); !ok || got != want {
			t.Fatalf("Phone(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	total := 0
	for i := range n.phones.shards {
		sh := &n.phones.shards[i]
		if len(sh.m) > phoneCacheShardSize {
			t.Errorf("shard %d holds %d entries, bound is %d", i, len(sh.m), phoneCacheShardSize)
		}
		total += len(sh.m)
	}
	if total == 0 {
		t.Error("cache is empty after 12k parses")
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	runFieldTable(t, "Name", Name, []fieldCase{
		{"John", "john"},
		{"  MARY ", "mary"},
		{"Éloïse", "éloïse"},
		{"E\u0301loi\u0308se", "éloïse"}, // decomposed → NFC
		{"Jean-Pierre", "jeanpierre"},
		{"jean pierre", "jeanpierre"},
		{"O'Brien", "obrien"},
		{"Dupont-Martin", "dupontmartin"},
		{"MÜLLER", "müller"},
		{"Straße", "straße"},
		{"Nguyễn", "nguyễn"},
		{"ΣΩΚΡΆΤΗΣ", "σωκράτης"}, // final sigma, as JavaScript and Python lowercase it
		{"İbrahim", "i̇brahim"},  // İ lowercases to i and a combining dot
		{"ＪＯＨＮ", "john"},         // NFKC folds full-width letters
		{"Владимир", "владимир"},
		{"李", "李"},
		{"John3", "john"},
		{"Mary\u200bAnn", "maryann"},
		{"jo\xffhn", "john"},
		{"", ""},
		{"  ", ""},
		{"---", ""},
		{"42", ""},
		{"😀", ""},
		{repeat("a", 600), ""},
	})
}

func TestCity(t *testing.T) {
	t.Parallel()
	runFieldTable(t, "City", City, []fieldCase{
		{"Paris", "paris"},
		{"Saint-Étienne", "saintétienne"},
		{"New York", "newyork"},
		{"L'Haÿ-les-Roses", "lhaÿlesroses"},
		{"Paris 15", "paris"},
		{"  Aix-en-Provence ", "aixenprovence"},
		{"MÜNCHEN", "münchen"},
		{"São Paulo", "sãopaulo"},
		{"75", ""},
		{"", ""},
		{"-", ""},
	})
}

func TestGender(t *testing.T) {
	t.Parallel()
	runFieldTable(t, "Gender", Gender, []fieldCase{
		{"f", "f"}, {"F", "f"}, {" Female ", "f"}, {"femme", "f"}, {"FEMME", "f"}, {"Woman", "f"}, {"w", "f"},
		{"Frau", "f"}, {"mujer", "f"}, {"Féminin", "f"}, {"Mme", "f"}, {"Mlle.", "f"}, {"Mrs.", "f"},
		{"m", "m"}, {"M", "m"}, {"M.", "m"}, {"male", "m"}, {"Homme", "m"}, {"H", "m"}, {"man", "m"},
		{"Mann", "m"}, {"hombre", "m"}, {"Männlich", "m"}, {"Mr", "m"}, {"Monsieur", "m"}, {"Masculin", "m"},
		{"", ""}, {"x", ""}, {"other", ""}, {"1", ""}, {"2", ""}, {"unknown", ""}, {"fm", ""}, {"n/a", ""},
		{repeat("f", 100), ""},
	})
}

func TestDateOfBirth(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	tomorrow := now.AddDate(0, 0, 1)
	runFieldTable(t, "DateOfBirth", DateOfBirth, []fieldCase{
		{"1997-02-16", "19970216"},
		{"19970216", "19970216"},
		{"1997/02/16", "19970216"},
		{"1997.02.16", "19970216"},
		{"16/02/1997", "19970216"},
		{"16-02-1997", "19970216"},
		{"16.02.1997", "19970216"},
		{"6/2/1997", "19970206"},
		{"1997-2-6", "19970206"},
		{"1997-02-16T00:00:00Z", "19970216"},
		{"1997-02-16T23:30:00+02:00", "19970216"}, // calendar date as written, never shifted
		{"1997-02-16T00:00:00.000Z", "19970216"},
		{"1997-02-16 00:00:00", "19970216"},
		{"16/02/1997 00:00", "19970216"},
		{" 1997-02-16 ", "19970216"},
		{"2000-02-29", "20000229"},
		{"1900-01-01", "19000101"},
		{now.Format("2006-01-02"), now.Format("20060102")},
		{"1900-02-29", ""}, // not a leap year
		{"1997-02-29", ""},
		{"1997-02-30", ""},
		{"1997-04-31", ""},
		{"1997-13-01", ""},
		{"1997-00-10", ""},
		{"1997-01-00", ""},
		{"1899-12-31", ""},
		{tomorrow.Format("2006-01-02"), ""},
		{"2999-01-01", ""},
		{"02/16/1997", "19970216"}, // unambiguously month first
		{"13/13/1997", ""},
		{"1997-02/16", ""},
		{"97-02-16", ""},
		{"1997-02-16Tnoon", ""},
		{"1997-02-16x", ""},
		{"199702160", "19760430"}, // nine digits: Unix seconds
		{"1997021600", ""},        // ten digits: Unix seconds, 2033: in the future
		{"1997", ""},
		{"", ""},
		{"yesterday", ""},
		{"16 février 1997", "19970216"},
		{"1997-02-16 00:00:00 UTC", "19970216"},
		{"16/02/1997 12:00:00 AM", "19970216"},
		{"Feb 16, 1997 12:00:00 AM", "19970216"},
		{"1997-02-16T00:00:00.000+01:00", "19970216"},
		{"1997-02-16 lunch", ""},
		{"1997-02-16T25:61", "19970216"}, // the time is not checked, only its shape
		{"12:00 1997-02-16", ""},
		{"--", ""},
		{"1/1/", ""},
	})
}

func TestState(t *testing.T) {
	t.Parallel()
	runFieldTable(t, "State", State, []fieldCase{
		{"CA", "ca"},
		{"ca", "ca"},
		{"California", "ca"},
		{" new york ", "ny"},
		{"New-Hampshire", "nh"},
		{"District of Columbia", "dc"},
		{"Québec", "québec"}, // codes for US states only
		{"Ontario", "ontario"},
		{"N.Y.", "ny"},
		{"Île-de-France", "îledefrance"},
		{"Bayern", "bayern"},
		{"", ""},
		{"42", ""},
		{"!!", ""},
	})
}

func TestZip(t *testing.T) {
	t.Parallel()
	runFieldTable(t, "Zip", Zip, []fieldCase{
		{"75008", "75008"},
		{"75 008", "75008"},
		{"94025", "94025"},
		{"94025-1234", "94025"},
		{"94025 1234", "94025"},
		{"SW1A 1AA", "sw1a1aa"},
		{"K1A 0B1", "k1a0b1"},
		{"00-950", "00950"},
		{"1000-001", "1000001"},
		{"100-0001", "1000001"},
		{"01310-100", "01310100"},
		{" 1010 ", "1010"},
		{"D02 X285", "d02x285"},
		{"12", ""},
		{"", ""},
		{"--", ""},
		{"75008 Paris Cedex 08", ""},
		{"7500é", ""},
	})
}

func TestCountry(t *testing.T) {
	t.Parallel()
	runFieldTable(t, "Country", Country, []fieldCase{
		{"US", "us"}, {"us", "us"}, {"USA", "us"}, {"U.S.A.", "us"}, {"United States", "us"},
		{"united states of america", "us"}, {"États-Unis", "us"},
		{"FR", "fr"}, {"FRA", "fr"}, {"France", "fr"}, {" france ", "fr"},
		{"DE", "de"}, {"DEU", "de"}, {"Deutschland", "de"}, {"Germany", "de"}, {"Allemagne", "de"},
		{"GB", "gb"}, {"UK", "gb"}, {"GBR", "gb"}, {"United Kingdom", "gb"}, {"Royaume-Uni", "gb"},
		{"ES", "es"}, {"España", "es"}, {"Espana", "es"}, {"Spain", "es"}, {"Espagne", "es"},
		{"IT", "it"}, {"Italia", "it"}, {"Italy", "it"},
		{"BE", "be"}, {"Belgique", "be"}, {"België", "be"},
		{"CH", "ch"}, {"Suisse", "ch"}, {"Schweiz", "ch"},
		{"Nederland", "nl"}, {"Pays-Bas", "nl"}, {"Österreich", "at"}, {"Luxembourg", "lu"},
		{"Côte d'Ivoire", "ci"}, {"La Réunion", "re"}, {"Maroc", "ma"},
		{"AQ", "aq"}, {"ZW", "zw"}, {"ZWE", "zw"}, {"ALA", "ax"},
		{"", ""}, {"XX", ""}, {"ZZ", ""}, {"EU", ""}, {"XK", ""}, {"Atlantis", ""}, {"F", ""}, {"FRAN", ""},
		{"250", ""}, {"U", ""}, {"Frankrijk Noord", ""},
	})
}

func TestExternalID(t *testing.T) {
	t.Parallel()
	runFieldTable(t, "ExternalID", ExternalID, []fieldCase{
		{"CUST-000123", "CUST-000123"},
		{" CUST-000123\n", "CUST-000123"},
		{"a b", "a b"},
		{"42", "42"},
		{"", ""},
		{" \t ", ""},
	})
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

// TestLatinIsNFC backs appendLetters' fast path: a lowercase letter below U+0300 is in NFC on its own and never
// composes with the character before it, so a string of them is in NFC.
func TestLatinIsNFC(t *testing.T) {
	t.Parallel()
	for r := rune(0); r < 0x300; r++ {
		if !unicode.IsLetter(r) && !unicode.IsMark(r) {
			continue
		}
		l := string(unicode.ToLower(r))
		if !norm.NFC.IsNormalString(l) || !norm.NFC.PropertiesString(l).BoundaryBefore() {
			t.Errorf("U+%04X lowercased is not a stable NFC starter", r)
		}
	}
}

// TestLowerRuneByRuneIsFull checks needsFullLower's premise on every assigned code point: full lowercasing of a
// character (alone and between letters) equals unicode.ToLower unless it is U+03A3 or U+0130.
func TestLowerRuneByRuneIsFull(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r == 0x3a3 || r == 0x130 || !unicode.IsPrint(r) || (r >= 0xd800 && r <= 0xdfff) {
			continue
		}
		for _, s := range []string{string(r), "a" + string(r) + "b", "A" + string(r)} {
			if needsFullLower(s) {
				t.Fatalf("needsFullLower(%q) = true", s)
			}
			if got, want := string(appendLowerRunes(nil, s)), lowerFull(s); got != want {
				t.Errorf("U+%04X: rune by rune %q, full %q", r, got, want)
			}
		}
	}
}

// TestLatinNFKC checks latinNFKC's premise: every string it accepts is its own NFKC, on each character of
// U+0080–U+024F alone, after ASCII, before a combining mark, and doubled.
func TestLatinNFKC(t *testing.T) {
	accepted := 0
	for r := rune(0x80); r <= 0x24f; r++ {
		for _, s := range []string{string(r), "a" + string(r), string(r) + "b", string(r) + string(r), string(r) + "\u0301"} {
			if latinNFKC(s) {
				accepted++
				if !norm.NFKC.IsNormalString(s) {
					t.Errorf("latinNFKC(%q) = true, but it is not in NFKC", s)
				}
			}
		}
	}
	if accepted < 4*(0x180-0xc0-6) {
		t.Errorf("only %d strings accepted: the fast path does not cover Latin-1 and Latin Extended-A letters", accepted)
	}
	for _, s := range []string{"\xc3", "\xc3(", "ĳ", "ſ", "e\u0301", "Ａ"} {
		if latinNFKC(s) {
			t.Errorf("latinNFKC(%q) = true", s)
		}
	}
}

// TestTrimSpace compares trimSpace with strings.TrimSpace around every Unicode space and a few non-spaces.
func TestTrimSpace(t *testing.T) {
	var runes []rune
	for r := rune(0); r <= 0x3000; r++ {
		if unicode.IsSpace(r) {
			runes = append(runes, r)
		}
	}
	runes = append(runes, 'é', 'x', '東', 0xFFFD, 0x200B)
	for _, a := range runes {
		for _, b := range runes {
			for _, s := range []string{string(a) + "x" + string(b), string(a), "É" + string(b), string(a) + "É", "\xff" + string(b)} {
				if got, want := trimSpace(s), strings.TrimSpace(s); got != want {
					t.Errorf("trimSpace(%q) = %q, want %q", s, got, want)
				}
			}
		}
	}
}
