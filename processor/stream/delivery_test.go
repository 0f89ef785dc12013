package stream

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/capi"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/health"
)

// Unit tests of the per-destination queue (destination): the batcher that fills batches from the input channel and
// hands them to the senders (order, linger, max events, max bytes, close), and deliver, which turns one Graph
// answer into acknowledgments and dead letters (bisection hand-off, misconfiguration, a revoke mid-batch).

// newQueue is a destination with its batcher running and no sender: the test takes batches with next.
func newQueue(t *testing.T, o BatchOptions) *destination {
	t.Helper()
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	d := &destination{name: "shop", opts: o, log: zerolog.Nop(), stats: newStats(), now: time.Now}
	d.cond = sync.NewCond(&d.mu)
	d.in = make(chan item, 4096)
	d.wg.Add(1)
	go d.batch()
	t.Cleanup(func() {
		select {
		case <-d.in:
		default:
		}
		defer func() { _ = recover() }() // already stopped by the test
		d.stop()
	})
	return d
}

// testItem is an event of size bytes (its JSON) named by id.
func testItem(id string, size int) item {
	json := []byte(`{"event_id":"` + id + `"` + strings.Repeat(" ", max(size-len(id)-15, 0)) + `}`)
	return item{Item: capi.Item{JSON: json, EventID: id}}
}

func ids(b []item) []string {
	out := make([]string, len(b))
	for i, it := range b {
		out[i] = it.EventID
	}
	return out
}

// nextWithin returns the next batch, failing the test when none comes within d.
func nextWithin(t *testing.T, q *destination, d time.Duration) []item {
	t.Helper()
	c := make(chan []item, 1)
	go func() { c <- q.next() }()
	select {
	case b := <-c:
		return b
	case <-time.After(d):
		t.Fatalf("no batch within %s", d)
		return nil
	}
}

