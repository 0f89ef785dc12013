package schema

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The same logical event as JSON and as Avro must decode to the same Event: the pipeline after decoding is one.

// purchaseAvro is testdata/purchase.json written by an Avro producer, by hand (not through EventToAvro), so the
// comparison does not depend on the helper under test.
func purchaseAvro() map[string]any {
	rec := func(name string, m map[string]any) map[string]any {
		return map[string]any{"com.commandersact." + name: m}
	}
	return map[string]any{
		"event_name":         "purchase",
		"id":                 "ORD-123",
		"value":              129.9,
		"currency":           "EUR",
		"consent_categories": []string{"1", "3"},
		"user": rec("User", map[string]any{
			"id": "C42", "email": "John.Smith@Example.com", "phone": "06 12 34 56 78", "firstname": "John",
			"lastname": "Smith", "city": "Paris", "zipcode": "75001", "country": "FR",
		}),
		"items": []any{
			map[string]any{"product": rec("Product", map[string]any{"id": "SKU-1", "name": "Shoes", "price": 99.9, "category_1": "shoes"}), "quantity": int64(1)},
			map[string]any{"product": rec("Product", map[string]any{"id": "SKU-2", "name": "Socks", "price": 15.0}), "quantity": int64(2)},
		},
		"context": rec("Context", map[string]any{
			"event_timestamp": int64(1732890000000),
			"page":            rec("Page", map[string]any{"url": "https://shop.example.com/confirm?fbclid=IwAR2x", "referrer": "https://shop.example.com/cart"}),
			"device": rec("Device", map[string]any{
				"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
				"cookie": "_fbp=fb.1.1732880000000.1098115397; _fbc=fb.1.1732880000000.IwAR2x",
			}),
		}),
		"integrations": rec("Integrations", map[string]any{"facebook": rec("Facebook", map[string]any{"event_id": "evt-7f3a9c"})}),
	}
}

func TestAvroJSONEquivalencePurchase(t *testing.T) {
	js, err := os.ReadFile("testdata/purchase.json")
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON Event
	if err := NewJSONDecoder().Decode(js, &fromJSON); err != nil {
		t.Fatalf("JSON decode: %v", err)
	}

	reg := newRegistry(t)
	reg.Add(5, EventAvroSchema())
	confluent := mustAvroConfluent(t, registryConfig(reg))
	fixed := mustAvroFixed(t, "", Limits{})
	record := mustEncodeConfluent(t, 5, "", purchaseAvro())

	var viaRegistry, viaFixed Event
	if err := confluent.Decode(context.Background(), record, &viaRegistry); err != nil {
		t.Fatalf("avro-confluent decode: %v", err)
	}
	if err := fixed.Decode(context.Background(), record[5:], &viaFixed); err != nil {
		t.Fatalf("avro-schema decode: %v", err)
	}
	if !reflect.DeepEqual(viaRegistry, fromJSON) {
		t.Errorf("avro-confluent and json differ\navro: %+v\njson: %+v", viaRegistry, fromJSON)
	}
	if !reflect.DeepEqual(viaFixed, fromJSON) {
		t.Errorf("avro-schema and json differ\navro: %+v\njson: %+v", viaFixed, fromJSON)
	}
}

// TestAvroJSONEquivalenceRoundTrip: a JSON event re-encoded as Avro with EventToAvro decodes to the JSON decoder's
// Event, up to the documented differences (RawFields sorted by key, numbers in canonical text).
func TestAvroJSONEquivalenceRoundTrip(t *testing.T) {
	docs := map[string]string{
		"legacy fields": `{"event_name":"add_to_cart","amount":"19.90","browser":{"ip":"198.51.100.1","user_agent":"UA"},
			"context":{"device":{"user_agent":"UA2"}}}`,
		"overrides and extras": `{"event_name":"lead","zz_custom":{"a":[1,2]},"store":7,
			"integrations":{"facebook":{"event_name":"Lead","opt_out":false,"data_processing_options":[],
			"user_data":{"ph":"33612345678","em":null},"custom_data":{"value":12.50,"contents":[{"id":"a","quantity":1}],"vip":true}}},
			"user":{"email_sha256":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f","consent_categories":[]}}`,
		"app event": `{"event_name":"purchase","type":"app","integrations":{"facebook":{"app_data":{"extinfo":["a2","com.example.app","1.0"],"application_tracking_enabled":true,"advertiser_tracking_enabled":1,"campaign_ids":"x"}}}}`,
		"numeric ids": `{"consent_categories":[1,3],"items":[{"product":{"id":123,"price":"5"},"quantity":2}],
			"context":{"event_timestamp":1732890000000,"event_id":"c-1"}}`,
	}
	d := mustAvroFixed(t, "", Limits{})
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			fromJSON, fromAvro := jsonThroughAvro(t, d, doc)
			want := canonicalRawFields(t, fromJSON)
			if !reflect.DeepEqual(fromAvro, want) {
				t.Fatalf("avro and json differ\navro: %+v\njson: %+v", fromAvro, want)
			}
		})
	}
}

