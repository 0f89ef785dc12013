package normalize

import (
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// TestISOCountryNamesTable checks the shape buildCountries relies on: every alpha-2 code of iso3166 once, in the
// same order, each followed by at least one name of more than two letters, and every name mapping to its code.
func TestISOCountryNamesTable(t *testing.T) {
	t.Parallel()
	var codes []string
	names := 0
	for _, w := range strings.Fields(isoCountryNames) {
		if len(w) == 2 {
			if len(codes) > 0 && names == 0 {
				t.Errorf("code %s has no name", codes[len(codes)-1])
			}
			codes, names = append(codes, w), 0
			continue
		}
		if len(codes) == 0 {
			t.Fatalf("isoCountryNames starts with %q, not a code", w)
		}
		names++
		if got, ok := Country(w); !ok || got != codes[len(codes)-1] {
			t.Errorf("Country(%q) = %q, %v; want %s", w, got, ok, codes[len(codes)-1])
		}
	}
	var want []string
	for i := 0; i+7 <= len(iso3166); i += 7 {
		want = append(want, iso3166[i:i+2])
	}
	if strings.Join(codes, " ") != strings.Join(want, " ") {
		t.Errorf("isoCountryNames codes:\n%v\nwant iso3166's:\n%v", codes, want)
	}
}

// TestISO3166Table cross-checks the hand-written alpha-2/alpha-3 table against CLDR's region data.
func TestISO3166Table(t *testing.T) {
	t.Parallel()
	fields := strings.Fields(iso3166)
	if len(fields) != 2*249 {
		t.Fatalf("iso3166 has %d codes, want 249 pairs", len(fields))
	}
	seen := map[string]bool{}
	for i := 0; i < len(fields); i += 2 {
		a2, a3 := fields[i], fields[i+1]
		if len(a2) != 2 || len(a3) != 3 || seen[a2] || seen[a3] {
			t.Errorf("bad or duplicate pair %q %q", a2, a3)
		}
		seen[a2], seen[a3] = true, true
		r, err := language.ParseRegion(a2)
		if err != nil || !r.IsCountry() || r.String() != strings.ToUpper(a2) {
			t.Errorf("%q is not a CLDR country (%v, %v)", a2, r, err)
			continue
		}
		if got := r.ISO3(); got != strings.ToUpper(a3) {
			t.Errorf("alpha-3 of %q = %q, CLDR says %q", a2, a3, got)
		}
	}
}

func TestCountryNames(t *testing.T) {
	t.Parallel()
	iso := map[string]bool{}
	for _, f := range strings.Fields(iso3166) {
		iso[f] = true
	}
	for name, code := range countryNames {
		if got := string(appendLetters(nil, name)); got != name {
			t.Errorf("name key %q is not in normalized form (%q): it can never match", name, got)
		}
		if len(code) != 2 || !iso[code] {
			t.Errorf("name %q maps to %q, not an alpha-2 code", name, code)
		}
		if iso[name] {
			t.Errorf("name %q shadows the ISO code %q", name, name)
		}
	}
	for name := range states {
		if got := string(appendLetters(nil, name)); got != name {
			t.Errorf("state key %q is not in normalized form (%q)", name, got)
		}
	}
	for g := range genders {
		if got := string(appendLetters(nil, g)); got != g {
			t.Errorf("gender key %q is not in normalized form (%q)", g, got)
		}
	}
}

// TestCountryPairs checks that the two-letter table answers exactly like the countries map for every pair.
func TestCountryPairs(t *testing.T) {
	t.Parallel()
	for a := byte('a'); a <= 'z'; a++ {
		for b := byte('a'); b <= 'z'; b++ {
			want, wantOK := countries[string([]byte{a, b})]
			got, ok := appendCountry(nil, string([]byte{a, b}))
			if string(got) != want || ok != wantOK {
				t.Errorf("appendCountry(%q) = %q, %v; countries has %q, %v", []byte{a, b}, got, ok, want, wantOK)
			}
		}
	}
}
