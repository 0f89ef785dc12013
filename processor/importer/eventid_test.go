package importer

import (
	"slices"
	"strings"
	"testing"
)

const noIDFile = "event_name;value;currency;user.email;context.event_timestamp\n" +
	"purchase;59,90;EUR;jean@example.fr;2026-11-30 10:00:00\n" +
	"purchase;12,00;EUR;marie@example.fr;2026-11-30 11:00:00\n" +
	"purchase;12,00;EUR;paul@example.fr;2026-11-30 11:00:00\n"

func ids(t *testing.T, data string, o Options) []string {
	t.Helper()
	_, events, keys := mustImport(t, []byte(data), o)
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = get(ev, "integrations.facebook.event_id").(string)
		if string(keys[i]) != out[i] {
			t.Errorf("row %d: record key %q differs from the event id %q", i+1, keys[i], out[i])
		}
	}
	return out
}

func TestEventIDDeterministic(t *testing.T) {
	first, second := ids(t, noIDFile, Options{}), ids(t, noIDFile, Options{})
	if !slices.Equal(first, second) {
		t.Fatalf("the same file imported twice gave different ids:\n%v\n%v", first, second)
	}
	for _, id := range first {
		if !strings.HasPrefix(id, "imp-") || len(id) != 4+32 {
			t.Errorf("hash id %q: want imp- and 32 hex digits", id)
		}
	}
	if first[0] == first[1] || first[1] == first[2] {
		t.Errorf("different rows share an id: %v", first)
	}

	// One changed cell changes that row's id, and only that row's.
	changed := strings.Replace(noIDFile, "12,00;EUR;marie", "12,01;EUR;marie", 1)
	got := ids(t, changed, Options{})
	if got[0] != first[0] || got[2] != first[2] || got[1] == first[1] {
		t.Errorf("after changing one cell of row 2: %v, before %v", got, first)
	}

	// The id is a hash of the mapped content: column order, an ignored column, spaces and the number's
	// spelling do not change it.
	reordered := "Notes;user.email;context.event_timestamp;event_name;currency;value\n" +
		"x; jean@example.fr ;2026-11-30T10:00:00Z;purchase;EUR;59.9\n"
	if got := ids(t, reordered, Options{}); got[0] != first[0] {
		t.Errorf("same content, other layout: %s, want %s", got[0], first[0])
	}
}

func TestEventIDFromOwnColumns(t *testing.T) {
	tests := []struct {
		name, data string
		want       []string
	}{
		{"order id", "event_name;id;value\npurchase;ORD-1;1\npurchase;ORD-2;2\n", []string{"ORD-1", "ORD-2"}},
		{"integrations.facebook.event_id wins", "integrations.facebook.event_id;id;event_name\nfb-1;ORD-1;purchase\n;ORD-2;purchase\n", []string{"fb-1", "ORD-2"}},
		{"root event_id before id", "event_name;id;event_id\npurchase;ORD-1;ev-1\n", []string{"ev-1"}},
		{"context.event_id", "event_name;context.event_id\npurchase;ctx-1\n", []string{"ctx-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(t, tt.data, Options{}); !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}
	// An empty id cell falls back to the hash.
	got := ids(t, "event_name;id;value\npurchase;;1\n", Options{})
	if !strings.HasPrefix(got[0], "imp-") {
		t.Errorf("empty id cell: %q", got[0])
	}
	// With an own id, a changed cell keeps the id (it is the same order, corrected).
	a := ids(t, "event_name;id;value\npurchase;ORD-1;1\n", Options{})
	b := ids(t, "event_name;id;value\npurchase;ORD-1;2\n", Options{})
	if a[0] != b[0] {
		t.Errorf("own id changed with the content: %s, %s", a[0], b[0])
	}
}

func TestNDJSON(t *testing.T) {
	data := "{\"event_name\":\"purchase\",\"id\":\"ORD-1\",\"value\":59.90,\"user\":{\"email\":\"a@b.fr\"}}\n" +
		"\n" +
		"{\"event_name\":\"purchase\",\"type\":\"web\",\"integrations\":{\"facebook\":{\"event_id\":\"keep\"}}}\r\n" +
		"not json\n" +
		"[1,2]\n" +
		"{\"event_name\":\"purchase\",\"value\":1} {\"x\":1}\n" +
		"{\"event_name\":\"purchase\",\"integrations\":\"nope\"}\n" +
		"{\"event_name\":\"lead\",\"value\":12345678901234567890}" // no final newline
	var rej strings.Builder
	s, p, err := importBytes(t, []byte(data), Options{Format: FormatNDJSON, Rejects: &rej,
		Mapping: Mapping{Constants: map[string]any{"currency": "EUR"}}})
	if err != nil {
		t.Fatalf("%v %+v", err, s)
	}
	events := p.events(t)
	if s.Rows != 7 || s.Produced != 3 || s.Rejected != 4 || s.RejectsWritten != 4 || len(events) != 3 {
		t.Fatalf("summary %+v", s)
	}
	if get(events[0], "type") != "offline" || get(events[0], "integrations.facebook.event_id") != "ORD-1" ||
		get(events[0], "value") != "59.90" || get(events[0], "currency") != "EUR" {
		t.Errorf("event 1: %v", events[0])
	}
	if get(events[1], "type") != "web" || get(events[1], "integrations.facebook.event_id") != "keep" {
		t.Errorf("event 2: %v", events[1])
	}
	if id := get(events[2], "integrations.facebook.event_id").(string); !strings.HasPrefix(id, "imp-") || get(events[2], "value") != "12345678901234567890" {
		t.Errorf("event 3: %v", events[2])
	}
	wantLines := []int{4, 5, 6, 7}
	for i, pr := range s.Problems {
		if pr.Line != wantLines[i] {
			t.Errorf("problem %d on line %d, want %d (%s)", i, pr.Line, wantLines[i], pr.Reason)
		}
	}
	lines := strings.Split(strings.TrimSpace(rej.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], `{"line":4,"reason":"not JSON (syntax error at byte 2)","raw":"not json"}`) {
		t.Errorf("rejects:\n%s", rej.String())
	}
	// Same file again: same ids.
	_, p2, _ := importBytes(t, []byte(data), Options{Format: FormatNDJSON, Mapping: Mapping{Constants: map[string]any{"currency": "EUR"}}})
	for i, ev := range p2.events(t) {
		if get(ev, "integrations.facebook.event_id") != get(events[i], "integrations.facebook.event_id") {
			t.Errorf("event %d: id changed between two imports", i)
		}
	}
}

func TestSameIDAsPreviousRow(t *testing.T) {
	lineItems := "event_name;id;items.0.product.id;value\npurchase;ORD-1;SKU-1;10\npurchase;ORD-1;SKU-2;5\npurchase;ORD-2;SKU-1;10\npurchase;ORD-1;SKU-3;1\n"
	s, _, err := importBytes(t, []byte(lineItems), Options{})
	if err != nil || s.SameIDAsPrevious != 1 {
		t.Fatalf("%v: same id as previous %d, want 1 (rows 2 and 3 share ORD-1)", err, s.SameIDAsPrevious)
	}
	var b strings.Builder
	_ = s.WriteText(&b)
	if !strings.Contains(b.String(), "warning: 1 rows have the same event id as the row before them") {
		t.Errorf("summary:\n%s", b.String())
	}
	if s, _, _ := importBytes(t, []byte(noIDFile), Options{}); s.SameIDAsPrevious != 0 {
		t.Errorf("hash ids of distinct rows counted as repeats: %d", s.SameIDAsPrevious)
	}
}
