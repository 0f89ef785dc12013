package processor_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/capi-connector/capi-connector/processor"
)

// TestRecycledJSONBuffers checks the ownership of recycled outcome memory: a recycled buffer is zeroed at once
// (no personal data left in the pool, a stray reader sees invalid JSON), and outcomes encoded into recycled memory
// are exactly what a fresh pipeline produces, whichever larger or smaller event used the memory before.
func TestRecycledJSONBuffers(t *testing.T) {
	ctx := context.Background()
	var inputs [][]byte
	for _, f := range []string{"purchase.json", "offline_purchase.json", "custom_event.json", "prehashed.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "golden", f))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, bytes.TrimSpace(b))
	}
	want := make([][]byte, len(inputs))
	for i, in := range inputs {
		outs, err := newPipeline(t).Process(ctx, processor.Record{Value: in, Timestamp: now}, now, nil)
		if err != nil || outs[0].JSON == nil {
			t.Fatalf("%d: %v %v", i, err, outs[0].Rejection)
		}
		want[i] = outs[0].JSON
	}
	p := newPipeline(t)
	reused := false
	var prev []byte
	for round := range 50 {
		i := (round * 7) % len(inputs) // sizes go up and down
		outs, err := p.Process(ctx, processor.Record{Value: inputs[i], Timestamp: now}, now, nil)
		if err != nil || outs[0].Buffer == nil {
			t.Fatalf("round %d: %v, buffer %v", round, err, outs[0].Buffer)
		}
		got := outs[0].JSON
		if !bytes.Equal(got, want[i]) {
			t.Fatalf("round %d: recycled memory gave\n%s\nwant\n%s", round, got, want[i])
		}
		if prev != nil && &got[0] == &prev[0] {
			reused = true
		}
		p.Recycle(outs[0].Buffer)
		if bytes.ContainsFunc(got[:cap(got)], func(r rune) bool { return r != 0 }) {
			t.Fatalf("round %d: recycled memory not zeroed: %q", round, got)
		}
		prev = got
	}
	if !reused {
		t.Error("no outcome reused recycled memory: the test proves nothing")
	}
}
