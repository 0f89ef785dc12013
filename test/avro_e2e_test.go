package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/schema"
	"github.com/capi-connector/capi-connector/schema/registrytest"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// The Avro suite: the same delivery contract as the JSON suite, for records in the Confluent wire format whose
// writer schemas come from a schema registry over HTTP (registrytest), on a topic configured avro-confluent while
// the pipeline's default format stays JSON.

const (
	avroRegistryUser = "connector"
	avroRegistryPass = "registry-password"
)

// newAvroRegistry starts a registry requiring basic auth.
func newAvroRegistry(t testing.TB) *registrytest.Server {
	t.Helper()
	return registrytest.New(t, registrytest.WithBasicAuth(avroRegistryUser, avroRegistryPass))
}

// withAvroTopic decodes e.topic as avro-confluent through reg (as `kafka.input_formats: {topic: avro-confluent}`
// wires it), leaving JSON the default for every other topic.
func withAvroTopic(t testing.TB, topic string, reg *registrytest.Server) tweak {
	t.Helper()
	return func(c *config.Config) {
		c.Kafka.InputFormats = map[string]string{topic: config.FormatAvroConfluent}
		c.Kafka.SchemaRegistry.URL = reg.URL()
		c.Kafka.SchemaRegistry.Username = avroRegistryUser
		c.Kafka.SchemaRegistry.Password = avroRegistryPass
	}
}

// toAvro re-encodes JSON sample events as Confluent-framed Avro written with writer schema id (text writerSchema,
// "" for the event schema), keeping key, kind and event_id. The event_id is explicit in every sample, so the
// Avro event is the same event for Facebook's deduplication.
func toAvro(t testing.TB, events []sample.Event, id int, writerSchema string, extra map[string]any) []sample.Event {
	t.Helper()
	dec := schema.NewJSONDecoder()
	out := make([]sample.Event, 0, len(events))
	for _, ev := range events {
		if ev.Kind == sample.InvalidJSON {
			t.Fatal("an invalid JSON sample has no Avro form")
		}
		var typed schema.Event
		if err := dec.Decode(ev.Value, &typed); err != nil {
			t.Fatalf("sample %s: %v", ev.EventID, err)
		}
		rec := schema.EventToAvro(&typed)
		for k, v := range extra {
			rec[k] = v
		}
		b, err := schema.EncodeAvroConfluent(id, writerSchema, rec)
		if err != nil {
			t.Fatalf("sample %s: %v", ev.EventID, err)
		}
		ev.Value = b
		out = append(out, ev)
	}
	return out
}

// evolvedEventSchema is the event schema as a producer's next version writes it: one more optional field, which
// the connector's reader model does not know and skips.
func evolvedEventSchema(t testing.TB) string {
	t.Helper()
	return eventSchemaVariant(t, func(root map[string]any) { root["fields"] = append(root["fields"].([]any), campaignField()) })
}

// campaignField is the optional field the evolved event schemas add.
func campaignField() map[string]any {
	return map[string]any{"name": "campaign", "type": []any{"null", "string"}, "default": nil}
}

// checkSchemaErrors asserts that each of values is in the DLQ exactly once as schema_error from the decode stage
// (invalid_payload for the names in notFramed: bytes that are not Confluent-framed at all), for no destination,
// with the source bytes and position.
func (e *env) checkSchemaErrors(values map[string][]byte, p produced, notFramed ...string) {
	e.t.Helper()
	byValue := map[string][]*kgo.Record{}
	for _, r := range e.dlqRecords() {
		byValue[string(r.Value)] = append(byValue[string(r.Value)], r)
	}
	for name, v := range values {
		recs := byValue[string(v)]
		if len(recs) != 1 {
			e.t.Errorf("%s: %d DLQ records, want 1", name, len(recs))
			continue
		}
		r := recs[0]
		reason := "schema_error"
		if slices.Contains(notFramed, name) {
			reason = "invalid_payload"
		}
		want := map[string]string{dlq.HeaderReason: reason, dlq.HeaderStage: "decode", dlq.HeaderDestination: "",
			dlq.HeaderSourceTopic: e.topic}
		for h, w := range want {
			if got, _ := dlq.Header(r.Headers, h); got != w {
				e.t.Errorf("%s: header %s = %q, want %q", name, h, got, w)
			}
		}
		if msg, _ := dlq.Header(r.Headers, dlq.HeaderError); msg == "" {
			e.t.Errorf("%s: no %s header", name, dlq.HeaderError)
		}
		checkDLQHeaders(e.t, r, e.topic, p, sample.Event{Key: r.Key})
	}
}

