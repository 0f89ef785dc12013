package normalize

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// Meta's published test vectors (docs/mapping.md).
const (
	hashEmail   = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" // john_smith@gmail.com
	hashPhone   = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176" // 16505551212
	hashDOB     = "01acdbf6ec7b4f478a225f1a246e5d6767eeab1a7ffa17f025265b5b94f40f0c" // 19970216
	hashCountry = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621" // us
)

func newNormalizer(t testing.TB, region string) *Normalizer {
	t.Helper()
	n, err := New(region)
	if err != nil {
		t.Fatalf("New(%q): %v", region, err)
	}
	return n
}

func TestHashVectors(t *testing.T) {
	t.Parallel()
	for clear, want := range map[string]string{
		"john_smith@gmail.com": hashEmail, "16505551212": hashPhone, "19970216": hashDOB, "us": hashCountry,
	} {
		if got := Hash(clear); got != want {
			t.Errorf("Hash(%q) = %s, want %s", clear, got, want)
		}
	}
	long := strings.Repeat("x", 300) // longer than Hash's stack buffer
	if got, want := Hash(long), hashBytes([]byte(long)); got != want {
		t.Errorf("Hash(long) = %s, want %s", got, want)
	}
}

// TestMetaVectorsThroughUserData checks Meta's vectors end to end: raw inputs as a customer sends them.
func TestMetaVectorsThroughUserData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		region string
		in     fbevent.UserData
		want   fbevent.UserData
	}{
		{"email", "FR", fbevent.UserData{Em: " John_Smith@gmail.com "}, fbevent.UserData{Em: hashEmail}},
		{"phone international", "FR", fbevent.UserData{Ph: "+1 (650) 555-1212"}, fbevent.UserData{Ph: hashPhone}},
		{"phone national US", "US", fbevent.UserData{Ph: "(650) 555-1212"}, fbevent.UserData{Ph: hashPhone}},
		{"phone no region E.164 digits", "", fbevent.UserData{Ph: "16505551212"}, fbevent.UserData{Ph: hashPhone}},
		{"phone no region 00 prefix", "", fbevent.UserData{Ph: "00 1 650 555 1212"}, fbevent.UserData{Ph: hashPhone}},
		{"db ISO", "FR", fbevent.UserData{Db: "1997-02-16"}, fbevent.UserData{Db: hashDOB}},
		{"db timestamp", "FR", fbevent.UserData{Db: "1997-02-16T00:00:00Z"}, fbevent.UserData{Db: hashDOB}},
		{"db day first", "FR", fbevent.UserData{Db: "16/02/1997"}, fbevent.UserData{Db: hashDOB}},
		{"country code", "FR", fbevent.UserData{Country: "US"}, fbevent.UserData{Country: hashCountry}},
		{"country name", "FR", fbevent.UserData{Country: "United States"}, fbevent.UserData{Country: hashCountry}},
		{"country alpha-3", "FR", fbevent.UserData{Country: "usa"}, fbevent.UserData{Country: hashCountry}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNormalizer(t, tt.region)
			ud := tt.in
			dropped := n.UserData(&ud)
			if dropped.Any() {
				t.Errorf("dropped = %v, want none", dropped)
			}
			if ud != tt.want {
				t.Errorf("UserData(%+v) =\n %+v\nwant\n %+v", tt.in, ud, tt.want)
			}
		})
	}
}

func TestUserDataFrenchCustomer(t *testing.T) {
	t.Parallel()
	n := newNormalizer(t, "FR")
	ud := frenchUser()
	dropped := n.UserData(&ud)
	if dropped.Any() {
		t.Fatalf("dropped = %v, want none", dropped)
	}
	want := fbevent.UserData{
		Em:         Hash("éloïse.dupont-martin@example.fr"),
		Ph:         Hash("33612345678"),
		Fn:         Hash("éloïse"),
		Ln:         Hash("dupontmartin"),
		Ge:         Hash("f"),
		Db:         Hash("19850723"),
		Ct:         Hash("saintétienne"),
		St:         Hash("auvergnerhônealpes"),
		Zp:         Hash("42000"),
		Country:    Hash("fr"),
		ExternalID: Hash("CUST-000123"),

		ClientIPAddress: "2a01:cb00:1234::1",
		ClientUserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
		FBC:             "fb.1.1700000000000.AbCdEf",
		FBP:             "fb.1.1700000000000.1234567890",
	}
	if ud != want {
		t.Errorf("UserData =\n %+v\nwant\n %+v", ud, want)
	}
}

