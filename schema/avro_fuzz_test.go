package schema

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
)

// FuzzAvroDecode feeds arbitrary bytes to fixed-schema decoders (the event schema, and a wide producer schema whose
// unknown nested and recursive values exercise skipping and raw JSON conversion): they must never panic (not even one recovered
// internally), must fail only with ErrSchema, and must stay within a memory bound set by the limits and the input
// size, whatever lengths and counts the bytes declare.
func FuzzAvroDecode(f *testing.F) {
	full, err := EncodeAvro("", EventToAvro(fullAvroEvent()))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add(full[:len(full)/3])
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add(binary.AppendVarint([]byte{2}, 1<<40))                        // huge string length
	f.Add(binary.AppendVarint(append(make([]byte, 13), 2), 1<<40))      // huge items count
	f.Add(binary.AppendVarint(append(make([]byte, 13), 2), -(1 << 40))) // negative block count
	f.Add(binary.AppendVarint(append(make([]byte, 21), 2), 1<<40))      // huge extra map count

	wideSchema := string(readAvroTestdata(f, "event_wide.avsc"))
	wide, err := EncodeAvro(wideSchema, wideSample())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(wide)
	f.Add(wide[:len(wide)/2])

	lim := Limits{MaxByteSliceSize: 4 << 10, MaxSliceAllocSize: 64}
	decoders := []*AvroDecoder{mustAvroFixed(f, "", lim), mustAvroFixed(f, wideSchema, lim)}

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range decoders {
			fuzzOne(t, d, lim, data)
		}
	})
}

func fuzzOne(t *testing.T, d *AvroDecoder, lim Limits, data []byte) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var ev Event
	err := d.Decode(context.Background(), data, &ev)
	runtime.ReadMemStats(&after)

	if errors.Is(err, errAvroPanic) {
		t.Fatalf("decoder panicked: %v", err)
	}
	if err != nil && !errors.Is(err, ErrSchema) {
		t.Fatalf("err = %v, want ErrSchema", err)
	}
	// Generous bound: a few values at the byte limit, one array at the element limit, and per-input-byte
	// overhead (every decoded element consumes at least one input byte or counts toward the element limit).
	bound := uint64(8*lim.MaxByteSliceSize + lim.MaxSliceAllocSize*4096 + 512*len(data) + 256<<10)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > bound {
		t.Fatalf("allocated %d bytes for a %d-byte input (bound %d)", alloc, len(data), bound)
	}
}
