package e2e

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// The tests in this file make the failures that used to stall a partition silently (issue 11) happen, and check
// that each one either resolves by itself or is visible on the readiness checks with its reason, with a bounded
// number of log lines — and that nothing is committed past a record that was neither delivered nor dead-lettered.

// logger sends a service's logs (info and above) to buf for assertions.
func logger(buf *servicetest.SyncBuffer) zerolog.Logger {
	return zerolog.New(buf).Level(zerolog.InfoLevel)
}

// fastHealth checks brokers and topics every 200 ms instead of 5 s.
var fastHealth = servicetest.FastTimings(200 * time.Millisecond)

// check returns the state of one readiness check of run.
func check(t testing.TB, run *running, name string) health.Check {
	t.Helper()
	c, ok := run.Health().Get(name)
	if !ok {
		t.Fatalf("no %s check", name)
	}
	return c
}

// createTopic creates topic with the given partitions and configs (nil values are skipped).
func (e *env) createTopic(topic string, partitions int32, configs map[string]*string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := e.adm.CreateTopic(ctx, partitions, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		e.t.Fatalf("create topic %s: %v", topic, err)
	}
}

func (e *env) deleteTopic(topic string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.adm.DeleteTopics(ctx, topic); err != nil {
		e.t.Fatalf("delete topic %s: %v", topic, err)
	}
	if err := eventually(20*time.Second, func() bool {
		d, err := e.adm.ListTopics(ctx, topic)
		return err == nil && d[topic].Err != nil
	}); err != nil {
		e.t.Fatalf("topic %s still listed after its deletion", topic)
	}
	// A fresh admin client: the old one caches the metadata that says the topic is gone.
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(cl.Close)
	e.adm = kadm.NewClient(cl)
}

// A record larger than the DLQ topic accepts (the source topic takes 8 MB records) and not JSON, between 2000 valid
// events: it is dead-lettered as a reference (headers only, value omitted and marked so) and the partition moves on
// to the end. With a DLQ topic that takes 8 MB too, the same record is dead-lettered whole: the DLQ producer is
// sized from the topic's max.message.bytes, not franz-go's ~1 MB default.
func TestOversizedRecordIsDeadLettered(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dlqMax    string // "" leaves the broker default (~1 MB)
		reference bool
	}{
		{"reference when the DLQ topic is smaller", "", true},
		{"whole when the DLQ topic is as large", "9000000", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 1)
			big := "8388608"
			e.deleteTopic(e.topic)
			e.createTopic(e.topic, 1, map[string]*string{"max.message.bytes": &big})
			if tc.dlqMax != "" {
				e.deleteTopic(e.dlqTopic)
				e.createTopic(e.dlqTopic, 1, map[string]*string{"max.message.bytes": &tc.dlqMax})
			}
			valid := only(2000, sample.Deliverable)
			before, after := valid[:1000], valid[1000:]
			oversized := bytes.Repeat([]byte("not json, "), 300_000) // 3 MB
			cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.DefaultProduceTopic(e.topic), kgo.ProducerBatchMaxBytes(8<<20))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var recs []*kgo.Record
			for _, ev := range before {
				recs = append(recs, &kgo.Record{Key: ev.Key, Value: ev.Value})
			}
			bigRec := &kgo.Record{Key: []byte("big-key"), Value: oversized, Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("crm")}}}
			recs = append(recs, bigRec)
			for _, ev := range after {
				recs = append(recs, &kgo.Record{Key: ev.Key, Value: ev.Value})
			}
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			end := map[int32]int64{0: recs[len(recs)-1].Offset + 1}

			run := e.start(e.config())
			e.waitCommitted(end, 60*time.Second, nil)
			if err := run.Stop(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if n := len(e.sim.EventIDs()); n < 2000 {
				t.Fatalf("%d events delivered, want 2000", n)
			}
			dl := e.dlqRecords()
			if len(dl) != 1 {
				t.Fatalf("%d DLQ records, want 1", len(dl))
			}
			r := dl[0]
			h := func(k string) string { v, _ := dlq.Header(r.Headers, k); return v }
			if h(dlq.HeaderReason) != "invalid_payload" || h(dlq.HeaderSourceOffset) != strconv.FormatInt(bigRec.Offset, 10) ||
				h(dlq.HeaderSourceTopic) != e.topic || h(dlq.HeaderSourcePartition) != "0" {
				t.Fatalf("DLQ headers %v", r.Headers)
			}
			refs := run.Stats().DLQReferences.Load()
			if !tc.reference {
				if !bytes.Equal(r.Value, oversized) || dlq.IsReference(r.Headers) || refs != 0 || h("origin") != "crm" {
					t.Fatalf("the record was not dead-lettered whole: %d bytes, reference %v, %d references", len(r.Value), dlq.IsReference(r.Headers), refs)
				}
				return
			}
			if len(r.Value) != 0 || !dlq.IsReference(r.Headers) || refs != 1 {
				t.Fatalf("want a reference record: %d value bytes, headers %v, %d references counted", len(r.Value), r.Headers, refs)
			}
			if size, _ := strconv.Atoi(h(dlq.HeaderSourceSize)); size < len(oversized) {
				t.Fatalf("capi-source-size %q, want at least %d", h(dlq.HeaderSourceSize), len(oversized))
			}
			if !strings.Contains(h(dlq.HeaderError), "value omitted") || string(r.Key) != "big-key" {
				t.Fatalf("capi-error %q key %q", h(dlq.HeaderError), r.Key)
			}
		})
	}
}

