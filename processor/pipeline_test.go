package processor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

// now is one hour after the golden events' timestamps.
var now = time.UnixMilli(1795960800000).Add(time.Hour).UTC()

func shop() processor.Destination { return servicetest.Shop() }

func newPipeline(t testing.TB, dests ...processor.Destination) *processor.Pipeline {
	t.Helper()
	return servicetest.Pipeline(t, dests...)
}

// render is the golden form of an outcome: the exact server event bytes, or the rejection.
func render(t *testing.T, o processor.Outcome) []byte {
	t.Helper()
	if o.Rejection != nil {
		b, err := json.Marshal(map[string]string{"reason": string(o.Rejection.Reason), "stage": o.Rejection.Stage, "detail": o.Rejection.Detail})
		if err != nil {
			t.Fatal(err)
		}
		return append(b, '\n')
	}
	if !json.Valid(o.JSON) {
		t.Fatalf("invalid JSON: %s", o.JSON)
	}
	return append(append([]byte{}, o.JSON...), '\n')
}

func TestGoldenPayloads(t *testing.T) {
	tests := []struct {
		file   string
		reason reject.Reason // "" = delivered
	}{
		{"purchase.json", ""},
		{"offline_purchase.json", ""},
		{"page_view_anonymous.json", reject.InsufficientUserData},
		{"custom_event.json", ""},
		{"prehashed.json", ""},
		{"no_consent.json", reject.NoConsent},
		{"invalid.json", reject.InvalidPayload},
		{"app_event.json", ""},
		{"app_event_no_app_data.json", reject.InvalidEvent},
	}
	p := newPipeline(t)
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			in := readTestdata(t, "golden/"+tc.file)
			outs, err := p.Process(context.Background(), processor.Record{Value: bytes.TrimSpace(in), Timestamp: now}, now, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(outs) != 1 {
				t.Fatalf("got %d outcomes, want 1", len(outs))
			}
			o := outs[0]
			if tc.reason == "" && o.Rejection != nil {
				t.Fatalf("rejected: %v", o.Rejection)
			}
			if tc.reason != "" && (o.Rejection == nil || o.Rejection.Reason != tc.reason) {
				t.Fatalf("outcome %+v, want rejection %s", o.Rejection, tc.reason)
			}
			matchGolden(t, strings.TrimSuffix(tc.file, ".json")+".golden", render(t, o))
		})
	}
}

func TestDeterministic(t *testing.T) {
	p := newPipeline(t)
	in := readTestdata(t, "golden/purchase.json")
	// Without any event id in the input, the id is derived from the bytes: stable across runs and processes.
	noID := bytes.Replace(in, []byte(`"integrations":{"facebook":{"event_id":"evt-purchase-42"}}`), []byte(`"integrations":{}`), 1)
	for _, raw := range [][]byte{in, noID} {
		var first []byte
		for range 3 {
			outs, err := p.Process(context.Background(), processor.Record{Value: raw, Timestamp: now}, now, nil)
			if err != nil || outs[0].Rejection != nil {
				t.Fatalf("err %v rejection %v", err, outs[0].Rejection)
			}
			if first == nil {
				first = outs[0].JSON
			} else if !bytes.Equal(first, outs[0].JSON) {
				t.Fatalf("same input, different payload:\n%s\n%s", first, outs[0].JSON)
			}
		}
	}
	outs, _ := p.Process(context.Background(), processor.Record{Value: noID, Timestamp: now}, now, nil)
	if id := outs[0].EventID; len(id) != 64 {
		t.Fatalf("event_id from record bytes = %q, want a sha256 hex", id)
	}
}

