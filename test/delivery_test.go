package e2e

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
	"github.com/capi-connector/capi-connector/processor/stream"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// Proof 1: every input is either accepted by the simulator (by event_id) or in the DLQ with the right reason;
// committed offsets equal end offsets; the simulator saw no event twice.
func TestEveryEventDeliveredOrDeadLettered(t *testing.T) {
	e := newEnv(t, 4)
	events := mix(3000, 1001, 1499, 2999)
	var poisonedIDs []string
	for _, ev := range events {
		if ev.Kind == sample.Poisoned {
			poisonedIDs = append(poisonedIDs, ev.EventID)
		}
	}
	if err := e.sim.SetFaults(capitest.Faults{PoisonedEventIDs: poisonedIDs}); err != nil {
		t.Fatal(err)
	}
	p := e.produce(events, -1)
	run := e.start(e.config())
	e.waitCommitted(p.end, 60*time.Second, nil)
	if err := run.Stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.verify(p, true)
	if d := e.sim.Stats().DuplicateEvents; d != 0 {
		t.Errorf("simulator saw %d duplicates in a clean run", d)
	}
	var poisoned int
	for _, r := range e.dlqRecords() {
		if reason, _ := dlq.Header(r.Headers, dlq.HeaderReason); reason == "facebook_rejected" {
			poisoned++
			code, _ := dlq.Header(r.Headers, dlq.HeaderFacebookCode)
			sub, _ := dlq.Header(r.Headers, dlq.HeaderFacebookSubcode)
			if code != "100" || sub != strconv.Itoa(capitest.SubcodeInvalidParameter) {
				t.Errorf("facebook_rejected with code %s/%s, want 100/%d", code, sub, capitest.SubcodeInvalidParameter)
			}
		}
	}
	if poisoned != 2 {
		t.Errorf("facebook_rejected records = %d, want 2", poisoned)
	}
}

// Proof 2: while the simulator answers 5xx the breaker opens, fetching pauses, committed offsets never pass
// unacknowledged work; after recovery everything completes and nothing is lost.
func TestBreakerOpensAndRecovers(t *testing.T) {
	e := newEnv(t, 3)
	if err := e.sim.SetFaults(capitest.Faults{ErrorRate: 1, ErrorStatus: 503}); err != nil {
		t.Fatal(err)
	}
	p := e.produce(only(1200, sample.Deliverable), -1)
	var opened atomic.Int32
	run := e.start(e.config(func(c *config.Config) {
		c.Destinations[0].Batch.MaxEvents = 100
		c.Kafka.MaxInFlightRecords = 600
	}))
	guard := newWatermarkGuard(e, p)
	if err := eventually(20*time.Second, func() bool {
		guard.check(e.committed())
		if run.Runner().Paused() {
			opened.Store(1)
		}
		return opened.Load() == 1
	}); err != nil {
		t.Fatal("fetching never paused while Graph answered 503")
	}
	if n := run.Runner().InFlight(); n > 600 {
		t.Errorf("in-flight records %d exceed the cap 600", n)
	}
	if got := len(e.sim.EventIDs()); got != 0 {
		t.Fatalf("simulator accepted %d events while failing", got)
	}
	time.Sleep(500 * time.Millisecond) // several breaker probes fail meanwhile
	guard.check(e.committed())
	if c, _ := run.Health().Get(health.Destination("shop")); c.OK || !strings.Contains(c.Reason, "breaker open") || run.Ready() {
		t.Errorf("destination:shop = %+v while the breaker is open, want not ok with the reason", c)
	}
	if err := e.sim.SetFaults(capitest.Faults{}); err != nil {
		t.Fatal(err)
	}
	e.waitCommitted(p.end, 60*time.Second, guard.check)
	if run.Runner().Paused() {
		t.Error("fetching still paused after recovery")
	}
	if c, _ := run.Health().Get(health.Destination("shop")); !c.OK {
		t.Errorf("destination:shop = %+v after recovery", c)
	}
	if err := run.Stop(t); err != nil {
		t.Fatal(err)
	}
	e.verify(p, false)
	if len(e.dlqRecords()) != 0 {
		t.Error("transient errors sent records to the DLQ")
	}
}