// TestAvroEveryEventDeliveredOrDeadLettered is proof 1 for Avro input, next to a JSON topic read by the same
// consumer: every Avro event is delivered exactly once or dead-lettered once with the reason its JSON twin gets;
// a record naming an unknown schema id and a malformed record are dead-lettered as schema_error, JSON on the Avro
// topic as invalid_payload; the JSON topic
// is unaffected; offsets reach the end; the registry is asked once per schema id.
func TestAvroEveryEventDeliveredOrDeadLettered(t *testing.T) {
	e := newEnv(t, 3)
	reg := newAvroRegistry(t)
	id := reg.Register(e.topic+"-value", schema.EventAvroSchema())

	// The JSON topic, read by the same group with the default decoder.
	ej := *e
	ej.topic = e.topic + "-json"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if resp, err := e.adm.CreateTopic(ctx, 2, 1, nil, ej.topic); err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", ej.topic, err, resp.Err)
	}

	events := toAvro(t, mix(900, 301, 199, 0), id, "", nil)
	var poisoned []string
	for _, ev := range events {
		if ev.Kind == sample.Poisoned {
			poisoned = append(poisoned, ev.EventID)
		}
	}
	g := sample.New(4242, time.Now())
	g.InvalidEvery = 150 // one invalid record: all invalid samples have the same bytes
	jsonEvents := make([]sample.Event, 200)
	for i := range jsonEvents {
		jsonEvents[i] = g.Next()
	}
	if err := e.sim.SetFaults(capitest.Faults{PoisonedEventIDs: poisoned}); err != nil {
		t.Fatal(err)
	}

	good := events[0].Value
	bad := map[string][]byte{
		"unknown schema id":      append([]byte{0, 0, 0, 0x7a, 0x69}, good[5:]...),
		"malformed avro":         append(append([]byte{}, good[:5]...), 0x02, 0xfe, 0xff, 0xff, 0xff, 0x0f), // string longer than the record
		"json on the avro topic": only(1, sample.Deliverable)[0].Value,
	}
	var badEvents []sample.Event
	for name, v := range bad {
		badEvents = append(badEvents, sample.Event{Key: []byte("bad-" + name), Value: v})
	}
	// The bad records sit between good ones, so the watermark must pass them for the offsets to reach the end.
	all := append(append(append([]sample.Event{}, events[:450]...), badEvents...), events[450:]...)
	p := e.produce(all, -1)
	pj := ej.produce(jsonEvents, -1)

	run := e.start(e.config(withAvroTopic(t, e.topic, reg), func(c *config.Config) {
		c.Kafka.Topics = []string{e.topic, ej.topic}
	}))
	e.waitCommitted(p.end, 60*time.Second, nil)
	ej.waitCommitted(pj.end, 60*time.Second, nil)
	if err := run.Stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}

	p.events = events // the bad records have no event id: checked below
	e.verify(p, true)
	ej.verify(pj, true)
	e.checkSchemaErrors(bad, p, "json on the avro topic")
	if d := e.sim.Stats().DuplicateEvents; d != 0 {
		t.Errorf("simulator saw %d duplicates in a clean run", d)
	}
	if n := reg.Fetches(id); n != 1 {
		t.Errorf("registry asked %d times for schema %d, want once", n, id)
	}
	if n := reg.AuthFailures(); n != 0 {
		t.Errorf("registry refused %d requests: credentials not sent", n)
	}
}