func frenchUser() fbevent.UserData {
	return fbevent.UserData{
		Em:         "  Éloïse.Dupont-Martin@Example.FR ",
		Ph:         "06 12 34 56 78",
		Fn:         "Éloïse",
		Ln:         "Dupont-Martin",
		Ge:         "Femme",
		Db:         "23/07/1985",
		Ct:         "Saint-Étienne",
		St:         "Auvergne-Rhône-Alpes",
		Zp:         "42 000",
		Country:    "France",
		ExternalID: " CUST-000123 ",

		ClientIPAddress: " 2a01:cb00:1234::1 ",
		ClientUserAgent: "Mozilla/5.0 (X11; Linux x86_64) ",
		FBC:             " fb.1.1700000000000.AbCdEf",
		FBP:             "fb.1.1700000000000.1234567890 ",
	}
}

func TestUserDataDropped(t *testing.T) {
	t.Parallel()
	n := newNormalizer(t, "FR")
	ud := fbevent.UserData{
		Em:         "not an email",
		Ph:         "12",
		Fn:         "---",
		Ln:         "42",
		Ge:         "x",
		Db:         "2999-01-01",
		Ct:         "75",
		St:         "!!",
		Zp:         "1",
		Country:    "Atlantis",
		ExternalID: "   ",
		FBP:        "fb.1.1.1",
	}
	dropped := n.UserData(&ud)
	want := Drops{
		fieldEm: ReasonInvalidEmail, fieldPh: ReasonInvalidPhone, fieldFn: ReasonEmpty, fieldLn: ReasonEmpty,
		fieldGe: ReasonUnknownGender, fieldDb: ReasonImplausibleDate, fieldCt: ReasonEmpty, fieldSt: ReasonEmpty,
		fieldZp: ReasonInvalidZip, fieldCountry: ReasonUnknownCountry,
	}
	if dropped != want {
		t.Errorf("dropped = %s, want %s (external_id is empty, not invalid)", dropped.AppendJSON(nil), want.AppendJSON(nil))
	}
	if ud != (fbevent.UserData{FBP: "fb.1.1.1"}) {
		t.Errorf("invalid fields not cleared: %+v", ud)
	}
}

func TestUserDataPassThroughHashes(t *testing.T) {
	t.Parallel()
	n := newNormalizer(t, "FR")
	upper := strings.ToUpper(hashEmail)
	mixed := hashPhone[:32] + strings.ToUpper(hashPhone[32:])
	ud := fbevent.UserData{
		Em: hashEmail, Ph: mixed, Fn: " " + upper + " ", Ln: hashDOB, Ge: hashCountry, Db: hashDOB,
		Ct: hashEmail, St: hashEmail, Zp: hashEmail, Country: upper, ExternalID: hashPhone,
	}
	dropped := n.UserData(&ud)
	if dropped.Any() {
		t.Fatalf("dropped = %v, want none", dropped)
	}
	want := fbevent.UserData{
		Em: hashEmail, Ph: hashPhone, Fn: hashEmail, Ln: hashDOB, Ge: hashCountry, Db: hashDOB,
		Ct: hashEmail, St: hashEmail, Zp: hashEmail, Country: hashEmail, ExternalID: hashPhone,
	}
	if ud != want {
		t.Errorf("UserData =\n %+v\nwant\n %+v", ud, want)
	}

	// Running the stage twice hashes nothing twice.
	again := want
	n.UserData(&again)
	if again != want {
		t.Errorf("second pass changed hashes: %+v", again)
	}

	// 63 or 65 hex characters, or 64 with a non-hex character, are not hashes.
	for _, s := range []string{hashEmail[:63], hashEmail + "a", hashEmail[:63] + "g"} {
		if _, ok := passThrough(s); ok {
			t.Errorf("passThrough(%q) = ok, want not a hash", s)
		}
	}
}