func TestBatchOptionsValidate(t *testing.T) {
	t.Parallel()
	ok := BatchOptions{MaxEvents: 1000, MaxBytes: 4_000_000, Linger: 0, MaxInFlight: 1}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
	for _, bad := range []BatchOptions{
		{MaxEvents: 0, MaxBytes: 1, MaxInFlight: 1},
		{MaxEvents: capi.MaxBatch + 1, MaxBytes: 1, MaxInFlight: 1},
		{MaxEvents: 1, MaxBytes: 0, MaxInFlight: 1},
		{MaxEvents: 1, MaxBytes: 1, Linger: -time.Millisecond, MaxInFlight: 1},
		{MaxEvents: 1, MaxBytes: 1, MaxInFlight: 0},
	} {
		if err := bad.validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// Full batches leave at once, in input order, each of MaxEvents; the partial tail waits for its linger (here an
// hour) and is handed out when the input closes; then next reports the end.
func TestQueueOrderAndMaxEvents(t *testing.T) {
	t.Parallel()
	q := newQueue(t, BatchOptions{MaxEvents: 10, MaxBytes: 1 << 20, Linger: time.Hour, MaxInFlight: 1})
	var want []string
	for i := range 25 {
		id := fmt.Sprintf("e%02d", i)
		want = append(want, id)
		q.in <- testItem(id, 50)
	}
	var got []string
	for range 2 {
		b := nextWithin(t, q, 5*time.Second)
		if len(b) != 10 {
			t.Fatalf("full batch of %d events, want 10", len(b))
		}
		got = append(got, ids(b)...)
	}
	q.stop()
	tail := nextWithin(t, q, 5*time.Second)
	if len(tail) != 5 {
		t.Fatalf("tail of %d events, want 5", len(tail))
	}
	got = append(got, ids(tail)...)
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if b := nextWithin(t, q, 5*time.Second); b != nil {
		t.Fatalf("after close: %v, want nil", ids(b))
	}
}

// A partial batch is handed out once its linger elapsed, not before; with linger 0 at once. (With linger 0 a batch
// holds whatever had arrived, so the events may come in more than one batch, in order.)
func TestQueueLinger(t *testing.T) {
	t.Parallel()
	for _, linger := range []time.Duration{0, 150 * time.Millisecond} {
		t.Run(linger.String(), func(t *testing.T) {
			t.Parallel()
			q := newQueue(t, BatchOptions{MaxEvents: 100, MaxBytes: 1 << 20, Linger: linger, MaxInFlight: 1})
			start := time.Now()
			for i := range 3 {
				q.in <- testItem(fmt.Sprint(i), 50)
			}
			b := nextWithin(t, q, 10*time.Second)
			if waited := time.Since(start); waited < linger {
				t.Fatalf("partial batch handed out after %s, before its linger %s", waited, linger)
			}
			got := ids(b)
			for len(got) < 3 {
				got = append(got, ids(nextWithin(t, q, 10*time.Second))...)
			}
			if !slices.Equal(got, []string{"0", "1", "2"}) {
				t.Fatalf("events %v, want [0 1 2]", got)
			}
		})
	}
}

// A batch is sealed before the event that would take its body past MaxBytes (each event costs its JSON plus a
// separator); an event larger than MaxBytes on its own still travels, alone.
func TestQueueMaxBytes(t *testing.T) {
	t.Parallel()
	q := newQueue(t, BatchOptions{MaxEvents: 100, MaxBytes: 350, Linger: time.Hour, MaxInFlight: 1})
	for i := range 7 {
		q.in <- testItem(fmt.Sprint(i), 100) // 101 bytes each: three fit in 350
	}
	q.in <- testItem("big", 1000)
	q.in <- testItem("after", 100)
	q.stop()
	var sizes [][]string
	for b := nextWithin(t, q, 5*time.Second); b != nil; b = nextWithin(t, q, 5*time.Second) {
		sizes = append(sizes, ids(b))
	}
	want := [][]string{{"0", "1", "2"}, {"3", "4", "5"}, {"6"}, {"big"}, {"after"}}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Fatalf("batches %v, want %v", sizes, want)
	}
}

// deliverEnv is one destination wired to the Graph API simulator and to a DLQ topic on kfake, with the records
// of one partition in flight.
type deliverEnv struct {
	d    *destination
	sim  *capitest.Server
	part *partition
	cl   *kgo.Client
}

const testDLQ = "events.dlq"

func newDeliverEnv(t *testing.T, faults capitest.Faults) *deliverEnv {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, testDLQ))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	sim, srv := capitest.NewTestServer(t, capitest.Config{AccessTokens: map[string]string{"1234567890123": "token"}, Faults: faults})
	client, err := capi.New(capi.Destination{Name: "shop", PixelID: "1234567890123", AccessToken: "token", BaseURL: srv.URL, APIVersion: "v24.0"},
		capi.Options{RequestTimeout: 5 * time.Second, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
			ThrottleBackoff: time.Millisecond, Breaker: capi.BreakerSettings{ConsecutiveFailures: 100, OpenTimeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &dlqWriter{topic: testDLQ, log: zerolog.Nop(), logs: newLogLimiter(time.Minute), ctx: ctx, backoff: 10 * time.Millisecond,
		stallAfter: time.Minute, health: health.New(), onError: func() {}, onRef: func() {}, topicCheck: make(chan struct{}, 1),
		newClient: func(int32) (*kgo.Client, error) { return cl, nil }, cl: cl}
	d := &destination{name: "shop", client: client, opts: BatchOptions{MaxEvents: 1000, MaxBytes: 4_000_000, MaxInFlight: 1},
		dlq: w, log: zerolog.Nop(), stats: newStats(), now: time.Now, misconfiguredRetry: time.Hour,
		onMisconfigured: func(string, bool, string) {}}
	return &deliverEnv{d: d, sim: sim, part: newPartition("events", 0, newInflight()), cl: cl}
}

// batch registers n records at offsets 0..n-1 (one outcome each) and returns their items, event ids ev-<offset>.
func (e *deliverEnv) batch(n int) []item {
	now := time.Now().Unix()
	b := make([]item, n)
	for i := range b {
		id := fmt.Sprintf("ev-%d", i)
		json := fmt.Appendf(nil, `{"event_name":"Purchase","event_time":%d,"event_id":%q,"action_source":"website","event_source_url":"https://shop.example.com/",`+
			`"user_data":{"em":["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],`+
			`"client_ip_address":"203.0.113.7","client_user_agent":"Mozilla/5.0"},"custom_data":{"value":12.5,"currency":"EUR"}}`, now, id)
		b[i] = item{Item: capi.Item{JSON: json, EventID: id, EventTime: now, ActionSource: "website"},
			rec: &kgo.Record{Topic: "events", Offset: int64(i), Value: []byte(id)}, entry: e.part.add(int64(i), 0, 1)}
	}
	return b
}

// dlqValues reads the DLQ topic: the source values of the dead-lettered records.
func (e *deliverEnv) dlqValues(t *testing.T, want int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.cl.OptValue(kgo.SeedBrokers).([]string)...), kgo.ConsumeTopics(testDLQ),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []string
	for len(out) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			reason, _ := dlq.Header(r.Headers, dlq.HeaderReason)
			out = append(out, string(r.Value)+":"+reason)
		})
	}
	slices.Sort(out)
	return out
}

