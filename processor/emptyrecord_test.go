package processor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/schema"
)

type stubJSON struct{ d *schema.JSONDecoder }

func (j stubJSON) Decode(_ context.Context, b []byte, ev *schema.Event) error {
	return j.d.Decode(b, ev)
}

// Tombstones, empty records and invalid JSON are invalid_payload, each with its own reason: an operator reading
// the DLQ must not see "syntax error at byte 0" for a compaction delete, nor a lenient parser accept bad escapes.
func TestUndecodableRecordsSayWhy(t *testing.T) {
	p, err := New(stubJSON{schema.NewJSONDecoder()}, []Destination{{Name: "a"}, {Name: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		value []byte
		want  string
	}{
		{"tombstone", nil, "tombstone (null value)"},
		{"empty", []byte{}, "empty record"},
		{"blank", []byte(" \n"), "empty record"},
		{"invalid escape", []byte(`{"event_name":"a\x"}`), "invalid escape in a string"},
		{"unknown escape", []byte(`{"event_name":"a\q"}`), "invalid escape in a string"},
		{"bad unicode escape", []byte(`{"event_name":"\u00zz"}`), "invalid \\u escape in a string"},
		{"raw tab", []byte("{\"event_name\":\"a\tb\"}"), "raw control character in a string"},
		{"raw control", []byte("{\"event_name\":\"a\x01b\"}"), "raw control character in a string"},
		{"deep", []byte(deep(100000)), "nesting deeper than 300"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			outs, err := p.Process(context.Background(), Record{Topic: "t", Value: tt.value, Timestamp: time.Now()}, time.Now(), nil)
			if err != nil || len(outs) != 2 {
				t.Fatalf("outs %v err %v", outs, err)
			}
			for _, o := range outs {
				r := o.Rejection
				if r == nil || r.Reason != reject.InvalidPayload || r.Stage != reject.StageDecode || !strings.Contains(r.Detail, tt.want) {
					t.Fatalf("rejection %+v, want invalid_payload at decode saying %q", r, tt.want)
				}
			}
		})
	}
}

func deep(n int) string {
	b := make([]byte, 0, 6*n+1)
	for range n {
		b = append(b, `{"a":`...)
	}
	b = append(b, '1')
	for range n {
		b = append(b, '}')
	}
	return string(b)
}