// A missing DLQ topic is created (partitions from the source topic) and everything goes through.
func TestMissingDLQTopicIsCreated(t *testing.T) {
	e := newEnv(t, 3)
	e.deleteTopic(e.dlqTopic)
	p := e.produce(mix(600, 0, 0, 599), -1) // one invalid record: verify tells DLQ records apart by their bytes
	run := e.start(e.config(func(c *config.Config) { c.Kafka.DLQCreate = true }))
	e.waitCommitted(p.end, 60*time.Second, nil)
	if err := run.Stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.verify(p, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := e.adm.ListTopics(ctx, e.dlqTopic)
	if err != nil || d[e.dlqTopic].Err != nil {
		t.Fatalf("DLQ topic: %v %v", err, d[e.dlqTopic].Err)
	}
	if n := len(d[e.dlqTopic].Partitions); n != 3 {
		t.Fatalf("created DLQ topic has %d partitions, want the source topic's 3", n)
	}
}

// A missing DLQ topic that may not be created: dlq_writable fails naming the topic and the fix, the records to
// dead-letter are held (nothing committed past them), the log says it a bounded number of times, and creating the
// topic recovers without a restart.
func TestMissingDLQTopicNotCreated(t *testing.T) {
	e := newEnv(t, 1)
	e.deleteTopic(e.dlqTopic)
	events := only(50, sample.Deliverable)
	bad := mix(200, 0, 0, 1)[0] // an invalid record (invalid every 1)
	events = append(append(events, bad), only(50, sample.Deliverable)...)
	p := e.produce(events, 0)
	var logs servicetest.SyncBuffer
	run := e.startLogged(e.config(func(c *config.Config) { c.Kafka.DLQCreate = false }), logger(&logs), fastHealth)
	if err := eventually(20*time.Second, func() bool { return !check(t, run, health.DLQWritable).OK }); err != nil {
		t.Fatalf("dlq_writable still ok with the DLQ topic missing: %+v", check(t, run, health.DLQWritable))
	}
	reason := check(t, run, health.DLQWritable).Reason
	if !strings.Contains(reason, e.dlqTopic) || !strings.Contains(reason, "does not exist") || !strings.Contains(reason, "create") {
		t.Fatalf("reason %q must name the topic and the fix", reason)
	}
	if run.Ready() {
		t.Fatal("ready while the DLQ topic is missing")
	}
	time.Sleep(2 * time.Second)
	if c := e.committed(); c[0] > 50 {
		t.Fatalf("committed %d, past the record waiting for the DLQ at offset 50", c[0])
	}
	if n := strings.Count(logs.String(), `"level":"error"`) + strings.Count(logs.String(), `"level":"warn"`); n > 10 {
		t.Fatalf("%d warning and error lines in 2 s for one held record: the log must say it once per interval\n%s", n, logs.String())
	}
	e.createTopic(e.dlqTopic, 1, nil)
	e.waitCommitted(p.end, 60*time.Second, nil)
	if err := eventually(10*time.Second, run.Ready); err != nil {
		t.Fatalf("not ready after the DLQ topic was created: %+v", run.Health().Status())
	}
	if err := run.Stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := len(e.dlqRecords()); n != 1 {
		t.Fatalf("%d DLQ records, want 1", n)
	}
}

// A missing source topic is never created; source_topics names it.
func TestMissingSourceTopic(t *testing.T) {
	e := newEnv(t, 1)
	missing := e.topic + "-typo"
	run := e.start(e.config(func(c *config.Config) { c.Kafka.Topics = []string{missing} }), fastHealth)
	if err := eventually(20*time.Second, func() bool { return strings.Contains(check(t, run, health.SourceTopics).Reason, missing) }); err != nil {
		t.Fatalf("source_topics: %+v", check(t, run, health.SourceTopics))
	}
	if run.Ready() {
		t.Fatal("ready with a missing source topic")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if d, err := e.adm.ListTopics(ctx, missing); err != nil || d[missing].Err == nil {
		t.Fatalf("the missing source topic was created: %v", err)
	}
}

// The principal may not write the DLQ topic: the idempotent DLQ producer's InitProducerID fails with
// CLUSTER_AUTHORIZATION_FAILED, which franz-go keeps on that client for good. /readyz names the operation and the
// resource, nothing is committed past the held record, and granting WRITE recovers without a restart (a new
// producer client). kfake only: it enforces ACLs in process; the secured real-broker suite covers the same.
func TestDLQNotAuthorizedThenGranted(t *testing.T) {
	if realBroker() {
		t.Skip("kfake ACLs; the secured real-broker suite covers this on Kafka")
	}
	const topic, group = "acl-events", "acl-group"
	e, admin := newACLEnv(t, topic, group,
		acl{kind: "topic", name: topic, ops: []kadm.ACLOperation{kadm.OpRead, kadm.OpDescribe}},
		acl{kind: "group", name: group, ops: []kadm.ACLOperation{kadm.OpRead}},
		acl{kind: "topic", name: topic + ".dlq", ops: []kadm.ACLOperation{kadm.OpDescribe}})

	events := append(append(only(20, sample.Deliverable), mix(200, 0, 0, 1)[0]), only(20, sample.Deliverable)...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for _, ev := range events {
		recs = append(recs, &kgo.Record{Key: ev.Key, Value: ev.Value})
	}
	if err := admin.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	end := map[int32]int64{0: int64(len(recs))}

	var logs servicetest.SyncBuffer
	run := e.startLogged(e.config(aclUser), logger(&logs), fastHealth)
	want := "not authorized to write topic " + e.dlqTopic
	if err := eventually(20*time.Second, func() bool { return strings.Contains(check(t, run, health.DLQWritable).Reason, want) }); err != nil {
		t.Fatalf("dlq_writable: %+v, want %q", check(t, run, health.DLQWritable), want)
	}
	if run.Ready() {
		t.Fatal("ready while the DLQ write is refused")
	}
	time.Sleep(time.Second)
	if c := e.committed(); c[0] > 20 {
		t.Fatalf("committed %d, past the record waiting for the DLQ at offset 20", c[0])
	}
	if n := strings.Count(logs.String(), "dead-letter produce failed"); n > 3 {
		t.Fatalf("%d DLQ failure lines: the log must say it once per interval", n)
	}
	if run.Stats().DLQErrors.Load() == 0 {
		t.Fatal("capi_dlq_produce_errors_total did not count the refusals")
	}

	// Grant WRITE on the DLQ topic.
	b := kadm.NewACLs().Allow("User:capi").AllowHosts().Topics(e.dlqTopic).Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral)
	res, err := e.adm.CreateACLs(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	e.waitCommitted(end, 60*time.Second, nil)
	if err := eventually(10*time.Second, func() bool { return check(t, run, health.DLQWritable).OK }); err != nil {
		t.Fatalf("dlq_writable after the grant: %+v", check(t, run, health.DLQWritable))
	}
	if err := run.Stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), aclAdmin,
		kgo.ConsumeTopics(e.dlqTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	fs := rd.PollFetches(ctx)
	if fs.NumRecords() != 1 {
		t.Fatalf("%d DLQ records after the grant, want 1 (%v)", fs.NumRecords(), fs.Err0())
	}
	if v, _ := dlq.Header(fs.Records()[0].Headers, dlq.HeaderReason); v != "invalid_payload" {
		t.Fatalf("DLQ reason %q", v)
	}
}

// The principal may not read the group: group_joined names the group and the fix instead of "not joined yet".
func TestGroupReadNotAuthorized(t *testing.T) {
	if realBroker() {
		t.Skip("kfake ACLs; the secured real-broker suite covers this on Kafka")
	}
	const topic = "acl-grp-events"
	e, _ := newACLEnv(t, topic, "acl-grp-group",
		acl{kind: "topic", name: topic, ops: []kadm.ACLOperation{kadm.OpRead, kadm.OpDescribe}},
		acl{kind: "topic", name: topic + ".dlq", ops: []kadm.ACLOperation{kadm.OpWrite}})
	run := e.start(e.config(aclUser), fastHealth)
	want := "not authorized to read group " + e.group
	if err := eventually(20*time.Second, func() bool { return strings.Contains(check(t, run, health.GroupJoined).Reason, want) }); err != nil {
		t.Fatalf("group_joined: %+v, want %q", check(t, run, health.GroupJoined), want)
	}
	if run.Ready() {
		t.Fatal("ready without the group")
	}
}