func TestDestinationsAreIndependent(t *testing.T) {
	strict := shop()
	strict.Name, strict.ConsentCategory = "strict", "9"
	filtered := shop()
	filtered.Name, filtered.Include = "leads-only", []string{"generate_lead"}
	ldu := shop()
	ldu.Name, ldu.LDU = "ldu", processor.LDU{Enabled: true, Country: 1, State: 1000}
	p := newPipeline(t, shop(), strict, filtered, ldu)
	in := readTestdata(t, "golden/purchase.json")
	outs, err := p.Process(context.Background(), processor.Record{Value: in, Timestamp: now}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 4 {
		t.Fatalf("got %d outcomes, want 4", len(outs))
	}
	if outs[0].JSON == nil {
		t.Errorf("shop: %+v", outs[0].Rejection)
	}
	if outs[1].Rejection == nil || outs[1].Rejection.Reason != reject.NoConsent {
		t.Errorf("strict: want no_consent, got %+v", outs[1])
	}
	if !outs[2].Filtered {
		t.Errorf("leads-only: want filtered, got %+v", outs[2])
	}
	if !bytes.Contains(outs[3].JSON, []byte(`"data_processing_options":["LDU"],"data_processing_options_country":1,"data_processing_options_state":1000`)) {
		t.Errorf("ldu: missing LDU options in %s", outs[3].JSON)
	}
	if outs[0].MatchKeys&processor.KeyEm == 0 || outs[0].MatchKeys&processor.KeyFBP == 0 {
		t.Errorf("match keys %b: want em and fbp", outs[0].MatchKeys)
	}
}

func TestNoPersonalDataInRejections(t *testing.T) {
	p := newPipeline(t)
	pii := []string{"jean.dupont", "Dupont", "06 12 34 56 78", "612345678", "203.0.113.7", "Saint"}
	for _, f := range []string{"purchase.json", "page_view_anonymous.json", "no_consent.json"} {
		in := readTestdata(t, "golden/"+f)
		// Break the event in several ways; no detail may echo a value.
		for _, mutate := range []func([]byte) []byte{
			func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"currency":"EUR"`), []byte(`"currency":"Dupont"`), 1)
			},
			func(b []byte) []byte { return bytes.Replace(b, []byte(`1795960800000`), []byte(`1095960800000`), 1) },
			func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"user":{`), []byte(`"user":"jean.dupont 06 12 34 56 78","x":{`), 1)
			},
		} {
			outs, err := p.Process(context.Background(), processor.Record{Value: mutate(in), Timestamp: now}, now, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r := outs[0].Rejection; r != nil {
				for _, s := range pii {
					if strings.Contains(r.Detail, s) {
						t.Errorf("%s: detail %q contains personal data %q", f, r.Detail, s)
					}
				}
			}
		}
	}
}

// BenchmarkTransform is the transformation hot path on a ~700-byte purchase: decode → consent → map →
// normalize + hash → eligibility → validate → encode. Goal: ≤ 3 µs and a handful of allocations per event.
func BenchmarkTransform(b *testing.B) {
	p := newPipeline(b)
	in := bytes.TrimSpace(readTestdata(b, "bench_purchase.json"))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var outs []processor.Outcome
	var err error
	ctx := context.Background()
	for b.Loop() {
		outs, err = p.Process(ctx, processor.Record{Value: in, Timestamp: now}, now, outs[:0])
		if err != nil || outs[0].JSON == nil {
			b.Fatal(err, outs[0].Rejection)
		}
	}
}

// BenchmarkTransformUniquePhones is BenchmarkTransform as real traffic looks: every record carries a phone number
// the normalizer has not seen (so no cache can help), as the sample events of the e2e bench do.
func BenchmarkTransformUniquePhones(b *testing.B) {
	p := newPipeline(b)
	in := bytes.TrimSpace(readTestdata(b, "bench_purchase.json"))
	records := make([][]byte, 1<<14)
	for i := range records {
		phone := fmt.Sprintf(`"phone":"06 %02d %02d %02d %02d"`, i/1000000%100, i/10000%100, i/100%100, i%100)
		records[i] = bytes.Replace(in, []byte(`"phone":"06 12 34 56 78"`), []byte(phone), 1)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var outs []processor.Outcome
	var err error
	ctx := context.Background()
	i := 0
	for b.Loop() {
		outs, err = p.Process(ctx, processor.Record{Value: records[i%len(records)], Timestamp: now}, now, outs[:0])
		if err != nil || outs[0].JSON == nil {
			b.Fatal(err, outs[0].Rejection)
		}
		i++
	}
}
