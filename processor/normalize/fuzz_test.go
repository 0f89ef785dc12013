package normalize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// Fuzz targets: every normalizer must never panic, return valid UTF-8, return a non-empty value exactly when ok,
// and be idempotent (normalizing its own output gives the same output), so that a value normalized upstream,
// or by an earlier run of this stage, hashes the same.
//
// Run one with e.g. `go test ./processor/normalize -run '^$' -fuzz '^FuzzEmail$' -fuzztime 30s`.

var textSeeds = []string{
	"", " ", "john_smith@gmail.com", " John_Smith@Gmail.COM ", "Éloïse", "E\u0301loi\u0308se", "Jean-Pierre",
	"O'Brien", "ΣΩΚΡΆΤΗΣ", "İstanbul", "ǅ", "Straße", "\xff\xfe", "06 12 34 56 78", "+1 (650) 555-1212",
	"1997-02-16", "16/02/1997", "1997-02-16T00:00:00Z", "California", "SW1A 1AA", "94025-1234", "France",
	"United States", "USA", "femme", "M.", "\u200b", "a@b.co", "😀", "\u0345", "ﬃ",
	// Issue 12's classes: international digits without '+', national numbers of the event's country, full
	// Unicode lowercasing, compatibility forms, garbage phones, non-US states, written and numeric dates,
	// extensions in words, placeholders.
	"16505551212", "1-650-555-1212", "447911123456", "818060615939", "5511969148580", "03-1345-0541", "İbrahim",
	"１２３４５", "ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "0000000000", "Ontario", "3 octobre 1945", "October 3, 1945",
	"3. Oktober 1945", "3 de octubre de 1945", "03/25/1981", "-784944000", "631152000000", "80136000",
	"+33 3 20 54 93 29 poste 12", "ext. 12", "x12", "+49 30 1234567 Durchwahl 12", "n/a", "N/A", "(null)", "xxx",
	"Σ", "ΑΣ", "\u0130", "ǅungla", "ﬀ", "\u3000x\u3000", "1e10",
}

func addSeeds(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
}

// checkNormalizer asserts the common properties of one normalizer.
func checkNormalizer(t *testing.T, name string, fn func(string) (string, bool), in string, idempotent bool) string {
	t.Helper()
	out, ok := fn(in)
	if ok != (out != "") {
		t.Fatalf("%s(%q) = %q, %v: ok must mean a non-empty value", name, in, out, ok)
	}
	if !utf8.ValidString(out) {
		t.Fatalf("%s(%q) = %q: not valid UTF-8", name, in, out)
	}
	if ok && idempotent {
		again, ok2 := fn(out)
		if !ok2 || again != out {
			t.Fatalf("%s not idempotent: %q → %q → %q (%v)", name, in, out, again, ok2)
		}
	}
	return out
}

func FuzzEmail(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		out := checkNormalizer(t, "Email", Email, s, true)
		if out != "" && (strings.Count(out, "@") != 1 || strings.ContainsAny(out, " \t\r\n")) {
			t.Fatalf("Email(%q) = %q: not an address", s, out)
		}
	})
}

func FuzzPhone(f *testing.F) {
	addSeeds(f)
	fr := newNormalizer(f, "FR")
	none := newNormalizer(f, "")
	f.Fuzz(func(t *testing.T, s string) {
		for _, n := range []*Normalizer{fr, none} {
			out := checkNormalizer(t, "Phone", n.Phone, s, false)
			if out == "" {
				continue
			}
			if !allDigits(out) || len(out) > 17 || out[0] == '0' {
				t.Fatalf("Phone[%s](%q) = %q: not E.164 digits", n.region, s, out)
			}
			// The cache and the fast path never change the library's answer: the national reading, else (no
			// '+') the international one.
			p := prepare(s)
			direct, ok := parsePhone(p, n.region)
			if !ok && n.region != "" && !strings.Contains(p, "+") {
				direct, ok = parsePhone(p, "")
			}
			if !ok || direct != out {
				t.Fatalf("Phone[%s](%q) = %q, library says %q, %v", n.region, s, out, direct, ok)
			}
			// A valid number's E.164 output read back as international gives itself: the stage is stable on
			// its own output. Not for every possible number: the library strips a national prefix from the
			// start of a significant number when what remains is still possible ("+98 0000000" → "98000000"),
			// which only happens to numbers no operator assigns.
			num, err := phonenumbers.Parse("+"+out, "")
			if err != nil || !phonenumbers.IsValidNumber(num) {
				continue
			}
			if again, ok := none.Phone(out); !ok || again != out {
				t.Fatalf("Phone(%q) = %q, read back as international: %q, %v", s, out, again, ok)
			}
		}
	})
}

