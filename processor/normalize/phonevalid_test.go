package normalize

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestPhoneValidityMatchesLibrary compares the automata's validity with phonenumbers.IsValidNumber on every
// region's example numbers of every type and on random neighbours and truncations of them (valid and not),
// calling codes shared by several regions (+1, +7, +44, +262) included.
func TestPhoneValidityMatchesLibrary(t *testing.T) {
	tables := loadPhoneTables()
	rng := rand.New(rand.NewPCG(12, 12))
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	checked, valid := 0, 0
	check := func(cc int, nsn string) {
		t.Helper()
		got, handled := tables.validNumber(cc, []byte(nsn))
		if !handled {
			return
		}
		num, err := phonenumbers.Parse("+"+strconv.Itoa(cc)+nsn, "")
		if err != nil {
			return // not a number the parse would hand to validity
		}
		if phonenumbers.GetNationalSignificantNumber(num) != nsn || int(num.GetCountryCode()) != cc {
			return
		}
		checked++
		want := phonenumbers.IsValidNumber(num)
		if want {
			valid++
		}
		if got != want {
			t.Errorf("+%d %s: automata say valid=%v, library %v", cc, nsn, got, want)
		}
	}
	regions := phonenumbers.GetSupportedRegions()
	for region := range regions {
		for _, typ := range types {
			ex := phonenumbers.GetExampleNumberForType(region, typ)
			if ex == nil {
				continue
			}
			cc := int(ex.GetCountryCode())
			nsn := phonenumbers.GetNationalSignificantNumber(ex)
			check(cc, nsn)
			for range 8 {
				b := []byte(nsn)
				switch rng.IntN(3) {
				case 0: // change one digit
					b[rng.IntN(len(b))] = byte('0' + rng.IntN(10))
				case 1: // one digit more
					b = append(b, byte('0'+rng.IntN(10)))
				case 2: // one digit less
					if len(b) > 2 {
						b = b[:len(b)-1]
					}
				}
				if b[0] != '0' || len(b) > 1 {
					check(cc, string(b))
				}
			}
		}
	}
	if checked < 3000 || valid < 1000 {
		t.Errorf("only %d numbers compared (%d valid): the test does not exercise the automata", checked, valid)
	}
	t.Logf("%d numbers compared with the library, %d valid", checked, valid)
}

// TestDigitDFASizes builds the automata of every region, as a service reading numbers from everywhere would, and
// bounds their memory; it also reports how many regions are left to the library.
func TestDigitDFASizes(t *testing.T) {
	tables := loadPhoneTables()
	states, declined := 0, 0
	for _, m := range tables.byRegion {
		v := m.validity()
		if !v.ok {
			declined++
			continue
		}
		for _, d := range append([]numberDesc{v.general}, v.types...) {
			if d.dfa != nil {
				states += len(d.dfa.accept)
			}
		}
	}
	t.Logf("%d regions, %d automaton states (~%d KiB), %d regions left to the library", len(tables.byRegion), states, states*41/1024, declined)
	if states*41 > 16<<20 {
		t.Errorf("automata take %d KiB", states*41/1024)
	}
	if declined > len(tables.byRegion)/10 {
		t.Errorf("%d regions have no automata", declined)
	}
}
