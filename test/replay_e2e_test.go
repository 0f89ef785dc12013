package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// Proof 8 (docs/dlq.md): a DLQ with mixed reasons; once the simulator stops rejecting, replaying
// facebook_rejected brings those events to it exactly once (by event_id) through the whole pipeline, and leaves
// the others in the DLQ untouched. Rerunning the replay resumes (nothing left); replaying the same range again
// under another group re-sends the same event_ids only (what Facebook deduplicates). Replayed no_consent events
// are checked for consent again and dead-lettered again, with their replay count.
func TestReplayAfterSimulatorFixed(t *testing.T) {
	e := newEnv(t, 2)
	events := mix(400, 37, 53, 0)
	var poisoned []string
	kinds := map[string]sample.Kind{}
	for _, ev := range events {
		kinds[ev.EventID] = ev.Kind
		if ev.Kind == sample.Poisoned {
			poisoned = append(poisoned, ev.EventID)
		}
	}
	if err := e.sim.SetFaults(capitest.Faults{PoisonedEventIDs: poisoned}); err != nil {
		t.Fatal(err)
	}
	p := e.produce(events, -1)
	run := e.start(e.config())
	e.waitCommitted(p.end, 60*time.Second, nil)
	if err := run.Stop(t); err != nil {
		t.Fatal(err)
	}
	e.verify(p, true)
	if len(poisoned) == 0 {
		t.Fatal("the generator made no poisoned event")
	}
	dlqBefore := len(e.dlqRecords())
	reasons := map[string]int{}
	for _, r := range e.dlqRecords() {
		reason, _ := dlq.Header(r.Headers, dlq.HeaderReason)
		reasons[reason]++
	}
	if reasons["facebook_rejected"] != len(poisoned) || reasons["no_consent"] == 0 || len(reasons) < 3 {
		t.Fatalf("DLQ reasons %v: want %d facebook_rejected among several reasons", reasons, len(poisoned))
	}

	// The simulator is fixed; the operator replays what Facebook rejected.
	if err := e.sim.SetFaults(capitest.Faults{}); err != nil {
		t.Fatal(err)
	}
	// The selection the replay command's flags make (--reason, --group); the connection, the DLQ topic and the
	// default target come from the configuration, through service.Replay, as for the command.
	opts := dlq.Options{Group: e.group + "-replay", Filter: dlq.Filter{Reasons: []reject.Reason{reject.FacebookRejected}}}
	s := e.replay(opts)
	if s.Replayed != int64(len(poisoned)) || s.ReplayedTo[e.topic] != int64(len(poisoned)) || s.Scanned != int64(dlqBefore) {
		t.Fatalf("replay summary %+v, want %d replayed to %s of %d scanned", s, len(poisoned), e.topic, dlqBefore)
	}
	run = e.start(e.config())
	e.waitCommitted(e.endOffsets(e.topic), 60*time.Second, nil)
	if err := run.Stop(t); err != nil {
		t.Fatal(err)
	}
	ids := e.sim.EventIDs()
	for id, kind := range kinds {
		want := 0
		if kind == sample.Deliverable || kind == sample.Poisoned {
			want = 1
		}
		if ids[id] != want {
			t.Errorf("%s (%s) accepted %d times, want %d", id, kind, ids[id], want)
		}
	}
	if n := len(e.dlqRecords()); n != dlqBefore {
		t.Errorf("DLQ holds %d records after the replay, want the %d from before (nothing failed again)", n, dlqBefore)
	}

	// Rerunning the same replay resumes from its checkpoint: nothing left to do.
	if again := e.replay(opts); again.Scanned != 0 || again.Replayed != 0 {
		t.Errorf("rerun scanned %d, replayed %d, want nothing", again.Scanned, again.Replayed)
	}

	// Replaying the same range under another group re-sends the same event_ids only.
	other := opts
	other.Group = e.group + "-replay-2"
	if s := e.replay(other); s.Replayed != int64(len(poisoned)) {
		t.Fatalf("second replay replayed %d", s.Replayed)
	}
	// Consent is evaluated again: replayed no_consent events are dead-lettered again, with their replay count.
	nc := opts
	nc.Group, nc.Filter = e.group+"-replay-nc", dlq.Filter{Reasons: []reject.Reason{reject.NoConsent}}
	ncs := e.replay(nc)
	run = e.start(e.config())
	e.waitCommitted(e.endOffsets(e.topic), 60*time.Second, nil)
	if err := run.Stop(t); err != nil {
		t.Fatal(err)
	}
	ids = e.sim.EventIDs()
	for _, id := range poisoned {
		if ids[id] != 2 {
			t.Errorf("twice-replayed %s accepted %d times, want 2 (same event_id: Facebook deduplicates)", id, ids[id])
		}
	}
	if want := count(kinds, sample.Deliverable, sample.Poisoned); len(ids) != want {
		t.Errorf("simulator knows %d event_ids, want only the %d deliverable and poisoned ones", len(ids), want)
	}
	var again int64
	for _, r := range e.dlqRecords() {
		reason, _ := dlq.Header(r.Headers, dlq.HeaderReason)
		if reason == "no_consent" && dlq.ReplayCount(r.Headers) == 1 {
			again++
		}
	}
	if again != ncs.Replayed || again == 0 {
		t.Errorf("%d no_consent records dead-lettered again with replay count 1, want %d", again, ncs.Replayed)
	}
}

// count counts events whose kind is one of ks.
func count(kinds map[string]sample.Kind, ks ...sample.Kind) int {
	n := 0
	for _, k := range kinds {
		if slices.Contains(ks, k) {
			n++
		}
	}
	return n
}

func (e *env) replay(o dlq.Options) dlq.Summary {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := service.Replay(ctx, e.config(), o, true, &out, io.Discard); err != nil {
		e.t.Fatalf("replay: %v\n%s", err, out.String())
	}
	var s dlq.Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		e.t.Fatalf("replay summary %q: %v", out.String(), err)
	}
	return s
}
