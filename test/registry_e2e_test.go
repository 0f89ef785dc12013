package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/schema"
	"github.com/capi-connector/capi-connector/schema/registrytest"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// RegistryEnv is the base URL of a real Confluent-compatible schema registry (e.g. Apicurio's
// http://127.0.0.1:PORT/apis/ccompat/v7 from test/registry/start.sh, which `make test` runs). Unset: the real
// registry suite is skipped; the rest of the Avro suite uses the in-process registrytest server.
const RegistryEnv = "CAPI_TEST_REGISTRY_URL"

const productType = "com.commandersact.Product"

// productNameFirst is a shared Product type as another team registers it on its own subject: the full name and
// the fields of the event schema's inline Product, name and id swapped. A decoder resolving the name through
// another writer schema's definition would deliver every product with its id and name swapped, without an error.
const productNameFirst = `{"type":"record","name":"Product","namespace":"com.commandersact","fields":[
	{"name":"name","type":["null","string"],"default":null},
	{"name":"id","type":["null","string"],"default":null},
	{"name":"price","type":["null","double"],"default":null},
	{"name":"currency","type":["null","string"],"default":null},
	{"name":"category_1","type":["null","string"],"default":null},
	{"name":"category_2","type":["null","string"],"default":null},
	{"name":"category_3","type":["null","string"],"default":null},
	{"name":"category_4","type":["null","string"],"default":null},
	{"name":"category_5","type":["null","string"],"default":null}]}`