// waitMark waits until the partition's watermark reaches want.
func (e *deliverEnv) waitMark(t *testing.T, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if off, _ := e.part.advance(); off == want || e.part.mark == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("watermark %d, want %d", e.part.mark, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Facebook rejects the whole batch for one bad event; the client bisects; deliver acknowledges the delivered
// events and hands the rejected ones to the DLQ, whose acknowledgment completes them: the watermark reaches the
// end only once both are durable, and nothing is delivered twice.
func TestDeliverBisectionHandOff(t *testing.T) {
	t.Parallel()
	e := newDeliverEnv(t, capitest.Faults{PoisonedEventIDs: []string{"ev-3", "ev-11"}})
	b := e.batch(16)
	e.d.deliver(context.Background(), b)
	e.waitMark(t, 16)
	got := e.sim.EventIDs()
	if len(got) != 14 || got["ev-3"] != 0 || got["ev-11"] != 0 {
		t.Fatalf("simulator accepted %v, want the 14 good events", got)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if dl := e.dlqValues(t, 2); !slices.Equal(dl, []string{"ev-11:facebook_rejected", "ev-3:facebook_rejected"}) {
		t.Fatalf("DLQ %v, want ev-3 and ev-11 as facebook_rejected", dl)
	}
	if n := e.d.stats.Delivered()["shop"]; n != 14 {
		t.Errorf("delivered counter %d, want 14", n)
	}
}

// A misconfigured destination (expired token) acknowledges nothing and dead-letters nothing: the records stay
// uncommitted until the configuration is fixed.
func TestDeliverMisconfiguredAcknowledgesNothing(t *testing.T) {
	t.Parallel()
	e := newDeliverEnv(t, capitest.Faults{TokenExpired: true})
	var reported []bool
	e.d.onMisconfigured = func(_ string, bad bool, _ string) { reported = append(reported, bad) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.d.deliver(ctx, e.batch(5)); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for !e.d.misconfigured.Load() {
		if time.Now().After(deadline) {
			t.Fatal("destination never reported misconfigured")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if off, _ := e.part.advance(); off != -1 || e.part.outstanding() != 5 {
		t.Fatalf("watermark %d with %d outstanding, want nothing done", off, e.part.outstanding())
	}
	if !slices.Equal(reported, []bool{true}) {
		t.Fatalf("onMisconfigured calls %v, want [true]", reported)
	}
	if n := len(e.sim.EventIDs()); n != 0 {
		t.Fatalf("simulator accepted %d events with an expired token", n)
	}
}

// A partition revoked while its batch is in flight: the acknowledgments that arrive afterwards change nothing,
// so the next owner's start is not moved by this member.
func TestDeliverAfterRevokeMovesNothing(t *testing.T) {
	t.Parallel()
	e := newDeliverEnv(t, capitest.Faults{Latency: 100 * time.Millisecond})
	b := e.batch(10)
	done := make(chan struct{})
	go func() { e.d.deliver(context.Background(), b); close(done) }()
	time.Sleep(20 * time.Millisecond) // the request is in flight
	e.part.close()
	<-done
	if n := len(e.sim.EventIDs()); n != 10 {
		t.Fatalf("simulator accepted %d events, want 10 (delivery itself is not cancelled)", n)
	}
	if off, _ := e.part.advance(); off != -1 {
		t.Fatalf("a revoked partition advanced to %d", off)
	}
	if n := e.part.inflight.count(); n != 0 {
		t.Fatalf("in-flight count %d after revoke, want 0 (the revoke released them)", n)
	}
}
