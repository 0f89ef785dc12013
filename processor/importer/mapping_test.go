package importer

import (
	"errors"
	"strings"
	"testing"
)

const crmExport = "Order;Email Address;Phone;Order Date;Total;Consents;Store;Notes\n" +
	"A-1;jean@example.fr;06 12 34 56 78;30/11/2026 10:15;59,90;1|2;Lyon 3;VIP\n" +
	"A-2;marie@example.fr;;01/12/2026 09:00;12,00;2;Paris;\n"

func TestMappingFile(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want map[string]any // of row 1
		// ignored columns
		ignored []string
	}{
		{
			name: "sections",
			yaml: `
columns:
  Order: id
  Email Address: user.email
  Phone: user.phone
  Order Date: {field: context.event_timestamp, layout: "02/01/2006 15:04", timezone: Europe/Paris}
  Total: value
  Consents: {field: consent_categories, split: "|"}
  Store: store_name
  Notes: ignore
constants:
  event_name: purchase
  currency: EUR
  integrations.facebook.custom_data.channel: pos
`,
			want: map[string]any{
				"id": "A-1", "user.email": "jean@example.fr", "user.phone": "06 12 34 56 78",
				"context.event_timestamp": "1796030100000", // 10:15 Paris = 09:15 UTC
				"value":                   "59.9", "event_name": "purchase", "currency": "EUR", "type": "offline",
				"store_name": "Lyon 3", "integrations.facebook.custom_data.channel": "pos",
				"integrations.facebook.event_id": "A-1", "Notes": nil,
			},
		},
		{
			name: "flat form, as in the issue",
			yaml: `
Order: id
Email Address: user.email
Order Date: {field: context.event_timestamp, layout: "02/01/2006 15:04"}
Total: value
Consents: consent_categories
type: offline
event_name: purchase
timezone: UTC
`,
			want: map[string]any{
				"id": "A-1", "user.email": "jean@example.fr", "context.event_timestamp": "1796033700000",
				"value": "59.9", "event_name": "purchase", "type": "offline", "user.phone": nil,
			},
			ignored: []string{"Phone", "Store", "Notes"},
		},
		{
			name: "constants override the offline default and fill empty cells only",
			yaml: "columns:\n  Order: id\n  Phone: user.phone\nconstants:\n  type: web\n  user.phone: \"+33100000000\"\n  consent_categories: [2, 4]\n",
			want: map[string]any{"type": "web", "user.phone": "06 12 34 56 78"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMapping([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			s, events, _ := mustImport(t, []byte(crmExport), Options{Mapping: m})
			if len(events) != 2 {
				t.Fatalf("%d events", len(events))
			}
			for path, v := range tt.want {
				if got := get(events[0], path); got != v && !(v == nil && got == nil) {
					t.Errorf("%s = %#v, want %#v", path, got, v)
				}
			}
			if tt.ignored != nil && strings.Join(s.IgnoredColumns, ",") != strings.Join(tt.ignored, ",") {
				t.Errorf("ignored columns %q, want %q", s.IgnoredColumns, tt.ignored)
			}
		})
	}
	// Row 2 of the third case: the constant fills the empty phone cell; lists become arrays.
	m, _ := ParseMapping([]byte("columns:\n  Phone: user.phone\n  Order: id\nconstants:\n  user.phone: \"+33100000000\"\n  consent_categories: [2, 4]\n"))
	_, events, _ := mustImport(t, []byte(crmExport), Options{Mapping: m})
	if got := get(events[1], "user.phone"); got != "+33100000000" {
		t.Errorf("constant did not fill the empty cell: %v", got)
	}
	if cc, _ := getPath(events[1], "consent_categories"); len(cc.([]any)) != 2 || cc.([]any)[1] != "4" {
		t.Errorf("list constant %v", cc)
	}
}

func TestMappingErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown column", "columns:\n  Emial: user.email\n", `column "Emial" is not in the header`},
		{"unknown field", "columns:\n  Email Address: user.emial\n", `not a Commanders Act field path`},
		{"two columns one field", "columns:\n  Email Address: user.email\n  Notes: user.email\n", "both map to user.email"},
		{"layout on a text field", "columns:\n  Store: {field: user.city, layout: \"2006\"}\n", "layout applies to date fields"},
		{"unknown spec key", "columns:\n  Store: {field: user.city, format: x}\n", `unknown key "format"`},
		{"neither column nor field", "Nope: user.email\n", `"Nope" is neither a column`},
		{"bad timezone", "timezone: Mars/Olympus\n", "unknown zone"},
		{"object root as custom field", "columns:\n  Store: user\n", "not a Commanders Act field path"},
		{"constant event id", "constants:\n  id: X\n", "event id cannot be a constant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMapping([]byte(tt.yaml))
			if err == nil {
				_, _, err = importBytes(t, []byte(crmExport), Options{Mapping: m})
			}
			if !errors.Is(err, ErrMapping) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrMapping containing %q", err, tt.want)
			}
		})
	}
}

func TestNoColumnMapsIsAnError(t *testing.T) {
	// A comma file read with the wrong delimiter has one column named after the whole header.
	_, _, err := importBytes(t, []byte("Email,Phone\na@b.c,1\n"), Options{})
	if !errors.Is(err, ErrMapping) || !strings.Contains(err.Error(), "no column of the header maps") {
		t.Fatalf("err = %v", err)
	}
}