func TestUserDataIdempotentOnce(t *testing.T) {
	t.Parallel()
	// Normalizing a fully hashed user_data again is a no-op: the stage may run on replays.
	n := newNormalizer(t, "FR")
	ud := frenchUser()
	n.UserData(&ud)
	first := ud
	if d := n.UserData(&ud); d.Any() || ud != first {
		t.Errorf("second pass: dropped %v, changed %v", d, ud != first)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, region := range []string{"FR", "fr", " us ", "", "GB", "DE"} {
		if _, err := New(region); err != nil {
			t.Errorf("New(%q) = %v, want ok", region, err)
		}
	}
	for _, region := range []string{"XX", "FRA", "F", "ZZ", "001", "france"} {
		_, err := New(region)
		if !errors.Is(err, ErrUnknownRegion) {
			t.Errorf("New(%q) = %v, want ErrUnknownRegion", region, err)
		}
	}
}

func TestUserDataConcurrent(t *testing.T) {
	t.Parallel()
	n := newNormalizer(t, "FR")
	want := frenchUser()
	n.UserData(&want)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				ud := frenchUser()
				if i%2 == g%2 {
					ud.Ph = "+33 6 12 34 56 78"
				}
				n.UserData(&ud)
				if ud != want {
					t.Errorf("concurrent UserData differs: %+v", ud)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestDateOfBirthTodayCache checks the date of birth against today when the day last seen as today is stale (the
// service ran past midnight): a date after the stale day but not after the real today is valid, a date after the
// real today is not, and the stale day moves forward.
func TestDateOfBirthTodayCache(t *testing.T) {
	t.Parallel()
	n, err := New("FR")
	if err != nil {
		t.Fatal(err)
	}
	now := today()
	n.today.Store(int64(date(20000101)))
	y, m, d := time.Now().UTC().Date()
	todayISO := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	tomorrow := time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	tests := []struct {
		in   string
		want bool
	}{
		{"1985-03-14", true},  // before the stale day: no clock read needed
		{"2010-06-01", true},  // after the stale day, before today
		{todayISO, true},      // today itself
		{tomorrow, false},     // the future
		{"2010-02-30", false}, // no such date
	}
	for _, tt := range tests {
		ud := fbevent.UserData{Db: tt.in}
		n.UserDataInto(&ud, &Digests{})
		if got := ud.Db != ""; got != tt.want {
			t.Errorf("%s: kept %v, want %v", tt.in, got, tt.want)
		}
	}
	if got := date(n.today.Load()); got != now {
		t.Errorf("the day seen as today is %d after a later date was checked, want %d", got, now)
	}
}

// Placeholders are matched on the trimmed value ignoring case, and, for names, cities, states and zip codes, on
// the normalized value when it has three letters or more ("(null)", "<Unknown>"); "N/A" is caught as written,
// but a name that normalizes to "na" is kept.
func TestPlaceholders(t *testing.T) {
	n, err := NewWithOptions(Options{DefaultRegion: "FR", Placeholders: []string{"n/a", "-", "null", "undefined", "none", "unknown", "test", "xxx"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		field, in string
		dropped   bool
	}{
		{"fn", "N/A", true}, {"fn", " n/a ", true}, {"fn", "Ｎ/Ａ", true}, {"fn", "(null)", true}, {"ln", "<Unknown>", true},
		{"ct", "TEST.", true}, {"zp", "XXX", true}, {"st", "none", true}, {"em", "NULL", true}, {"ph", "-", true},
		{"external_id", "undefined", true}, {"db", "unknown", true}, {"ge", "Unknown", true},
		{"fn", "Na", false}, {"ln", "Nullington", false}, {"ct", "Testa", false}, {"em", "null@example.com", false},
		{"external_id", "test-1", false},
	} {
		_, r := n.Field(tt.field, tt.in, "")
		if got := r == ReasonPlaceholder; got != tt.dropped {
			t.Errorf("%s %q: reason %q, want placeholder %v", tt.field, tt.in, r, tt.dropped)
		}
	}
	// Without placeholders configured, they are values like any other.
	plain := newNormalizer(t, "FR")
	if v, r := plain.Field("fn", "Unknown", ""); v != "unknown" || r != Kept {
		t.Errorf("no placeholders: %q %s", v, r)
	}
}