// Proof 3: one poisoned event in a batch of 500 → that one in the DLQ with Facebook's code/subcode, 499 delivered.
func TestPoisonedEventIsolatedByBisection(t *testing.T) {
	e := newEnv(t, 1)
	events := only(500, sample.Deliverable)
	poisoned := events[271].EventID
	if err := e.sim.SetFaults(capitest.Faults{PoisonedEventIDs: []string{poisoned}}); err != nil {
		t.Fatal(err)
	}
	p := e.produce(events, 0)
	run := e.start(e.config(func(c *config.Config) {
		c.Destinations[0].Batch.MaxEvents = 500
		c.Destinations[0].Batch.Linger = 2 * time.Second // the 500 events travel in one batch
	}))
	e.waitCommitted(p.end, 60*time.Second, nil)
	if err := run.Stop(t); err != nil {
		t.Fatal(err)
	}
	ids := e.sim.EventIDs()
	if len(ids) != 499 {
		t.Errorf("delivered %d events, want 499", len(ids))
	}
	if ids[poisoned] != 0 {
		t.Error("the poisoned event was delivered")
	}
	recs := e.dlqRecords()
	if len(recs) != 1 {
		t.Fatalf("DLQ holds %d records, want 1", len(recs))
	}
	r := recs[0]
	if string(r.Value) != string(events[271].Value) {
		t.Error("DLQ value is not the source record's bytes")
	}
	for h, want := range map[string]string{
		dlq.HeaderReason: "facebook_rejected", dlq.HeaderStage: "delivery", dlq.HeaderDestination: "shop",
		dlq.HeaderFacebookCode: "100", dlq.HeaderFacebookSubcode: strconv.Itoa(capitest.SubcodeInvalidParameter),
		dlq.HeaderSourceOffset: "271", dlq.HeaderReplayCount: "0",
	} {
		if got, _ := dlq.Header(r.Headers, h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if st := e.sim.Stats(); st.Requests > 40 {
		t.Errorf("bisection used %d requests for one poisoned event in 500", st.Requests)
	}
}

// Proof 4: token expiry (190) stops delivery, nothing goes to the DLQ, readiness is false; after a restart with a
// good token everything is delivered.
func TestTokenExpiryStopsDestination(t *testing.T) {
	e := newEnv(t, 2)
	if err := e.sim.SetFaults(capitest.Faults{TokenExpired: true}); err != nil {
		t.Fatal(err)
	}
	p := e.produce(only(300, sample.Deliverable), -1)
	run := e.start(e.config())
	if err := eventually(20*time.Second, func() bool { return run.Runner().Paused() && e.sim.Stats().Requests > 0 }); err != nil {
		t.Fatal("fetching did not pause on an expired token")
	}
	if run.Runner().Ready() {
		t.Error("ready while the destination is misconfigured")
	}
	time.Sleep(300 * time.Millisecond)
	if c := e.committed(); len(c) > 0 {
		for part, off := range c {
			if off > 0 {
				t.Errorf("partition %d committed to %d with nothing delivered", part, off)
			}
		}
	}
	stopStart := time.Now()
	err := run.Stop(t)
	var ab *stream.AbandonedError
	if !errors.Is(err, stream.ErrDrainTimeout) || !errors.As(err, &ab) {
		t.Errorf("stop with a misconfigured destination = %v, want ErrDrainTimeout (work abandoned)", err)
	} else if ab.Records <= 0 || ab.Records > 300 {
		// The exit line used to say "0 records abandoned" whatever was left: it counts the fetched, uncommitted ones.
		t.Errorf("%d records abandoned reported, want the fetched and uncommitted ones (1..300)", ab.Records)
	}
	// The drain does not wait for a destination that cannot acknowledge anything (ShutdownTimeout is 10s).
	if d := time.Since(stopStart); d > 5*time.Second {
		t.Errorf("shutdown took %v with a misconfigured destination", d)
	}
	if n := len(e.dlqRecords()); n != 0 {
		t.Fatalf("token expiry sent %d records to the DLQ", n)
	}
	if n := len(e.sim.EventIDs()); n != 0 {
		t.Fatalf("%d events accepted with an expired token", n)
	}
	// The operator fixes the token and restarts.
	if err := e.sim.SetFaults(capitest.Faults{}); err != nil {
		t.Fatal(err)
	}
	run2 := e.start(e.config())
	if err := eventually(20*time.Second, run2.Ready); err != nil {
		t.Error("never ready with a good token")
	}
	e.waitCommitted(p.end, 60*time.Second, nil)
	if err := run2.Stop(t); err != nil {
		t.Fatal(err)
	}
	e.verify(p, true)
}

// Proof 5: a consumer killed mid-flight (no drain, no commit) and restarted loses nothing; duplicates only with
// the same event_id.
func TestKilledConsumerLosesNothing(t *testing.T) {
	e := newEnv(t, 3)
	if err := e.sim.SetFaults(capitest.Faults{Latency: 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	p := e.produce(mix(3000, 0, 0, 0), -1)
	guard := newWatermarkGuard(e, p)
	run := e.start(e.config(func(c *config.Config) { c.Destinations[0].Batch.MaxEvents = 50 }))
	if err := eventually(30*time.Second, func() bool { return len(e.sim.EventIDs()) > 300 }); err != nil {
		t.Fatal("no progress before the kill")
	}
	run.Runner().Abort()
	if err := run.Stop(t); err != stream.ErrAborted {
		t.Fatalf("Run after Abort = %v, want ErrAborted", err)
	}
	guard.check(e.committed())
	before := len(e.sim.EventIDs())
	if before >= 3000 {
		t.Skip("everything was delivered before the kill; nothing to prove")
	}
	run2 := e.start(e.config())
	e.waitCommitted(p.end, 60*time.Second, guard.check)
	if err := run2.Stop(t); err != nil {
		t.Fatal(err)
	}
	e.verify(p, false)
	t.Logf("delivered before kill %d, duplicates after restart %d", before, e.sim.Stats().DuplicateEvents)
}

// Proof 6: a second consumer joins and leaves during the flow: nothing lost, commits never go backwards.
func TestMemberJoinsAndLeaves(t *testing.T) {
	e := newEnv(t, 6)
	// Slow enough (≈500 events/s per member) that the flow is still running when the second member joins.
	if err := e.sim.SetFaults(capitest.Faults{Latency: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	p := e.produce(mix(4000, 0, 0, 0), -1)
	guard := newWatermarkGuard(e, p)
	small := func(c *config.Config) {
		c.Destinations[0].Batch.MaxEvents = 50
		c.Destinations[0].Batch.MaxInFlight = 1
		c.Kafka.MaxInFlightRecords = 400
	}
	a := e.start(e.config(small))
	if err := eventually(30*time.Second, func() bool { guard.check(e.committed()); return len(e.sim.EventIDs()) > 100 }); err != nil {
		t.Fatal("no progress")
	}
	b := e.start(e.config(small))
	if err := eventually(30*time.Second, func() bool { guard.check(e.committed()); return b.Runner().Stats().Consumed.Load() > 100 }); err != nil {
		t.Fatal("second member never consumed")
	}
	if err := b.Stop(t); err != nil {
		t.Fatalf("second member: %v", err)
	}
	e.waitCommitted(p.end, 90*time.Second, guard.check)
	if err := a.Stop(t); err != nil {
		t.Fatal(err)
	}
	e.verify(p, false)
}

// Proof 7: the DLQ produce fails (broker fault on Produce to the DLQ topic) → the source offset is not committed
// until it succeeds.
func TestDLQProduceFailureHoldsOffset(t *testing.T) {
	e := newEnv(t, 1)
	if e.cluster == nil {
		t.Skip("needs kfake fault injection")
	}
	dlqID := e.topicID(e.dlqTopic)
	var failing atomic.Bool
	failing.Store(true)
	var refused atomic.Int32
	e.cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		e.cluster.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		if !failing.Load() || !servicetest.ProducesTo(pr, e.dlqTopic, dlqID) {
			return nil, nil, false
		}
		refused.Add(1)
		// TopicAuthorizationFailed is not retriable by franz-go: our own retry loop runs.
		return servicetest.RefuseProduce(pr, kerr.TopicAuthorizationFailed.Code), nil, true
	})
	all := only(30, sample.Deliverable)
	events := append(append(all[:20:20], only(1, sample.NoConsent)...), all[20:]...)
	p := e.produce(events, 0)
	run := e.start(e.config())
	// Everything deliverable is delivered, but the offset stays at the rejected record (offset 20).
	if err := eventually(30*time.Second, func() bool { return len(e.sim.EventIDs()) == 30 && refused.Load() > 2 }); err != nil {
		t.Fatalf("delivered %d, DLQ produce refused %d times", len(e.sim.EventIDs()), refused.Load())
	}
	time.Sleep(500 * time.Millisecond) // several commit intervals
	if off := e.committed()[0]; off > 20 {
		t.Fatalf("committed %d past the record whose DLQ produce keeps failing (offset 20)", off)
	}
	if c, _ := run.Health().Get(health.DLQWritable); c.OK || !strings.Contains(c.Reason, "not authorized to write topic "+e.dlqTopic) {
		t.Errorf("dlq_writable = %+v while the DLQ refuses writes", c)
	}
	failing.Store(false)
	e.waitCommitted(p.end, 30*time.Second, nil)
	if err := run.Stop(t); err != nil {
		t.Fatal(err)
	}
	e.verify(p, false)
}

var _ = context.Background