// TestAvroRegistryDown: records whose schema id is not cached cannot be decoded while the registry is down. They
// wait: nothing is dead-lettered, nothing is delivered, no offset is committed past the first waiting record, the
// decoder keeps asking, and the schema_registry readiness check fails (/readyz 503). When the registry is back, everything completes exactly once. The waiting records use
// a new (evolved) writer schema, so the same run also proves schema evolution through the runtime.
func TestAvroRegistryDown(t *testing.T) {
	e := newEnv(t, 1)
	reg := newAvroRegistry(t)
	v1 := reg.Register(e.topic+"-value", schema.EventAvroSchema())
	evolved := evolvedEventSchema(t)
	v2 := reg.Register(e.topic+"-value", evolved)

	events := only(120, sample.Deliverable)
	first := toAvro(t, events[:60], v1, "", nil)
	second := toAvro(t, events[60:], v2, evolved, map[string]any{"campaign": "spring"})

	run := e.start(e.config(withAvroTopic(t, e.topic, reg)))
	p1 := e.produce(first, 0)
	e.waitCommitted(p1.end, 30*time.Second, nil)

	reg.SetDown(true)
	before := reg.Requests()
	p2 := e.produce(second, 0)
	waiting := p1.end[0] // offset of the first record that needs schema v2
	if w := p2.where[second[0].EventID]; w.Offset != waiting {
		t.Fatalf("first v2 record at offset %d, want %d", w.Offset, waiting)
	}

	// Retries back off 100ms, 200ms, 400ms, 800ms…: by 1.6s the decoder has asked at least 4 times.
	deadline := time.Now().Add(1600 * time.Millisecond)
	for time.Now().Before(deadline) {
		if c := e.committed()[0]; c > waiting {
			t.Fatalf("committed offset %d passed the record at %d waiting for the registry", c, waiting)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := reg.Requests() - before; n < 3 {
		t.Errorf("registry asked %d times while down, want retries (≥ 3)", n)
	}
	if got := len(e.dlqRecords()); got != 0 {
		t.Fatalf("%d records dead-lettered while the registry was down", got)
	}
	ids := e.sim.EventIDs()
	for _, ev := range second {
		if ids[ev.EventID] != 0 {
			t.Fatalf("%s delivered without its schema", ev.EventID)
		}
	}
	if c := e.committed()[0]; c != waiting {
		t.Fatalf("committed %d, want %d (everything before the waiting record)", c, waiting)
	}
	if c, ok := run.Health().Get(health.SchemaRegistry); !ok || c.OK || !strings.Contains(c.Reason, "schema registry unavailable") {
		t.Errorf("readiness check %s = %+v (present %v) while the registry is down, want failing with the reason", health.SchemaRegistry, c, ok)
	}
	if run.Ready() {
		t.Error("/readyz would answer ready while records wait for the registry")
	}

	reg.SetDown(false)
	all := produced{events: append(first, second...), where: p2.where, end: p2.end}
	for id, w := range p1.where {
		all.where[id] = w
	}
	e.waitCommitted(p2.end, 60*time.Second, nil)
	if c, _ := run.Health().Get(health.SchemaRegistry); !c.OK {
		t.Errorf("readiness check %s = %+v after the registry came back, want ok", health.SchemaRegistry, c)
	}
	if err := run.Stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.verify(all, true)
	if got := len(e.dlqRecords()); got != 0 {
		t.Errorf("%d records dead-lettered for a registry outage", got)
	}
	if n := reg.Fetches(v2); n != 1 {
		t.Errorf("schema %d fetched %d times once the registry answered, want 1", v2, n)
	}
}