// jsonThroughAvro decodes the JSON document doc, re-encodes the Event as Avro with EventToAvro and decodes that
// with d: the same event from both input formats.
func jsonThroughAvro(t *testing.T, d *AvroDecoder, doc string) (fromJSON, fromAvro Event) {
	t.Helper()
	if err := NewJSONDecoder().Decode([]byte(doc), &fromJSON); err != nil {
		t.Fatalf("JSON decode: %v", err)
	}
	b, err := EncodeAvro("", EventToAvro(&fromJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(context.Background(), b, &fromAvro); err != nil {
		t.Fatal(err)
	}
	return fromJSON, fromAvro
}

// canonicalRawFields applies the Avro side's documented normalization to a JSON-decoded Event: RawFields sorted by
// key, scalar numbers in shortest round-trip text, nested values compacted.
func canonicalRawFields(t *testing.T, ev Event) Event {
	t.Helper()
	norm := func(fs []RawField) []RawField {
		if fs == nil {
			return nil
		}
		out := make([]RawField, len(fs))
		for i, f := range fs {
			var v any
			if err := json.Unmarshal(f.Value, &v); err != nil {
				t.Fatalf("RawField %q is not JSON: %v", f.Key, err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = RawField{Key: f.Key, Value: b}
		}
		slices.SortFunc(out, func(a, b RawField) int { return strings.Compare(a.Key, b.Key) })
		return out
	}
	ev.Extra = norm(ev.Extra)
	ev.Integrations.Facebook.UserData = norm(ev.Integrations.Facebook.UserData)
	ev.Integrations.Facebook.CustomData = norm(ev.Integrations.Facebook.CustomData)
	if ev.Integrations.Facebook.AppData != nil {
		var members map[string]any
		if err := json.Unmarshal(ev.Integrations.Facebook.AppData, &members); err != nil {
			t.Fatalf("app_data is not a JSON object: %v", err)
		}
		b, err := json.Marshal(members) // sorted keys, canonical numbers
		if err != nil {
			t.Fatal(err)
		}
		ev.Integrations.Facebook.AppData = b
	}
	return ev
}

// TestAvroJSONEquivalenceStringBytes: a string value becomes the same raw JSON bytes whether the event came as JSON
// or as Avro, including the characters encoding/json would escape for HTML (<, >, &, U+2028, U+2029) and the
// control characters with short and long escapes: the payload sent to Facebook does not depend on the input format.
func TestAvroJSONEquivalenceStringBytes(t *testing.T) {
	values := []string{
		`"<b>Tom & Jerry</b>"`, `"line\u2028sep\u2029para"`, `"bell\b feed\f tab\t nl\n"`, `"quote \" slash \\ solidus \/"`,
		`"\u003cescaped\u003e \u0026 plain"`, `"é ü 中文 😀"`, `"ctl \u0001 \u001f"`,
	}
	d := mustAvroFixed(t, "", Limits{})
	for _, v := range values {
		t.Run(v, func(t *testing.T) {
			doc := `{"event_name":"lead","zz_note":` + v + `,"integrations":{"facebook":{"custom_data":{"note":` + v + `}}}}`
			fromJSON, fromAvro := jsonThroughAvro(t, d, doc)
			for _, pair := range [][2][]RawField{
				{fromJSON.Extra, fromAvro.Extra},
				{fromJSON.Integrations.Facebook.CustomData, fromAvro.Integrations.Facebook.CustomData},
			} {
				if len(pair[0]) != 1 || len(pair[1]) != 1 {
					t.Fatalf("want one field each, JSON %v, Avro %v", pair[0], pair[1])
				}
				if j, a := string(pair[0][0].Value), string(pair[1][0].Value); j != a {
					t.Errorf("raw value differs: JSON %s, Avro %s", j, a)
				}
			}
		})
	}
}

// TestAvroInvalidUTF8Key: Avro does not check that a map key is UTF-8; a key of app_data (written into one JSON
// object) keeps encoding/json's form, each invalid byte as U+FFFD, so the object stays valid JSON.
func TestAvroInvalidUTF8Key(t *testing.T) {
	appData := map[string]any{"map": map[string]any{"k\xff<": "v<"}}
	fb := map[string]any{"com.commandersact.Facebook": map[string]any{"app_data": appData}}
	ev := map[string]any{"event_name": "lead", "integrations": map[string]any{"com.commandersact.Integrations": map[string]any{"facebook": fb}}}
	b, err := EncodeAvro("", ev)
	if err != nil {
		t.Fatal(err)
	}
	var got Event
	if err := mustAvroFixed(t, "", Limits{}).Decode(context.Background(), b, &got); err != nil {
		t.Fatal(err)
	}
	if want := `{"k\ufffd\u003c":"v<"}`; string(got.Integrations.Facebook.AppData) != want {
		t.Fatalf("app_data %s, want %s", got.Integrations.Facebook.AppData, want)
	}
}
