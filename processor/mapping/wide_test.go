package mapping

import (
	"fmt"
	"strings"
	"testing"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// wideEvent is an event with n custom keys: under integrations.facebook.custom_data when nested, else as unknown
// root scalars (sent only with passthrough). Every key appears twice when repeat is set.
func wideEvent(n int, nested, repeat bool) string {
	var b strings.Builder
	b.WriteString(`{"event_name":"e"`)
	keys := func() {
		for i := range n {
			fmt.Fprintf(&b, `,"k%d":%d`, i, i)
			if repeat {
				fmt.Fprintf(&b, `,"k%d":%d`, i, -i)
			}
		}
	}
	if nested {
		b.WriteString(`,"integrations":{"facebook":{"custom_data":{"value":1`)
		keys()
		b.WriteString(`}}}}`)
	} else {
		keys()
		b.WriteString(`}`)
	}
	return b.String()
}

// TestCustomParamsCapped: beyond MaxCustomParams distinct keys, custom parameters are dropped and counted, in
// input order, repeated keys counted once; the rest of the event is mapped as usual.
func TestCustomParamsCapped(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name           string
		n              int
		nested, repeat bool
		wantSent       int
		wantDropped    int
	}{
		{"below the cap", 10, true, false, 10, 0},
		{"at the cap", MaxCustomParams, true, false, MaxCustomParams, 0},
		{"custom_data 100k keys", 100_000, true, false, MaxCustomParams, 100_000 - MaxCustomParams},
		{"root passthrough 100k keys", 100_000, false, false, MaxCustomParams, 100_000 - MaxCustomParams},
		{"repeated keys count once", 1000, true, true, MaxCustomParams, 1000 - MaxCustomParams},
		{"repeated keys below the cap", 30, true, true, 30, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := mustMap(t, wideEvent(tt.n, tt.nested, tt.repeat), Options{CustomDataPassthrough: true})
			cd := out.CustomData
			if len(cd.Extra) != tt.wantSent || cd.DroppedParams != tt.wantDropped {
				t.Fatalf("sent %d dropped %d, want %d and %d", len(cd.Extra), cd.DroppedParams, tt.wantSent, tt.wantDropped)
			}
			for i, p := range cd.Extra {
				if p.Key != fmt.Sprintf("k%d", i) {
					t.Fatalf("param %d is %q: the first keys in input order must be kept", i, p.Key)
				}
				want := fmt.Sprint(i)
				if tt.repeat && tt.nested && i > 0 {
					want = fmt.Sprint(-i) // the last value wins, at the first position
				}
				if string(p.Value) != want {
					t.Fatalf("param %s = %s, want %s", p.Key, p.Value, want)
				}
			}
			if tt.nested && (!cd.HasValue || cd.Value != 1) {
				t.Fatalf("typed value lost: %+v", cd.Value)
			}
			// Validate may refuse this bare event for its missing user data, never for its parameters.
			if err := fbevent.Validate(&out, recordTime); err != nil && strings.Contains(err.Error(), "custom_data") {
				t.Fatalf("validate: %v", err)
			}
		})
	}
}

// BenchmarkWideEvent maps an event with 100 000 custom keys: the cost must grow linearly with the keys (it was
// quadratic: 100k keys took ~10 s here and another ~10 s in fbevent.Validate).
func BenchmarkWideEvent(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		js := wideEvent(n, true, false)
		ev := decode(b, js)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var out fbevent.Event
			for b.Loop() {
				if r := Map(ev, Input{Raw: []byte(js), RecordTime: recordTime}, Options{}, &out); r != nil {
					b.Fatal(r)
				}
			}
		})
	}
}