func FuzzName(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) { checkNormalizer(t, "Name", Name, s, true) })
}

func FuzzCity(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) { checkNormalizer(t, "City", City, s, true) })
}

func FuzzGender(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		if out := checkNormalizer(t, "Gender", Gender, s, true); out != "" && out != "f" && out != "m" {
			t.Fatalf("Gender(%q) = %q", s, out)
		}
	})
}

func FuzzDateOfBirth(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		out := checkNormalizer(t, "DateOfBirth", DateOfBirth, s, true)
		if out != "" && (len(out) != 8 || !allDigits(out) || out < "19000101") {
			t.Fatalf("DateOfBirth(%q) = %q", s, out)
		}
	})
}

func FuzzState(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) { checkNormalizer(t, "State", State, s, true) })
}

func FuzzZip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		out := checkNormalizer(t, "Zip", Zip, s, true)
		if strings.ContainsAny(out, " -") {
			t.Fatalf("Zip(%q) = %q", s, out)
		}
	})
}

func FuzzCountry(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		if out := checkNormalizer(t, "Country", Country, s, true); out != "" && len(out) != 2 {
			t.Fatalf("Country(%q) = %q", s, out)
		}
	})
}

func FuzzExternalID(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		// Not required to be valid UTF-8: an ID is hashed byte for byte, as the customer's other sources do.
		out, ok := ExternalID(s)
		if ok != (out != "") {
			t.Fatalf("ExternalID(%q) = %q, %v", s, out, ok)
		}
		if again, _ := ExternalID(out); again != out {
			t.Fatalf("ExternalID not idempotent: %q → %q → %q", s, out, again)
		}
	})
}

// FuzzUserData checks the stage as a whole: every hashed field ends up empty or a lowercase hex SHA-256, and a
// second pass changes nothing.
func FuzzUserData(f *testing.F) {
	f.Add("John_Smith@gmail.com", "06 12 34 56 78", "Éloïse", "1997-02-16", "75008", "France")
	f.Add(hashEmail, strings.ToUpper(hashPhone), "", "x", "", "zz")
	n := newNormalizer(f, "FR")
	f.Fuzz(func(t *testing.T, em, ph, name, db, zp, country string) {
		ud := fbevent.UserData{Em: em, Ph: ph, Fn: name, Ln: name, Ge: name, Db: db, Ct: name, St: name, Zp: zp,
			Country: country, ExternalID: em}
		into := ud
		var d Digests
		droppedInto := n.UserDataInto(&into, &d)
		dropped := n.UserData(&ud)
		if into != ud || droppedInto != dropped {
			t.Fatalf("UserDataInto and UserData differ")
		}
		for _, v := range []string{ud.Em, ud.Ph, ud.Fn, ud.Ln, ud.Ge, ud.Db, ud.Ct, ud.St, ud.Zp, ud.Country, ud.ExternalID} {
			if _, ok := passThrough(v); v != "" && (!ok || strings.ToLower(v) != v) {
				t.Fatalf("field value %q is not a lowercase SHA-256", v)
			}
		}
		first := ud
		if dropped := n.UserData(&ud); dropped.Any() || ud != first {
			t.Fatalf("second pass changed the result (dropped %v)", dropped)
		}
	})
}
