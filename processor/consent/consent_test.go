package consent

import (
	"fmt"
	"strings"
	"testing"

	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/schema"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		category string
		root     []string
		user     []string
		pass     bool
	}{
		{"unset category passes everything", "", nil, nil, true},
		{"blank category passes everything", "  ", nil, nil, true},
		{"granted at root", "3", []string{"1", "3"}, nil, true},
		{"granted in user", "3", nil, []string{"3"}, true},
		{"granted in both", "3", []string{"3"}, []string{"3"}, true},
		{"number kept as text matches", "3", []string{"3"}, nil, true},
		{"granted with spaces", "3", []string{" 3 "}, nil, true},
		{"configured with spaces", " 3 ", []string{"3"}, nil, true},
		{"not granted", "3", []string{"1", "2"}, []string{"4"}, false},
		{"no categories at all", "3", nil, nil, false},
		{"empty lists", "3", []string{}, []string{}, false},
		{"prefix is not a match", "3", []string{"33", "13"}, nil, false},
		{"case and text exact", "ads", []string{"ADS"}, nil, false},
		{"text category granted", "ads", []string{"ads"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &schema.Event{ConsentCategories: tt.root, User: schema.User{ConsentCategories: tt.user}}
			ev.User.Email = "secret@example.com"
			r := Check(tt.category, ev)
			if tt.pass {
				if r != nil {
					t.Fatalf("Check = %v, want pass", r)
				}
				return
			}
			if r == nil {
				t.Fatal("Check passed, want no_consent")
			}
			if r.Reason != reject.NoConsent || r.Stage != reject.StageConsent {
				t.Fatalf("rejection = %+v, want no_consent at consent", r)
			}
		})
	}
}

func TestCheckDetail(t *testing.T) {
	t.Parallel()
	r := Check("3", &schema.Event{User: schema.User{UserFields: schema.UserFields{Email: "secret@example.com"}}})
	if r == nil || r.Detail != `consent category "3" not granted` {
		t.Fatalf("rejection = %+v", r)
	}
}

// TestNotGrantedMatchesFmt pins the detail built without fmt to the text fmt gave, quoting included.
func TestNotGrantedMatchesFmt(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"3", "ads", "a b", `quo"te`, `back\slash`, "tab\there", "é", "\x00\xff", "日本",
		strings.Repeat("long", 50)} {
		if got, want := notGranted(c), fmt.Sprintf("consent category %q not granted", c); got != want {
			t.Errorf("notGranted(%q) = %q, want %q", c, got, want)
		}
	}
}

// TestTrimSpace checks the shortcut against strings.TrimSpace on the values at its edges.
func TestTrimSpace(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", " ", "3", " 3", "3 ", "\t3\n", "\u00a03\u00a0", "\u20003", "a b", "\x7f", "é"} {
		if got, want := trimSpace(s), strings.TrimSpace(s); got != want {
			t.Errorf("trimSpace(%q) = %q, want %q", s, got, want)
		}
	}
}

// BenchmarkCheckNotGranted is the check on an event refused consent (a good share of real traffic).
func BenchmarkCheckNotGranted(b *testing.B) {
	ev := &schema.Event{ConsentCategories: []string{"1", "3"}, User: schema.User{ConsentCategories: []string{"4"}}}
	b.ReportAllocs()
	for b.Loop() {
		if r := Check("2", ev); r == nil {
			b.Fatal("granted")
		}
	}
}
