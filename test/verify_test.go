package e2e

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// The delivery contract every end-to-end test checks: each produced event delivered or dead-lettered with the
// reason its kind calls for, never both, never neither; DLQ records carrying the source bytes and the diagnostic
// headers; no commit past an event that was neither.

// expectedReason is the DLQ reason each sample kind must end with ("" = delivered).
var expectedReason = map[sample.Kind]string{
	sample.Deliverable:   "",
	sample.NoConsent:     "no_consent",
	sample.Anonymous:     "insufficient_user_data",
	sample.PurchaseNoPII: "missing_pii_for_purchase",
	sample.TooOld:        "event_too_old",
	sample.Poisoned:      "facebook_rejected",
	sample.InvalidJSON:   "invalid_payload",
}

// outcome is where one event ended.
type outcome struct {
	delivered int      // times the simulator accepted its event_id
	dlq       []string // reasons of its DLQ records
}

// verify checks the delivery contract for every produced event: delivered (accepted at least once; exactly once
// when exactlyOnce) or dead-lettered once with the expected reason, never both, never neither; DLQ records carry
// the source bytes and the diagnostic headers.
func (e *env) verify(p produced, exactlyOnce bool) map[string]outcome {
	e.t.Helper()
	ids := e.sim.EventIDs()
	byValue := map[string][]*kgo.Record{}
	for _, r := range e.dlqRecords() {
		byValue[string(r.Value)] = append(byValue[string(r.Value)], r)
	}
	res := map[string]outcome{}
	for _, ev := range p.events {
		want := expectedReason[ev.Kind]
		o := outcome{delivered: ids[ev.EventID]}
		for _, r := range byValue[string(ev.Value)] {
			reason, _ := dlq.Header(r.Headers, dlq.HeaderReason)
			o.dlq = append(o.dlq, reason)
			checkDLQHeaders(e.t, r, e.topic, p, ev)
		}
		res[ev.EventID] = o
		label := ev.EventID
		if label == "" {
			label = "invalid JSON record"
		}
		switch {
		case want == "" && o.delivered == 0:
			e.t.Errorf("%s (%s) lost: not delivered, DLQ %v", label, ev.Kind, o.dlq)
		case want == "" && exactlyOnce && o.delivered != 1:
			e.t.Errorf("%s delivered %d times in a clean run", label, o.delivered)
		case want == "" && len(o.dlq) > 0:
			e.t.Errorf("%s delivered and dead-lettered %v", label, o.dlq)
		case want != "" && o.delivered > 0:
			e.t.Errorf("%s (%s) delivered, want DLQ %s", label, ev.Kind, want)
		case want != "" && (len(o.dlq) == 0 || o.dlq[0] != want):
			e.t.Errorf("%s (%s): DLQ reasons %v, want %s", label, ev.Kind, o.dlq, want)
		case want != "" && exactlyOnce && len(o.dlq) != 1:
			e.t.Errorf("%s dead-lettered %d times in a clean run", label, len(o.dlq))
		}
	}
	return res
}

func checkDLQHeaders(t testing.TB, r *kgo.Record, topic string, p produced, ev sample.Event) {
	t.Helper()
	for _, h := range []string{dlq.HeaderReason, dlq.HeaderStage, dlq.HeaderError, dlq.HeaderDestination,
		dlq.HeaderSourceTopic, dlq.HeaderSourcePartition, dlq.HeaderSourceOffset, dlq.HeaderFailedAt, dlq.HeaderReplayCount} {
		if _, ok := dlq.Header(r.Headers, h); !ok {
			t.Errorf("DLQ record for %s lacks header %s", ev.EventID, h)
		}
	}
	if v, _ := dlq.Header(r.Headers, dlq.HeaderSourceTopic); v != topic {
		t.Errorf("capi-source-topic = %q, want %q", v, topic)
	}
	if at, _ := dlq.Header(r.Headers, dlq.HeaderFailedAt); at != "" {
		if _, err := time.Parse(time.RFC3339, at); err != nil {
			t.Errorf("capi-failed-at %q is not RFC 3339", at)
		}
	}
	if w, ok := p.where[ev.EventID]; ok {
		part, _ := dlq.Header(r.Headers, dlq.HeaderSourcePartition)
		off, _ := dlq.Header(r.Headers, dlq.HeaderSourceOffset)
		if part != strconv.Itoa(int(w.Partition)) || off != strconv.FormatInt(w.Offset, 10) {
			t.Errorf("DLQ source position %s/%s, want %d/%d", part, off, w.Partition, w.Offset)
		}
	}
	if string(r.Key) != string(ev.Key) {
		t.Errorf("DLQ key %q, want the source key %q", r.Key, ev.Key)
	}
}

// watermarkGuard asserts, on every observation, that no committed offset passes an event that was neither
// delivered nor dead-lettered, and that commits never go backwards.
type watermarkGuard struct {
	t    testing.TB
	e    *env
	p    produced
	mu   sync.Mutex
	last map[int32]int64
	// deliverable by partition/offset
	byPos map[int32]map[int64]string
}

func newWatermarkGuard(e *env, p produced) *watermarkGuard {
	g := &watermarkGuard{t: e.t, e: e, p: p, last: map[int32]int64{}, byPos: map[int32]map[int64]string{}}
	for _, ev := range p.events {
		if ev.Kind != sample.Deliverable {
			continue
		}
		w := p.where[ev.EventID]
		if g.byPos[w.Partition] == nil {
			g.byPos[w.Partition] = map[int64]string{}
		}
		g.byPos[w.Partition][w.Offset] = ev.EventID
	}
	return g
}

func (g *watermarkGuard) check(committed map[int32]int64) {
	g.t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := g.e.sim.EventIDs()
	for part, off := range committed {
		if off < g.last[part] {
			g.t.Errorf("partition %d: commit went backwards %d → %d", part, g.last[part], off)
		}
		g.last[part] = off
		for pos, id := range g.byPos[part] {
			if pos < off && ids[id] == 0 {
				g.t.Errorf("partition %d committed at %d past undelivered event %s at offset %d", part, off, id, pos)
			}
		}
	}
}
