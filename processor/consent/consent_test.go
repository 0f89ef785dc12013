package consent

import (
	"testing"

	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/schema"
)

func TestCheck(t *testing.T) {
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
	r := Check("3", &schema.Event{User: schema.User{UserFields: schema.UserFields{Email: "secret@example.com"}}})
	if r == nil || r.Detail != `consent category "3" not granted` {
		t.Fatalf("rejection = %+v", r)
	}
}
