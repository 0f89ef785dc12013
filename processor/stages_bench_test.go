package processor_test

import (
	"bytes"
	"testing"

	"github.com/capi-connector/capi-connector/processor/consent"
	"github.com/capi-connector/capi-connector/processor/eligibility"
	"github.com/capi-connector/capi-connector/processor/fbevent"
	"github.com/capi-connector/capi-connector/processor/mapping"
	"github.com/capi-connector/capi-connector/processor/normalize"
	"github.com/capi-connector/capi-connector/schema"
)

// BenchmarkStages splits BenchmarkTransform into its stages, each on the output of the previous ones for the
// same bench_purchase.json record, so a regression can be pinned to one stage. The sum of the stages is a little
// less than BenchmarkTransform (Pipeline.Process adds the outcome and the pooled scratch handling). Map and
// Normalize are called the way Pipeline.Process calls them, with caller memory for contents and digests, so
// they allocate exactly what they allocate there (nothing).
func BenchmarkStages(b *testing.B) {
	in := bytes.TrimSpace(readTestdata(b, "bench_purchase.json"))
	d := shop()
	dec := schema.NewJSONDecoder()
	norm, err := normalize.New(d.DefaultRegion)
	if err != nil {
		b.Fatal(err)
	}
	var ev schema.Event
	if err := dec.Decode(in, &ev); err != nil {
		b.Fatal(err)
	}
	mapIn := mapping.Input{Raw: in, RecordTime: now}
	var mapped fbevent.Event
	if r := mapping.Map(&ev, mapIn, d.Mapping, &mapped); r != nil {
		b.Fatal(r)
	}
	hashed := mapped
	norm.UserData(&hashed.UserData)

	b.Run("Decode", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		var e schema.Event
		for b.Loop() {
			if err := dec.Decode(in, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Consent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r := consent.Check(d.ConsentCategory, &ev); r != nil {
				b.Fatal(r)
			}
		}
	})
	b.Run("Map", func(b *testing.B) {
		b.ReportAllocs()
		var (
			out      fbevent.Event
			contents [8]fbevent.Content
		)
		in := mapIn
		in.Contents = contents[:]
		for b.Loop() {
			if r := mapping.Map(&ev, in, d.Mapping, &out); r != nil {
				b.Fatal(r)
			}
		}
	})
	b.Run("Normalize", func(b *testing.B) {
		b.ReportAllocs()
		var digests normalize.Digests
		for b.Loop() {
			ud := mapped.UserData
			if dropped := norm.UserDataInto(&ud, &digests); dropped.Any() {
				b.Fatal(string(dropped.AppendJSON(nil)))
			}
		}
	})
	b.Run("Eligibility", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r := eligibility.Check(&hashed, now, d.Rules); r != nil {
				b.Fatal(r)
			}
		}
	})
	b.Run("Validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := fbevent.Validate(&hashed, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf = fbevent.AppendJSON(buf[:0], &hashed)
		}
		b.SetBytes(int64(len(buf)))
	})
}
