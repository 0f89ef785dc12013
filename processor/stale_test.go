package processor_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/schema"
)

// reuseSpy wraps a decoder and counts the calls that were handed an Event it had already filled: proof that the
// pipeline reused its pooled event, so that the test below really exercises the stale-field case.
type reuseSpy struct {
	dec    processor.Decoder
	mu     sync.Mutex
	seen   map[*schema.Event]bool
	reused int
}

func (s *reuseSpy) Decode(ctx context.Context, b []byte, ev *schema.Event) error {
	s.mu.Lock()
	if s.seen[ev] {
		s.reused++
	}
	s.seen[ev] = true
	s.mu.Unlock()
	return s.dec.Decode(ctx, b, ev)
}

// TestPipelineNoStaleFields: the pipeline does not clear its pooled event between records (the decoders reset it,
// per the Decoder contract), so a sparse record decoded after a full one must come out exactly as from a pipeline
// that never saw the full one, with every input format: no field (personal data above all) of one user's event
// may survive into another's.
func TestPipelineNoStaleFields(t *testing.T) {
	full := bytes.TrimSpace(readTestdata(t, "bench_purchase.json"))
	sparse := []byte(`{"event_name":"page_view","consent_categories":["2"],"url":"https://shop.example.com/",` +
		`"fbp":"fb.1.1795960000000.42","user":{"country":"DE"},"context":{"event_timestamp":1795960800000,"page":{"url":"https://shop.example.com/p"},"device":{"ip":"198.51.100.1","user_agent":"UA/1"}}}`)

	confluent, fixed, id := avroDecoders(t)
	toAvro := func(js []byte) (framed []byte) {
		var ev schema.Event
		if err := schema.NewJSONDecoder().Decode(js, &ev); err != nil {
			t.Fatal(err)
		}
		b, err := schema.EncodeAvroConfluent(id, "", schema.EventToAvro(&ev))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fullAvro, sparseAvro := toAvro(full), toAvro(sparse)
	formats := []struct {
		topic        string
		dec          processor.Decoder
		full, sparse []byte
	}{
		{"json", schema.NewJSONDecoder().Contextual(), full, sparse},
		{avroConfluentTopic, confluent, fullAvro, sparseAvro},
		{avroSchemaTopic, fixed, fullAvro[5:], sparseAvro[5:]},
	}
	for _, f := range formats {
		t.Run(f.topic, func(t *testing.T) {
			ref, err := processor.New(f.dec, []processor.Destination{shop()})
			if err != nil {
				t.Fatal(err)
			}
			want := processStale(t, ref, f.sparse)
			if want.JSON == nil || bytes.Contains(want.JSON, []byte(`"em"`)) {
				t.Fatalf("sparse reference outcome: %s %v", want.JSON, want.Rejection)
			}

			spy := &reuseSpy{dec: f.dec, seen: map[*schema.Event]bool{}}
			p, err := processor.New(spy, []processor.Destination{shop()})
			if err != nil {
				t.Fatal(err)
			}
			for range 20 {
				if o := processStale(t, p, f.full); o.JSON == nil {
					t.Fatalf("full record: %v", o.Rejection)
				}
				got := processStale(t, p, f.sparse)
				if !bytes.Equal(got.JSON, want.JSON) || got.EventID != want.EventID || got.MatchKeys != want.MatchKeys {
					t.Fatalf("sparse record after a full one:\n got %s\nwant %s", got.JSON, want.JSON)
				}
			}
			if spy.reused == 0 {
				t.Fatal("the pipeline never reused its event: the test proves nothing")
			}
		})
	}
}

func processStale(t *testing.T, p *processor.Pipeline, value []byte) processor.Outcome {
	t.Helper()
	outs, err := p.Process(context.Background(), processor.Record{Value: value, Timestamp: now}, now, nil)
	if err != nil || len(outs) != 1 {
		t.Fatalf("Process: %v, %d outcomes", err, len(outs))
	}
	return outs[0]
}
