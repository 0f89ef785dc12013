package normalize

import (
	"strings"
	"testing"

	"golang.org/x/text/language"
)

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
