package processor_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/schema"
	"github.com/capi-connector/capi-connector/schema/registrytest"
)

// The same event in JSON and in Avro must give byte-identical server events: decoding is the only stage that
// knows the input format. These tests run one pipeline whose topics use the three input formats and compare
// against the JSON golden files.

const (
	avroConfluentTopic = "events-avro-confluent"
	avroSchemaTopic    = "events-avro-schema"
)

// avroGoldenPipeline decodes JSON by default, Confluent-framed Avro (schema from a registry over HTTP) on
// avroConfluentTopic and plain Avro with the event schema on avroSchemaTopic. It returns the registry id of the
// event schema.
func avroGoldenPipeline(t *testing.T) (*processor.Pipeline, int) {
	t.Helper()
	p := newPipeline(t)
	confluent, fixed, id := avroDecoders(t)
	p.SetTopicDecoder(avroConfluentTopic, confluent)
	p.SetTopicDecoder(avroSchemaTopic, fixed)
	return p, id
}

// avroDecoders returns the avro-confluent decoder over a test registry holding the event schema (under
// avroConfluentTopic), the avro-schema decoder of the embedded event schema, and the schema's registry id.
func avroDecoders(t *testing.T) (confluent, fixed processor.Decoder, id int) {
	t.Helper()
	reg := registrytest.New(t)
	id = reg.Register(avroConfluentTopic+"-value", schema.EventAvroSchema())
	c, err := schema.NewAvroConfluent(schema.RegistryConfig{URL: reg.URL(), Timeout: 5 * time.Second}, schema.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := schema.NewAvroFixed("", schema.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return c, f, id
}

func processOne(t *testing.T, p *processor.Pipeline, topic string, value []byte) processor.Outcome {
	t.Helper()
	outs, err := p.Process(context.Background(), processor.Record{Topic: topic, Value: value, Timestamp: now}, now, nil)
	if err != nil {
		t.Fatalf("%s: %v", topic, err)
	}
	if len(outs) != 1 {
		t.Fatalf("%s: %d outcomes, want 1", topic, len(outs))
	}
	return outs[0]
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

// purchaseAvroRecord is testdata/golden/purchase.json as an Avro producer writes it, by hand (not derived from the
// JSON decoder's output), so the proof does not rest on the helper that converts between the two. It carries the
// same integrations.facebook.event_id: without one, the event_id is a hash of the record bytes, which differ.
func purchaseAvroRecord() map[string]any {
	rec := func(name string, m map[string]any) map[string]any {
		return map[string]any{"com.commandersact." + name: m}
	}
	return map[string]any{
		"event_name":         "purchase",
		"id":                 "ORD-2026-0042",
		"value":              189.8,
		"currency":           "EUR",
		"consent_categories": []string{"1", "2"},
		"user": rec("User", map[string]any{
			"id": "CUST-981", "email": " Jean.Dupont@Example.FR ", "phone": "06 12 34 56 78", "firstname": "Jean",
			"lastname": "Dupont", "gender": "male", "birthdate": "1984-03-09", "city": "Saint-Étienne", "state": "",
			"zipcode": "42000", "country": "France",
		}),
		"items": []any{
			map[string]any{
				"product":  rec("Product", map[string]any{"id": "SKU-1001", "name": "Trail running shoes", "price": 129.9, "currency": "EUR", "category_1": "shoes"}),
				"quantity": int64(1),
			},
			map[string]any{
				"product":  rec("Product", map[string]any{"id": "SKU-2002", "name": "Merino socks", "price": 29.95, "category_1": "socks"}),
				"quantity": int64(2),
			},
		},
		"context": rec("Context", map[string]any{
			"event_timestamp": int64(1795960800000),
			"page": rec("Page", map[string]any{
				"url": "https://shop.example.com/checkout/confirmation?fbclid=IwAR0abc", "referrer": "https://shop.example.com/cart",
			}),
			"device": rec("Device", map[string]any{
				"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
				"cookie": "_fbp=fb.1.1795950000000.1098115397; lang=fr",
			}),
		}),
		"integrations": rec("Integrations", map[string]any{"facebook": rec("Facebook", map[string]any{"event_id": "evt-purchase-42"})}),
		// Keys outside the model travel in extra, as the JSON decoder keeps them.
		"extra": map[string]any{"map": map[string]any{"payment_method": "card"}},
	}
}

// TestAvroGoldenPurchase: purchase.json in JSON, in the Confluent wire format and as plain Avro yields exactly
// purchase.golden.
func TestAvroGoldenPurchase(t *testing.T) {
	p, id := avroGoldenPipeline(t)
	want := readGolden(t, "purchase.golden")
	confluent, err := schema.EncodeAvroConfluent(id, "", purchaseAvroRecord())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := schema.EncodeAvro("", purchaseAvroRecord())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		topic string
		value []byte
	}{
		{"events", readGolden(t, "purchase.json")},
		{avroConfluentTopic, confluent},
		{avroSchemaTopic, plain},
	} {
		t.Run(tc.topic, func(t *testing.T) {
			o := processOne(t, p, tc.topic, tc.value)
			if o.Rejection != nil {
				t.Fatalf("rejected: %+v", o.Rejection)
			}
			if !bytes.Equal(o.JSON, want) {
				t.Fatalf("payload differs from purchase.golden:\n got %s\nwant %s", o.JSON, want)
			}
			if o.EventID != "evt-purchase-42" {
				t.Fatalf("event_id %q", o.EventID)
			}
		})
	}
}

// TestAvroGoldenAllFiles: every golden event, re-encoded as Avro, gives the JSON outcome — the golden payload for
// delivered events, the same rejection (reason, stage, detail) for the others.
func TestAvroGoldenAllFiles(t *testing.T) {
	p, id := avroGoldenPipeline(t)
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "invalid.json" {
			continue // not JSON, so there is no event to encode as Avro (the Avro counterpart is TestAvroMalformed)
		}
		t.Run(name, func(t *testing.T) {
			js := readGolden(t, name)
			var ev schema.Event
			if err := schema.NewJSONDecoder().Decode(js, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Integrations.Facebook.EventID == "" && ev.EventID == "" && ev.Context.EventID == "" {
				t.Fatalf("%s has no explicit event id: its fallback id hashes the record bytes and would differ", name)
			}
			confluent, err := schema.EncodeAvroConfluent(id, "", schema.EventToAvro(&ev))
			if err != nil {
				t.Fatal(err)
			}
			want := processOne(t, p, "events", js)
			if want.Rejection == nil {
				golden := readGolden(t, strings.TrimSuffix(name, ".json")+".golden")
				if !bytes.Equal(want.JSON, golden) {
					t.Fatalf("the JSON pipeline no longer matches %s (run TestGoldenPayloads)", name)
				}
			}
			for topic, value := range map[string][]byte{avroConfluentTopic: confluent, avroSchemaTopic: confluent[5:]} {
				got := processOne(t, p, topic, value)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s outcome differs from JSON\n got %+v (%s)\nwant %+v (%s)", topic, got, got.JSON, want, want.JSON)
				}
			}
		})
	}
}

// TestAvroMalformed: what cannot be decoded as Avro is a schema_error at the decode stage, for every destination;
// bytes that are not Confluent-framed at all (no registry change can ever make them decodable) are invalid_payload.
func TestAvroMalformed(t *testing.T) {
	p, id := avroGoldenPipeline(t)
	good, err := schema.EncodeAvroConfluent(id, "", purchaseAvroRecord())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, topic string
		value       []byte
		want        reject.Reason
	}{
		{"truncated", avroConfluentTopic, good[:len(good)/2], reject.SchemaError},
		{"unknown schema id", avroConfluentTopic, append([]byte{0, 0, 0, 0x7f, 0x7f}, good[5:]...), reject.SchemaError},
		{"JSON on an Avro topic", avroConfluentTopic, readGolden(t, "purchase.json"), reject.InvalidPayload},
		{"shorter than the Confluent header", avroConfluentTopic, good[:3], reject.InvalidPayload},
		{"framed record on a plain Avro topic", avroSchemaTopic, append([]byte{0, 0, 0, 0, 0, 0x80}, good[5:]...), reject.SchemaError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := processOne(t, p, tc.topic, tc.value)
			if o.Rejection == nil || o.Rejection.Reason != tc.want || o.Rejection.Stage != reject.StageDecode {
				t.Fatalf("outcome %+v, want a %s rejection at decode", o.Rejection, tc.want)
			}
		})
	}
}
