package importer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
)

func utf16LE(s string) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xFE})
	for _, u := range utf16.Encode([]rune(s)) {
		_ = binary.Write(&b, binary.LittleEndian, u)
	}
	return b.Bytes()
}

func TestCSVDialects(t *testing.T) {
	const bom = "\xEF\xBB\xBF"
	tests := []struct {
		name        string
		data        []byte
		o           Options
		wantDialect string
		want        []map[string]any // path → expected value (nil: absent)
	}{
		{
			name: "comma, UTF-8, quoted delimiter, quotes and newline",
			data: []byte("event_name,id,value,currency,user.firstname,name\n" +
				"purchase,ORD-1,59.90,EUR,Jean,\"Shirt, \"\"blue\"\"\nXL\"\n" +
				"purchase,ORD-2,1234.5,EUR,Zoé,\n"),
			wantDialect: "csv, delimiter ',', UTF-8",
			want: []map[string]any{
				{"event_name": "purchase", "id": "ORD-1", "value": "59.9", "user.firstname": "Jean", "name": "Shirt, \"blue\"\nXL", "type": "offline"},
				{"id": "ORD-2", "value": "1234.5", "user.firstname": "Zoé", "name": nil},
			},
		},
		{
			name: "semicolon (French Excel), BOM, CRLF, decimal comma, quoted semicolon and newline",
			data: []byte(bom + "event_name;id;value;user.firstname;name\r\n" +
				"purchase;ORD-1;59,90;Jean;\"Pull; \"\"laine\"\"\r\nXL\"\r\n" +
				"purchase;ORD-2;1 234,56;Zoé;\r\n" +
				"purchase;ORD-3;1.234,5;Léa;\r\n"),
			wantDialect: "csv, delimiter ';', UTF-8 with BOM, decimal comma",
			want: []map[string]any{
				{"event_name": "purchase", "value": "59.9", "user.firstname": "Jean", "name": "Pull; \"laine\"\nXL"},
				{"value": "1234.56", "user.firstname": "Zoé"},
				{"value": "1234.5", "user.firstname": "Léa"},
			},
		},
		{
			name:        "tab",
			data:        []byte("event_name\tid\tvalue\tuser.city\npurchase\tORD-1\t10\tSaint-Étienne\n"),
			wantDialect: "csv, delimiter tab, UTF-8",
			want:        []map[string]any{{"value": "10", "user.city": "Saint-Étienne"}},
		},
		{
			name:        "Windows-1252 (bytes not UTF-8)",
			data:        []byte("event_name;id;value;user.firstname;user.city\r\npurchase;ORD-1;5,5;H\xe9l\xe8ne;Besan\xe7on\r\n"),
			wantDialect: "csv, delimiter ';', Windows-1252 (the bytes are not UTF-8), decimal comma",
			want:        []map[string]any{{"value": "5.5", "user.firstname": "Hélène", "user.city": "Besançon"}},
		},
		{
			name:        "Windows-1252 forced",
			data:        []byte("event_name,id,user.firstname\npurchase,1,Fran\x80ois\n"),
			o:           Options{Encoding: "windows-1252"},
			wantDialect: "csv, delimiter ',', windows-1252",
			want:        []map[string]any{{"user.firstname": "Fran€ois"}},
		},
		{
			name:        "UTF-16 with BOM (Excel Unicode text)",
			data:        utf16LE("event_name\tid\tuser.firstname\r\npurchase\tORD-9\tChloé\r\n"),
			wantDialect: "csv, delimiter tab, UTF-16 with BOM",
			want:        []map[string]any{{"id": "ORD-9", "user.firstname": "Chloé"}},
		},
		{
			name:        "decimal comma when told, in a comma file",
			data:        []byte("event_name,id,value\npurchase,1,\"59,90\"\n"),
			o:           Options{DecimalComma: ptr(true)},
			wantDialect: "csv, delimiter ',', UTF-8, decimal comma",
			want:        []map[string]any{{"value": "59.9"}},
		},
		{
			name:        "empty cells are absent, spaces trimmed, header names case-insensitive",
			data:        []byte("Event_Name , ID,User.Email,user.phone,value\npurchase, 7 ,  ,,\n"),
			wantDialect: "csv, delimiter ',', UTF-8",
			want:        []map[string]any{{"event_name": "purchase", "id": "7", "user": nil, "value": nil}},
		},
		{
			name:        "delimiter forced",
			data:        []byte("event_name|id\npurchase|1\n"),
			o:           Options{Delimiter: '|'},
			wantDialect: "csv, delimiter '|', UTF-8",
			want:        []map[string]any{{"event_name": "purchase", "id": "1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, events, _ := mustImport(t, tt.data, tt.o)
			if s.Dialect != tt.wantDialect {
				t.Errorf("dialect %q, want %q", s.Dialect, tt.wantDialect)
			}
			if len(events) != len(tt.want) || s.Produced != int64(len(tt.want)) || s.Rows != int64(len(tt.want)) {
				t.Fatalf("%d events (summary %+v), want %d", len(events), s, len(tt.want))
			}
			for i, want := range tt.want {
				for path, v := range want {
					if got := get(events[i], path); got != v && !(v == nil && got == nil) {
						t.Errorf("row %d: %s = %#v, want %#v", i+1, path, got, v)
					}
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestCSVRowProblems(t *testing.T) {
	data := []byte("event_name;id;value;context.event_timestamp;consent_categories;integrations.facebook.opt_out\n" +
		"purchase;1;10;2026-11-30 10:00:00;1|2;no\n" + // line 2: fine
		"purchase;2;dix;2026-11-30;2;\n" + // line 3: value
		"purchase;3;10;30/11/2026;2;\n" + // line 4: date form
		"purchase;4;10\n" + // line 5: field count
		"purchase;5;1,2,3;;;maybe\n" + // line 6: two problems
		"purchase;\"6;10;;;\n" + // line 7: unterminated quote runs to the end
		"purchase;7;10;;;\n")
	s, p, err := importBytes(t, data, Options{})
	if err == nil {
		t.Fatal("rows neither produced nor rejected to a file, yet no error")
	}
	if s.Unaccounted != 5 || s.Produced != 1 || s.Rejected != 5 {
		t.Fatalf("summary %+v", s)
	}
	wantLines := []int{3, 4, 5, 6, 7}
	wantText := []string{`column "value" (value): not a number`, "not a date in a known form", "3 fields, the header has 6",
		`column "integrations.facebook.opt_out" (integrations.facebook.opt_out): not a boolean`, "not valid CSV"}
	for i, pr := range s.Problems {
		if pr.Line != wantLines[i] || !strings.Contains(pr.Reason, wantText[i]) {
			t.Errorf("problem %d: line %d %q, want line %d containing %q", i, pr.Line, pr.Reason, wantLines[i], wantText[i])
		}
		for _, value := range []string{"dix", "30/11/2026", "maybe", "1,2,3"} {
			if strings.Contains(pr.Reason, value) {
				t.Errorf("problem %d shows the value %q: %s", i, value, pr.Reason)
			}
		}
	}
	ev := p.events(t)[0]
	if get(ev, "context.event_timestamp") != "1796032800000" {
		t.Errorf("timestamp %v", get(ev, "context.event_timestamp"))
	}
	if cc, _ := getPath(ev, "consent_categories"); len(cc.([]any)) != 2 {
		t.Errorf("consent_categories %v", cc)
	}
	if get(ev, "integrations.facebook.opt_out") != false {
		t.Errorf("opt_out %v", get(ev, "integrations.facebook.opt_out"))
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in    string
		comma bool
		want  float64
		ok    bool
	}{
		{"59.90", false, 59.9, true}, {"59,90", true, 59.9, true}, {"59,90", false, 0, false},
		{"1,234.56", false, 1234.56, true}, {"1.234,56", true, 1234.56, true}, {"1 234,56", true, 1234.56, true},
		{"1\u00a0234,5", true, 1234.5, true}, {"1.234.567", true, 1234567, true}, {"1,234,567", false, 1234567, true},
		{"-3", false, -3, true}, {"59.90", true, 59.9, true}, {"€5", false, 0, false}, {"NaN", false, 0, false},
		{"1e999", false, 0, false}, {"1,2,3", true, 0, false}, {"", false, 0, false},
	}
	for _, tt := range tests {
		got, err := parseNumber(tt.in, tt.comma)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseNumber(%q, %v) = %v, %v; want %v ok=%v", tt.in, tt.comma, got, err, tt.want, tt.ok)
		}
	}
}

func TestTimestamps(t *testing.T) {
	c := converter{kind: kindTimestamp}
	for in, want := range map[string]string{
		"1796032800":                "1796032800000",
		"1796032800000":             "1796032800000",
		"2026-11-30T10:00:00Z":      "1796032800000",
		"2026-11-30T11:00:00+01:00": "1796032800000",
		"2026-11-30 10:00:00":       "1796032800000",
		"2026-11-30":                "1795996800000",
	} {
		got, err := c.appendJSON(nil, in)
		if err != nil || string(got) != want {
			t.Errorf("%q → %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := c.appendJSON(nil, "30/11/2026"); err == nil {
		t.Error("an ambiguous day/month date was accepted without a layout")
	}
}

func TestItemsColumns(t *testing.T) {
	data := "event_name;id;items.0.product.id;items.0.product.price;items.0.quantity;items.1.product.id;items.1.quantity\n" +
		"purchase;1;SKU-1;9,90;2;SKU-2;1\n" +
		"purchase;2;;;;SKU-3;4\n"
	_, p, err := importBytes(t, []byte(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"event_name":"purchase","id":"1","integrations":{"facebook":{"event_id":"1"}},"items":[{"product":{"id":"SKU-1","price":9.9},"quantity":2},{"product":{"id":"SKU-2"},"quantity":1}],"type":"offline"}`,
		`{"event_name":"purchase","id":"2","integrations":{"facebook":{"event_id":"2"}},"items":[{"product":{"id":"SKU-3"},"quantity":4}],"type":"offline"}`,
	}
	for i, r := range p.recs {
		if string(r.Value) != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i+1, r.Value, want[i])
		}
	}
}

func TestUnterminatedQuoteKeepsMemoryBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("event_name;id;name\npurchase;1;ok\npurchase;2;\"never closed\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "purchase;%d;row\n", i+3)
	}
	s, _, err := importBytes(t, []byte(b.String()), Options{MaxRowBytes: 64 << 10, Rejects: &strings.Builder{}})
	if !errors.Is(err, ErrRowTooLarge) || s.Produced != 1 {
		t.Fatalf("err %v, summary %+v", err, s)
	}
}
