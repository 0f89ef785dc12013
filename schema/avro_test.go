package schema

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
)

var updateAvroGolden = flag.Bool("update-avro", false, "rewrite testdata/avro golden files")

// fullAvroEvent sets every field of Event, so a decoder that drops or misplaces one fails the comparison.
func fullAvroEvent() *Event {
	return &Event{
		EventName: "purchase", EventID: "root-1", Type: "offline",
		URL: "https://shop.example.com/confirm", Referrer: "https://shop.example.com/cart",
		Value: 129.9, HasValue: true, Currency: "EUR", ID: "ORD-123", SearchTerm: "shoes", Name: "Checkout",
		Category: "footwear", Status: "paid",
		Items: []Item{
			{Product: Product{ID: "SKU-1", Name: "Shoes", Price: 99.9, HasPrice: true, Currency: "EUR",
				Category1: "c1", Category2: "c2", Category3: "c3", Category4: "c4", Category5: "c5"},
				Quantity: 1, HasQuantity: true},
			{Product: Product{ID: "SKU-2"}}, // price and quantity absent: Has* stay false
			{Product: Product{ID: "SKU-3", Price: 0, HasPrice: true}, Quantity: 0, HasQuantity: true},
		},
		ConsentCategories: []string{"1", "3"},
		FBP:               "fb.1.1732880000000.1098115397", FBC: "fb.1.1732880000000.IwAR2x",
		User: User{
			UserFields: UserFields{ID: "C42", Email: "john.smith@example.com", Phone: "+33612345678",
				Firstname: "John", Lastname: "Smith", Gender: "m", Birthdate: "1997-02-16", City: "Paris",
				State: "IDF", Zipcode: "75001", Country: "FR"},
			SHA256: UserFields{ID: "a1", Email: "a2", Phone: "a3", Firstname: "a4", Lastname: "a5", Gender: "a6",
				Birthdate: "a7", City: "a8", State: "a9", Zipcode: "a10", Country: "a11"},
			ConsentCategories: []string{}, // present but empty stays non-nil
		},
		Context: Context{
			EventTimestamp: 1732890000000, HasEventTimestamp: true, EventID: "ctx-1",
			Page:   Page{URL: "https://shop.example.com/p", Referrer: "https://google.com/"},
			Device: Device{IP: "203.0.113.7", UserAgent: "Mozilla/5.0", Cookie: "_fbp=fb.1.2.3; _fbc=fb.1.2.x"},
		},
		Integrations: Integrations{Facebook: Facebook{
			EventName: "Purchase", EventID: "evt-7f3a9c", ActionSource: "website", FBP: "fb.1.9.9", FBC: "fb.1.9.y",
			OptOut: true, HasOptOut: true,
			DataProcessingOptions: []string{"LDU"}, HasDataProcessingOptions: true,
			DataProcessingOptionsCountry: 1, HasDataProcessingOptionsCountry: true,
			DataProcessingOptionsState: 1000, HasDataProcessingOptionsState: true,
			UserData: []RawField{{Key: "em", Value: []byte(`"x@example.com"`)}},
			CustomData: []RawField{
				{Key: "contents", Value: []byte(`[{"id":"SKU-1","quantity":1}]`)},
				{Key: "gift", Value: []byte(`false`)},
				{Key: "margin", Value: []byte(`12.5`)},
				{Key: "none", Value: []byte(`null`)},
				{Key: "points", Value: []byte(`-42`)},
				{Key: "promo", Value: []byte(`"SPRING"`)},
			},
			// Sorted keys, compact, as the Avro map form decodes.
			AppData: []byte(`{"advertiser_tracking_enabled":1,"application_tracking_enabled":false,` +
				`"extinfo":["a2","com.example.app","1.0"],"install_referrer":"utm_source=x"}`),
		}},
		Extra: []RawField{{Key: "store_id", Value: []byte(`7`)}, {Key: "z_note", Value: []byte(`"hi"`)}},
	}
}

func mustAvroFixed(t testing.TB, schemaText string, lim Limits) *AvroDecoder {
	t.Helper()
	d, err := NewAvroFixed(schemaText, lim)
	if err != nil {
		t.Fatalf("NewAvroFixed: %v", err)
	}
	return d
}

func readAvroTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "avro", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAvroFixedFullEvent decodes a golden Avro record carrying every field of the model.
func TestAvroFixedFullEvent(t *testing.T) {
	want := fullAvroEvent()
	golden := filepath.Join("testdata", "avro", "full_event.bin")
	if *updateAvroGolden {
		b, err := EncodeAvro("", EventToAvro(want))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data := readAvroTestdata(t, "full_event.bin")

	var got Event
	if err := mustAvroFixed(t, "", Limits{}).Decode(context.Background(), data, &got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Fatalf("decoded event differs\n got: %+v\nwant: %+v", got, *want)
	}
}

// TestAvroEventRoundTrip: Avro(Event) decodes to the same Event, for events with few fields too (absent stays
// absent, empty lists stay distinct from missing ones).
func TestAvroEventRoundTrip(t *testing.T) {
	t.Parallel()
	d := mustAvroFixed(t, "", Limits{})
	tests := []struct {
		name string
		ev   *Event
	}{
		{"empty", &Event{}},
		{"full", fullAvroEvent()},
		{"zero value present", &Event{EventName: "x", Value: 0, HasValue: true}},
		{"empty consent list", &Event{ConsentCategories: []string{}}},
		{"empty dpo", &Event{Integrations: Integrations{Facebook: Facebook{DataProcessingOptions: []string{}, HasDataProcessingOptions: true}}}},
		{"opt out false", &Event{Integrations: Integrations{Facebook: Facebook{HasOptOut: true}}}},
		{"empty items", &Event{Items: []Item{}}},
		{"device only", &Event{Context: Context{Device: Device{UserAgent: "ua"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeAvro("", EventToAvro(tc.ev))
			if err != nil {
				t.Fatal(err)
			}
			var got Event
			if err := d.Decode(context.Background(), b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&got, tc.ev) {
				t.Fatalf("round trip differs\n got: %+v\nwant: %+v", got, *tc.ev)
			}
		})
	}
}

// TestAvroLegacyFields: amount and browser.* fill Value and Context.Device only when the current fields are absent,
// as in the JSON decoder.
func TestAvroLegacyFields(t *testing.T) {
	t.Parallel()
	d := mustAvroFixed(t, "", Limits{})
	browser := map[string]any{"com.commandersact.Browser": map[string]any{"ip": "198.51.100.1", "user_agent": "OldUA"}}
	tests := []struct {
		name string
		in   map[string]any
		want Event
	}{
		{"amount alone", map[string]any{"amount": 10.5}, Event{Value: 10.5, HasValue: true}},
		{"value wins", map[string]any{"value": 3.0, "amount": 10.5}, Event{Value: 3, HasValue: true}},
		{"browser alone", map[string]any{"browser": browser},
			Event{Context: Context{Device: Device{IP: "198.51.100.1", UserAgent: "OldUA"}}}},
		{"device wins", map[string]any{"browser": browser, "context": map[string]any{"com.commandersact.Context": map[string]any{
			"device": map[string]any{"com.commandersact.Device": map[string]any{"ip": "203.0.113.9"}}}}},
			Event{Context: Context{Device: Device{IP: "203.0.113.9", UserAgent: "OldUA"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeAvro("", tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var got Event
			if err := d.Decode(context.Background(), b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestAvroRawValues pins how Avro values become the raw JSON kept in RawField.
func TestAvroRawValues(t *testing.T) {
	t.Parallel()
	d := mustAvroFixed(t, "", Limits{})
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"string", "a\"b", `"a\"b"`},
		{"unicode string", "Zoë", `"Zoë"`},
		{"long", int64(-12), `-12`},
		{"big long", int64(math.MaxInt64), `9223372036854775807`},
		{"double", 12.5, `12.5`},
		{"integral double", 12.0, `12`},
		{"tiny double", 1e-9, `1e-9`},
		{"huge double", 1e21, `1e+21`},
		{"true", true, `true`},
		{"false", false, `false`},
		{"null", nil, `null`},
		{"raw json", map[string]any{rawJSONName: map[string]any{"json": ` {"a":[1,2]} `}}, `{"a":[1,2]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]any{"extra": map[string]any{"map": map[string]any{"k": tc.in}}}
			b, err := EncodeAvro("", in)
			if err != nil {
				t.Fatal(err)
			}
			var got Event
			if err := d.Decode(context.Background(), b, &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Extra) != 1 || got.Extra[0].Key != "k" || string(got.Extra[0].Value) != tc.want {
				t.Fatalf("Extra = %q, want k=%s", got.Extra, tc.want)
			}
		})
	}
}

// TestAvroRawFieldsSorted: map keys come out sorted whatever the wire order, so the Event is deterministic.
func TestAvroRawFieldsSorted(t *testing.T) {
	t.Parallel()
	d := mustAvroFixed(t, "", Limits{})
	// Hand-built map block with keys in the order c, a, b (hamba would encode a Go map in random order).
	body := append(avroNullFields(t, 21), 2) // the 21 root fields before extra are null; extra: branch 1 (map)
	body = binary.AppendVarint(body, 3)
	for _, k := range []string{"c", "a", "b"} {
		body = binary.AppendVarint(body, int64(len(k)))
		body = append(body, k...)
		body = binary.AppendVarint(body, 2) // union branch long (index 2)
		body = binary.AppendVarint(body, 1)
	}
	body = append(body, 0) // end of map
	var got Event
	if err := d.Decode(context.Background(), body, &got); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range got.Extra {
		keys = append(keys, f.Key)
	}
	if !reflect.DeepEqual(keys, []string{"a", "b", "c"}) {
		t.Fatalf("keys = %v, want sorted", keys)
	}
}

// avroNullFields returns n union-index-0 (null) bytes, the encoding of n absent nullable fields.
func avroNullFields(t testing.TB, n int) []byte {
	t.Helper()
	return make([]byte, n)
}

// TestAvroDecodeErrors: every malformed record is an ErrSchema and leaves the zero Event behind.
func TestAvroDecodeErrors(t *testing.T) {
	t.Parallel()
	lim := Limits{MaxByteSliceSize: 1024, MaxSliceAllocSize: 100}
	d := mustAvroFixed(t, "", lim)
	full, err := EncodeAvro("", EventToAvro(fullAvroEvent()))
	if err != nil {
		t.Fatal(err)
	}
	// event_name present (branch 1) with a declared length.
	strLen := func(n int64) []byte { return binary.AppendVarint([]byte{2}, n) }
	// items (field 14) present with a declared block count.
	items := func(n int64) []byte { return binary.AppendVarint(append(avroNullFields(t, 13), 2), n) }
	withValue := func(f float64) []byte {
		b := append(avroNullFields(t, 5), 2)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	rawJSON := func(s string) []byte {
		b, err := EncodeAvro("", map[string]any{"extra": map[string]any{"map": map[string]any{
			"k": map[string]any{rawJSONName: map[string]any{"json": s}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated full event", full[:len(full)/2]},
		{"truncated by one byte", full[:len(full)-1]},
		{"bad union index", []byte{0x7f}},
		{"negative union index", []byte{0x01}},
		{"huge string length", strLen(1 << 40)},
		{"string above MaxByteSliceSize", strLen(1025)},
		{"negative string length", strLen(-5)},
		{"string longer than record", strLen(100)},
		{"huge array count", items(1 << 40)},
		{"array above MaxSliceAllocSize", items(101)},
		{"min int64 block count", items(math.MinInt64)},
		{"varint overflow", []byte{2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"NaN value", withValue(math.NaN())},
		{"infinite value", withValue(math.Inf(1))},
		{"invalid RawJSON", rawJSON(`{"a":`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := Event{EventName: "stale"}
			err := d.Decode(context.Background(), tc.data, &ev)
			if !errors.Is(err, ErrSchema) {
				t.Fatalf("err = %v, want ErrSchema", err)
			}
			if errors.Is(err, errAvroPanic) {
				t.Errorf("hamba panicked (recovered): %v", err)
			}
			if !reflect.DeepEqual(ev, Event{}) {
				t.Fatalf("event not reset: %+v", ev)
			}
		})
	}
}

// TestAvroHugeLengthNoBigAllocation: a declared length far above the limits fails before allocating it.
func TestAvroHugeLengthNoBigAllocation(t *testing.T) {
	d := mustAvroFixed(t, "", Limits{})
	var ev Event
	_ = d.Decode(context.Background(), []byte{0}, &ev) // warm up hamba's decoder cache
	tests := map[string][]byte{
		"string": binary.AppendVarint([]byte{2}, 1<<40),
		"array":  binary.AppendVarint(append(make([]byte, 13), 2), 1<<40),
		"map":    binary.AppendVarint(append(make([]byte, 21), 2), 1<<40),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := d.Decode(context.Background(), data, &ev)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrSchema) {
				t.Fatalf("err = %v, want ErrSchema", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<10 {
				t.Fatalf("allocated %d bytes for a %d-byte record", alloc, len(data))
			}
		})
	}
}

func TestNewAvroFixedSchemas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		schema  string
		lim     Limits
		wantErr error
	}{
		{"embedded", "", Limits{}, nil},
		{"explicit event schema", EventAvroSchema(), Limits{}, nil},
		{"older writer", string(readAvroTestdata(t, "event_v1.avsc")), Limits{}, nil},
		{"newer writer", string(readAvroTestdata(t, "event_v2.avsc")), Limits{}, nil},
		{"incompatible writer", string(readAvroTestdata(t, "event_incompatible.avsc")), Limits{}, ErrSchema},
		{"not a schema", `{"type":"recrod"}`, Limits{}, ErrSchema},
		{"not json", `hello`, Limits{}, ErrSchema},
		{"negative limit", "", Limits{MaxByteSliceSize: -1}, errAnyNonNil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewAvroFixed(tc.schema, tc.lim)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr == errAnyNonNil && err == nil:
				t.Fatal("want an error")
			case tc.wantErr != nil && tc.wantErr != errAnyNonNil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

var errAnyNonNil = errors.New("any error")

// TestAvroSchemaEvolution: records written with an older (missing fields, narrower types) or newer (unknown fields,
// also nested) schema decode into the event schema.
func TestAvroSchemaEvolution(t *testing.T) {
	t.Parallel()
	for _, tc := range avroEvolutionCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			d := mustAvroFixed(t, tc.schema, Limits{})
			var got Event
			if err := d.Decode(context.Background(), tc.data, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

type avroEvolutionCase struct {
	name   string
	schema string
	data   []byte // plain Avro binary under schema
	want   Event
}

func avroEvolutionCases(t testing.TB) []avroEvolutionCase {
	t.Helper()
	v1 := string(readAvroTestdata(t, "event_v1.avsc"))
	v2 := string(readAvroTestdata(t, "event_v2.avsc"))
	enc := func(schema string, v map[string]any) []byte {
		b, err := EncodeAvro(schema, v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return []avroEvolutionCase{
		{
			name:   "v1 older writer",
			schema: v1,
			data: enc(v1, map[string]any{
				"event_name": "purchase",
				"value":      float32(12.5),
				"items": []any{map[string]any{
					"product":  map[string]any{"com.commandersact.Product": map[string]any{"id": "SKU-1", "price": float32(3.25)}},
					"quantity": int32(2),
				}},
				"user":    map[string]any{"com.commandersact.User": map[string]any{"email": "a@example.com"}},
				"context": map[string]any{"com.commandersact.Context": map[string]any{"event_timestamp": int64(1732890000000)}},
			}),
			want: Event{
				EventName: "purchase", Value: 12.5, HasValue: true,
				Items:   []Item{{Product: Product{ID: "SKU-1", Price: 3.25, HasPrice: true}, Quantity: 2, HasQuantity: true}},
				User:    User{UserFields: UserFields{Email: "a@example.com"}},
				Context: Context{EventTimestamp: 1732890000000, HasEventTimestamp: true},
			},
		},
		{
			name:   "v2 newer writer",
			schema: v2,
			data: enc(v2, map[string]any{
				"event_name":   "purchase",
				"loyalty_tier": "gold",
				"status":       "paid",
				"items": []any{map[string]any{
					"gift_wrap": true,
					"product":   map[string]any{"com.commandersact.Product": map[string]any{"id": "SKU-9", "price": 7.5}},
					"quantity":  int64(1),
				}},
				"user":  map[string]any{"com.commandersact.User": map[string]any{"nickname": "jj", "email": "b@example.com"}},
				"value": 7.5,
			}),
			want: Event{
				EventName: "purchase", Status: "paid", Value: 7.5, HasValue: true,
				Items: []Item{{Product: Product{ID: "SKU-9", Price: 7.5, HasPrice: true}, Quantity: 1, HasQuantity: true}},
				User:  User{UserFields: UserFields{Email: "b@example.com"}},
			},
		},
	}
}

func TestAvroDecodeConcurrent(t *testing.T) {
	t.Parallel()
	d := mustAvroFixed(t, "", Limits{})
	data := readAvroTestdata(t, "full_event.bin")
	want := fullAvroEvent()
	done := make(chan error, 8)
	for range 8 {
		go func() {
			for range 50 {
				var ev Event
				if err := d.Decode(context.Background(), data, &ev); err != nil {
					done <- err
					return
				}
				if !reflect.DeepEqual(&ev, want) {
					done <- errors.New("concurrent decode differs")
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkAvroDecode(b *testing.B) {
	d := mustAvroFixed(b, "", Limits{})
	data := readAvroTestdata(b, "full_event.bin")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var ev Event
	for b.Loop() {
		if err := d.Decode(context.Background(), data, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAvroEveryTruncationFails: no prefix of a valid record decodes. (hamba's avro.Unmarshal reports io.EOF as
// success: with it, 214 of the 793 prefixes of full_event.bin decoded into partial events.)
func TestAvroEveryTruncationFails(t *testing.T) {
	t.Parallel()
	d := mustAvroFixed(t, "", Limits{})
	data := readAvroTestdata(t, "full_event.bin")
	for i := range len(data) {
		var ev Event
		if err := d.Decode(context.Background(), data[:i], &ev); !errors.Is(err, ErrSchema) {
			t.Fatalf("prefix of %d/%d bytes: err = %v, want ErrSchema", i, len(data), err)
		}
	}
}

// TestAvroWriterShapes: a producer schema shaped nothing like commandersact_event.avsc (non-nullable fields,
// enums, bytes, numbers where the model has text, int/float promotion, unions in another order, unknown nested
// and recursive values) decodes by field name.
func TestAvroWriterShapes(t *testing.T) {
	t.Parallel()
	wide := string(readAvroTestdata(t, "event_wide.avsc"))
	d := mustAvroFixed(t, wide, Limits{})
	data, err := EncodeAvro(wide, wideSample())
	if err != nil {
		t.Fatal(err)
	}
	var got Event
	if err := d.Decode(context.Background(), data, &got); err != nil {
		t.Fatal(err)
	}
	want := Event{
		EventName: "purchase", ID: "123456789012", Value: 42, HasValue: true, Currency: "EUR",
		ConsentCategories: []string{"1", "3"},
		Items:             []Item{{Product: Product{ID: "77", Price: 9.5, HasPrice: true}, Quantity: 3, HasQuantity: true}},
		User:              User{UserFields: UserFields{Email: "a@example.com"}},
		Integrations: Integrations{Facebook: Facebook{HasOptOut: true, CustomData: []RawField{
			{Key: "contents", Value: []byte(`[{"id":"SKU-1","quantity":2}]`)},
			{Key: "none", Value: []byte(`null`)},
			{Key: "raw", Value: []byte(`{"k":[true]}`)},
			{Key: "score", Value: []byte(`0.5`)},
		}}},
		Extra: []RawField{{Key: "channel", Value: []byte(`"web"`)}, {Key: "store", Value: []byte(`"7"`)}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

// wideSample is a record of testdata/avro/event_wide.avsc in hamba's generic form.
func wideSample() map[string]any {
	node := func(label string, children ...any) map[string]any {
		if children == nil {
			children = []any{}
		}
		return map[string]any{"label": label, "children": children}
	}
	return map[string]any{
		"event_name":         "purchase",
		"id":                 int64(123456789012),
		"value":              int32(42),
		"currency":           []byte("EUR"),
		"tracking":           []any{map[string]any{"a": map[string]any{"string": "x"}, "b": nil}},
		"tree":               node("root", node("a", node("a1")), node("b")),
		"checksum":           [16]byte{1, 2, 3},
		"consent_categories": []any{int64(1), int64(3)},
		"items": []any{map[string]any{
			"product":  map[string]any{"id": int64(77), "price": float32(9.5), "weight_kg": 1.25},
			"quantity": int32(3),
		}},
		"user":  map[string]any{"com.example.producer.Person": map[string]any{"nickname": "jj", "email": "a@example.com"}},
		"extra": map[string]any{"store": "7", "channel": "web"},
		"integrations": map[string]any{"facebook": map[string]any{
			"opt_out": false,
			"custom_data": map[string]any{
				"contents": map[string]any{"array": []any{map[string]any{"id": "SKU-1", "quantity": int32(2)}}},
				"raw":      map[string]any{"com.example.producer.RawJSON": map[string]any{"json": `{"k":[true]}`}},
				"score":    map[string]any{"double": 0.5},
				"none":     nil,
			},
		}},
	}
}

// TestAvroUnfitUnionBranch: a writer union may hold an alternative the model cannot use; the schema is accepted,
// and a record that uses that alternative is an ErrSchema.
func TestAvroUnfitUnionBranch(t *testing.T) {
	t.Parallel()
	w := `{"type":"record","name":"E","fields":[{"name":"event_name","type":["null","string",{"type":"array","items":"string"}]}]}`
	d := mustAvroFixed(t, w, Limits{})
	ok, err := EncodeAvro(w, map[string]any{"event_name": "purchase"})
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if err := d.Decode(context.Background(), ok, &ev); err != nil || ev.EventName != "purchase" {
		t.Fatalf("string branch: err = %v, name %q", err, ev.EventName)
	}
	bad, err := EncodeAvro(w, map[string]any{"event_name": map[string]any{"array": []any{"a"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(context.Background(), bad, &ev); !errors.Is(err, ErrSchema) {
		t.Fatalf("array branch: err = %v, want ErrSchema", err)
	}
}

// TestAvroDecodeOwnsMemory: the Event never aliases the record's bytes (the consumer reuses its buffers).
func TestAvroDecodeOwnsMemory(t *testing.T) {
	t.Parallel()
	d := mustAvroFixed(t, "", Limits{})
	data := readAvroTestdata(t, "full_event.bin")
	var ev Event
	if err := d.Decode(context.Background(), data, &ev); err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 0xff
	}
	if !reflect.DeepEqual(&ev, fullAvroEvent()) {
		t.Fatalf("event changed when the record buffer was overwritten: %+v", ev)
	}
}

// TestAvroAppData: integrations.facebook.app_data arrives as the embedded schema's map, as a producer's record,
// or as one RawJSON; each becomes one compact JSON object. Anything that is not an object is an ErrSchema.
func TestAvroAppData(t *testing.T) {
	t.Parallel()
	fbSchema := func(appData string) string {
		return `{"type":"record","name":"E","namespace":"com.example.producer","fields":[
			{"name":"integrations","type":{"type":"record","name":"I","fields":[
				{"name":"facebook","type":{"type":"record","name":"F","fields":[
					{"name":"app_data","type":` + appData + `}]}}]}}]}`
	}
	rawJSON := `{"type":"record","name":"RawJSON","fields":[{"name":"json","type":"string"}]}`
	wrap := func(appData any) map[string]any {
		return map[string]any{"integrations": map[string]any{"facebook": map[string]any{"app_data": appData}}}
	}
	tests := []struct {
		name   string
		schema string // "" = the embedded event schema
		value  map[string]any
		want   string // "" = ErrSchema
	}{
		{"embedded map, sorted keys, RawJSON compacted", "", map[string]any{"integrations": map[string]any{
			"com.commandersact.Integrations": map[string]any{"facebook": map[string]any{
				"com.commandersact.Facebook": map[string]any{"app_data": map[string]any{"map": map[string]any{
					"extinfo":                      map[string]any{rawJSONName: map[string]any{"json": ` [ "i2", "com.example" ] `}},
					"application_tracking_enabled": map[string]any{"boolean": true},
					"advertiser_tracking_enabled":  map[string]any{"long": int64(0)},
				}}}}}}},
			`{"advertiser_tracking_enabled":0,"application_tracking_enabled":true,"extinfo":["i2","com.example"]}`},
		{"producer record", fbSchema(`{"type":"record","name":"AppData","fields":[
			{"name":"advertiser_tracking_enabled","type":"boolean"},{"name":"application_tracking_enabled","type":"int"},
			{"name":"extinfo","type":{"type":"array","items":"string"}}]}`),
			wrap(map[string]any{"advertiser_tracking_enabled": true, "application_tracking_enabled": int32(1),
				"extinfo": []any{"a2", "com.example"}}),
			`{"advertiser_tracking_enabled":true,"application_tracking_enabled":1,"extinfo":["a2","com.example"]}`},
		{"whole RawJSON object", fbSchema(rawJSON),
			wrap(map[string]any{"json": "{ \"extinfo\" : [\"a2\"],\n \"advertiser_tracking_enabled\": 1 }"}),
			`{"extinfo":["a2"],"advertiser_tracking_enabled":1}`},
		{"RawJSON array refused", fbSchema(rawJSON), wrap(map[string]any{"json": `["a2"]`}), ""},
		{"RawJSON invalid refused", fbSchema(rawJSON), wrap(map[string]any{"json": `{"a":`}), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustAvroFixed(t, tc.schema, Limits{})
			b, err := EncodeAvro(tc.schema, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			var ev Event
			err = d.Decode(context.Background(), b, &ev)
			if tc.want == "" {
				if !errors.Is(err, ErrSchema) {
					t.Fatalf("err = %v, want ErrSchema", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(ev.Integrations.Facebook.AppData); got != tc.want {
				t.Fatalf("AppData = %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := NewAvroFixed(fbSchema(`"string"`), Limits{}); !errors.Is(err, ErrSchema) {
		t.Fatalf("app_data as a string: err = %v, want ErrSchema", err)
	}
}
