package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/processor/benchmark"
)

// TestBenchSmoke runs every part of `bench --json` at the hidden tiny size, in process (a test binary cannot be
// re-executed as the CLI), and checks the report: every key of issue 7 is a number, and every end-to-end and
// backlog record is accounted for (delivered + dead-lettered = produced, the simulator and the DLQ topic agree).
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Kafka cluster and the simulator for a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := runCommand(ctx, "bench", []string{"--tiny", "--in-process", "--json"}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, stdout.String())
	}
	for _, k := range benchmark.Keys {
		v, ok := got[k].(float64)
		if !ok {
			t.Errorf("key %q missing or not a number: %v", k, got[k])
			continue
		}
		if v <= 0 {
			t.Errorf("%s = %v, want > 0", k, v)
		}
	}
	small := benchmark.Tiny()
	if got["e2e_accounted_for"] != true || got["backlog_accounted_for"] != true {
		t.Errorf("records unaccounted for: e2e %v, backlog %v", got["e2e_accounted_for"], got["backlog_accounted_for"])
	}
	if d, r := got["e2e_delivered"].(float64), got["e2e_dead_lettered"].(float64); int(d+r) != small.Events || d == 0 || r == 0 {
		t.Errorf("e2e delivered %v + dead-lettered %v, want %d with some of each", d, r, small.Events)
	}
	if n := got["backlog_events"].(float64); int(n) != small.BacklogEvents {
		t.Errorf("backlog_events = %v, want %d", n, small.BacklogEvents)
	}
}

func TestBenchUsage(t *testing.T) {
	if code, _, errOut := runMain(t, "bench", "--parts", "nope", "--in-process", "--tiny"); code != exitUsage {
		t.Fatalf("unknown part: exit %d, want %d (%s)", code, exitUsage, errOut)
	}
}