// eventSchemaVariant returns the shipped event schema changed by edit (applied to its decoded JSON).
func eventSchemaVariant(t testing.TB, edit func(root map[string]any)) string {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal([]byte(schema.EventAvroSchema()), &root); err != nil {
		t.Fatal(err)
	}
	edit(root)
	b, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// eventWithProductReference is the event schema with its inline Product replaced by the named type, defined by a
// schema reference.
func eventWithProductReference(t testing.TB) string {
	t.Helper()
	s, err := registrytest.ReferenceTo(schema.EventAvroSchema(), "Product", productType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// evolvedEventSchemaV2 is version 2 of a producer's event schema: a field added first, one removed, one moved to
// the end.
func evolvedEventSchemaV2(t testing.TB) string {
	t.Helper()
	return eventSchemaVariant(t, func(root map[string]any) {
		var kept []any
		var moved any
		for _, f := range root["fields"].([]any) {
			switch f.(map[string]any)["name"] {
			case "amount": // removed
			case "currency":
				moved = f
			default:
				kept = append(kept, f)
			}
		}
		root["fields"] = append(append([]any{campaignField()}, kept...), moved)
	})
}

// TestRealRegistryReferencesAndEvolution runs Avro records in the Confluent wire format through the connector,
// their writer schemas registered in a real registry (Apicurio through its Confluent-compatible API) the way a
// producer registers them: the shipped event schema (Product inline, id before name), the same event with Product
// taken from a schema reference whose definition has name before id, and an evolved version 2. They are
// interleaved, so records of each schema follow records of the others. Every event is delivered exactly once or
// dead-lettered with the reason its JSON twin gets; each delivered event carries its own products (ids and names
// never swapped); records the registry cannot resolve (unknown id, a referenced subject deleted since) are
// schema_error naming the id and the missing subject; JSON on the Avro topic is invalid_payload; committed offsets
// reach the end of every partition.
func TestRealRegistryReferencesAndEvolution(t *testing.T) {
	url := os.Getenv(RegistryEnv)
	if url == "" {
		t.Skipf("%s is not set: no real schema registry (make test starts one with test/registry/start.sh)", RegistryEnv)
	}
	e := newEnv(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The producer side: franz-go's registry client against the real registry.
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	register := func(subject, text string, refs ...sr.SchemaReference) (int, error) {
		return cl.RegisterSchema(ctx, subject, sr.Schema{Schema: text, References: refs}, -1, -1)
	}
	mustRegister := func(subject, text string, refs ...sr.SchemaReference) int {
		t.Helper()
		id, err := register(subject, text, refs...)
		if err != nil {
			t.Fatalf("register %s: %v", subject, err)
		}
		return id
	}
	valueSubject := e.topic + "-value"
	productSubject := e.topic + "-" + productType
	withRef := eventWithProductReference(t)
	evolved := evolvedEventSchemaV2(t)
	inlineID := mustRegister(valueSubject, schema.EventAvroSchema())
	mustRegister(productSubject, productNameFirst)
	ref := sr.SchemaReference{Name: productType, Subject: productSubject, Version: 1}
	refID := mustRegister(valueSubject, withRef, ref)
	evolvedID := mustRegister(valueSubject, evolved)
	if got, err := cl.SchemaByID(ctx, refID); err != nil || !slices.Equal(got.References, []sr.SchemaReference{ref}) {
		t.Fatalf("the registry answers schema %d with %+v, %v; want the reference %+v", refID, got.References, err, ref)
	}
	// A reference that stops existing: the referenced subject deleted after the referring schema was registered
	// (registries refuse to register a reference to a subject that does not exist).
	missingSubject := e.topic + "-deleted-product"
	mustRegister(missingSubject, productNameFirst)
	danglingID := mustRegister(e.topic+"-dangling-value", withRef, sr.SchemaReference{Name: productType, Subject: missingSubject, Version: 1})
	for _, how := range []sr.DeleteHow{sr.SoftDelete, sr.HardDelete} {
		if _, err := cl.DeleteSubject(ctx, missingSubject, how); err != nil {
			t.Fatalf("delete subject %s: %v", missingSubject, err)
		}
	}
	t.Logf("schema ids: inline %d, with reference %d, evolved %d, dangling %d", inlineID, refID, evolvedID, danglingID)

	// Records: each sample event encoded with one of the three schemas in turn.
	dec := schema.NewJSONDecoder()
	events := mix(360, 0, 0, 0)
	source := map[string]schema.Event{} // event_id → the event as the producer meant it
	for i := range events {
		var ev schema.Event
		if err := dec.Decode(events[i].Value, &ev); err != nil {
			t.Fatalf("sample %s: %v", events[i].EventID, err)
		}
		source[events[i].EventID] = ev
		rec := schema.EventToAvro(&ev)
		var b []byte
		switch i % 3 {
		case 0:
			b, err = schema.EncodeAvroConfluent(inlineID, "", rec)
		case 1:
			b, err = schema.EncodeAvroConfluent(refID, withRef, rec, productNameFirst)
		case 2:
			rec["campaign"] = "spring"
			b, err = schema.EncodeAvroConfluent(evolvedID, evolved, rec)
		}
		if err != nil {
			t.Fatalf("sample %s: %v", events[i].EventID, err)
		}
		events[i].Value = b
	}
	good := events[1].Value
	bad := map[string][]byte{
		"unknown schema id":      append([]byte{0, 0x7f, 0xff, 0xff, 0x00}, good[5:]...),
		"json on the avro topic": only(1, sample.Deliverable)[0].Value,
		"dangling reference":     append([]byte{0, byte(danglingID >> 24), byte(danglingID >> 16), byte(danglingID >> 8), byte(danglingID)}, good[5:]...),
	}
	var badEvents []sample.Event
	for name, v := range bad {
		badEvents = append(badEvents, sample.Event{Key: []byte("bad-" + name), Value: v})
	}
	all := append(append(append([]sample.Event{}, events[:180]...), badEvents...), events[180:]...)
	p := e.produce(all, -1)

	// The connector side, configured as a user would: the topic decoded as avro-confluent through the registry.
	run := e.start(e.config(func(c *config.Config) {
		c.Kafka.InputFormats = map[string]string{e.topic: config.FormatAvroConfluent}
		c.Kafka.SchemaRegistry.URL = url
	}))
	e.waitCommitted(p.end, 90*time.Second, nil)
	if err := run.Stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}

	p.events = events
	e.verify(p, true)
	e.checkSchemaErrors(bad, p, "json on the avro topic")
	for _, r := range e.dlqRecords() {
		msg, _ := dlq.Header(r.Headers, dlq.HeaderError)
		switch {
		case string(r.Value) == string(bad["unknown schema id"]):
			if !strings.Contains(msg, fmt.Sprintf("schema id %d", 0x7fffff00)) {
				t.Errorf("unknown id: capi-error %q does not name the id", msg)
			}
		case string(r.Value) == string(bad["dangling reference"]):
			// The registry answers either the schema with its reference (then the reference fetch fails) or, as
			// Apicurio does, 404/40402 for the id itself, naming the missing subject.
			if !strings.Contains(msg, fmt.Sprintf("schema id %d", danglingID)) || !strings.Contains(msg, missingSubject) {
				t.Errorf("dangling reference: capi-error %q does not name the id and the missing subject", msg)
			}
		}
	}
	checkDeliveredProducts(t, e, source)
}

// checkDeliveredProducts checks that every event the simulator accepted carries the products of its source event:
// the ids as contents[].id or content_ids, in order, and content_name from the event or its first product.
func checkDeliveredProducts(t *testing.T, e *env, source map[string]schema.Event) {
	t.Helper()
	checked := 0
	for _, got := range e.sim.Events() {
		src, ok := source[got.EventID]
		if !ok || len(src.Items) == 0 {
			continue
		}
		var body struct {
			CustomData struct {
				Contents []struct {
					ID string `json:"id"`
				} `json:"contents"`
				ContentIDs  []string `json:"content_ids"`
				ContentName string   `json:"content_name"`
			} `json:"custom_data"`
		}
		if err := json.Unmarshal(got.Raw, &body); err != nil {
			t.Fatalf("event %s: %v", got.EventID, err)
		}
		var ids, want []string
		for _, c := range body.CustomData.Contents {
			ids = append(ids, c.ID)
		}
		ids = append(ids, body.CustomData.ContentIDs...)
		for _, it := range src.Items {
			want = append(want, it.Product.ID)
		}
		wantName := src.Name
		if wantName == "" {
			wantName = src.Items[0].Product.Name
		}
		if !slices.Equal(ids, want) || body.CustomData.ContentName != wantName {
			t.Errorf("event %s delivered with products %v named %q, want %v named %q", got.EventID, ids,
				body.CustomData.ContentName, want, wantName)
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("checked the products of %d delivered events, expected at least 50", checked)
	}
}
