package fbevent

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const (
	hashEm = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
	hashPh = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
	hashDb = "01acdbf6ec7b4f478a225f1a246e5d6767eeab1a7ffa17f025265b5b94f40f0c"
	hashUS = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"
)

// fullEvent sets every field, so the golden file pins the complete key order.
func fullEvent() *Event {
	return &Event{
		EventName:                       "Purchase",
		EventTime:                       1767225600,
		EventID:                         "order-42",
		EventSourceURL:                  "https://shop.example/checkout?a=1&b=<2>",
		ReferrerURL:                     "https://shop.example/cart",
		ActionSource:                    "website",
		OptOut:                          false,
		HasOptOut:                       true,
		DataProcessingOptions:           []string{"LDU"},
		HasDataProcessingOptions:        true,
		DataProcessingOptionsCountry:    1,
		HasDataProcessingOptionsCountry: true,
		DataProcessingOptionsState:      1000,
		HasDataProcessingOptionsState:   true,
		UserData: UserData{
			Em: hashEm, Ph: hashPh, Fn: hashEm, Ln: hashPh, Ge: hashUS, Db: hashDb, Ct: hashUS, St: hashUS,
			Zp: hashUS, Country: hashUS, ExternalID: hashEm,
			ClientIPAddress: "2001:db8::1",
			ClientUserAgent: "Mozilla/5.0 (X11; Linux x86_64) \"quoted\"",
			FBC:             "fb.1.1554763741205.AbCdEf-_.123",
			FBP:             "fb.1.1596403881668.1116446470",
		},
		CustomData: CustomData{
			Value: 142.52, HasValue: true,
			Currency:     "EUR",
			OrderID:      "42",
			SearchString: "shoes & socks",
			ContentIDs:   []string{"sku-1", "sku-2"},
			Contents: []Content{
				{ID: "sku-1", Quantity: 2, ItemPrice: 50.01, HasItemPrice: true},
				{ID: "sku-2", Quantity: 0},
			},
			ContentName:     "Été 2026 – collection",
			ContentCategory: "apparel",
			ContentType:     "product",
			Status:          "confirmed",
			NumItems:        2, HasNumItems: true,
			Extra: []Param{
				{Key: "loyalty_tier", Value: []byte(`"gold"`)},
				{Key: "coupons", Value: []byte(`[{"code":"X","pct":10}]`)},
				{Key: "gift", Value: []byte(`true`)},
			},
		},
	}
}

func TestAppendJSONGolden(t *testing.T) {
	got := AppendJSON(nil, fullEvent())
	if !json.Valid(got) {
		t.Fatalf("invalid JSON: %s", got)
	}
	golden := filepath.Join("testdata", "full_event.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
		t.Errorf("encoding differs from %s\n got: %s\nwant: %s", golden, got, want)
	}
	// The reference encoding by encoding/json must be byte-identical.
	ref, err := json.Marshal(toRef(fullEvent()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, ref) {
		t.Errorf("differs from encoding/json\n got: %s\nwant: %s", got, ref)
	}
}

// TestAppendJSONAppData: app_data goes verbatim after custom_data, and an event without it encodes as before.
func TestAppendJSONAppData(t *testing.T) {
	t.Parallel()
	const app = `{"advertiser_tracking_enabled":1,"application_tracking_enabled":0,"extinfo":["i2","com.example","1.0"]}`
	ev := &Event{
		EventName: "Purchase", EventTime: 1767225600, ActionSource: "app",
		UserData:   UserData{Em: hashEm},
		CustomData: CustomData{Value: 1, HasValue: true, Currency: "EUR"},
		AppData:    []byte(app),
	}
	want := `{"event_name":"Purchase","event_time":1767225600,"action_source":"app","user_data":{"em":"` + hashEm +
		`"},"custom_data":{"value":1,"currency":"EUR"},"app_data":` + app + `}`
	if got := AppendJSON(nil, ev); string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	ref, err := json.Marshal(toRef(ev))
	if err != nil {
		t.Fatal(err)
	}
	if string(ref) != want {
		t.Fatalf("encoding/json reference differs: %s", ref)
	}
	ev.CustomData, ev.UserData = CustomData{}, UserData{}
	if got := AppendJSON(nil, ev); string(got) != `{"event_name":"Purchase","event_time":1767225600,"action_source":"app","app_data":`+app+`}` {
		t.Fatalf("without user_data and custom_data: %s", got)
	}
	ev.AppData = []byte{}
	if got := AppendJSON(nil, ev); bytes.Contains(got, []byte("app_data")) {
		t.Fatalf("empty app_data written: %s", got)
	}
}

func TestAppendJSONRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   *Event
		want map[string]any
	}{
		{name: "zero event", ev: &Event{}, want: map[string]any{}},
		{
			name: "has-flags emit zero values",
			ev: &Event{
				EventName: "Lead", HasOptOut: true, HasDataProcessingOptions: true,
				HasDataProcessingOptionsCountry: true, HasDataProcessingOptionsState: true,
				CustomData: CustomData{HasValue: true, HasNumItems: true},
			},
			want: map[string]any{
				"event_name": "Lead", "opt_out": false, "data_processing_options": []any{},
				"data_processing_options_country": 0.0, "data_processing_options_state": 0.0,
				"custom_data": map[string]any{"value": 0.0, "num_items": 0.0},
			},
		},
		{
			name: "zero values without has-flags are omitted",
			ev: &Event{
				EventName: "PageView", OptOut: true, DataProcessingOptions: []string{"LDU"},
				DataProcessingOptionsCountry: 1, DataProcessingOptionsState: 1000,
				CustomData: CustomData{Value: 3, NumItems: 4, ContentIDs: []string{}},
			},
			want: map[string]any{"event_name": "PageView"},
		},
		{
			name: "contents always carry quantity, item_price only when set",
			ev: &Event{CustomData: CustomData{Contents: []Content{
				{ID: "a"}, {ID: "b", Quantity: 3, HasItemPrice: true}, {ID: "c", ItemPrice: 9},
			}}},
			want: map[string]any{"custom_data": map[string]any{"contents": []any{
				map[string]any{"id": "a", "quantity": 0.0},
				map[string]any{"id": "b", "quantity": 3.0, "item_price": 0.0},
				map[string]any{"id": "c", "quantity": 0.0},
			}}},
		},
		{
			name: "user_data only with the set fields",
			ev:   &Event{EventTime: -5, UserData: UserData{FBP: "fb.1.1596403881668.1", ClientIPAddress: "192.0.2.1"}},
			want: map[string]any{"event_time": -5.0, "user_data": map[string]any{
				"client_ip_address": "192.0.2.1", "fbp": "fb.1.1596403881668.1",
			}},
		},
		{
			name: "extra params raw, empty value as null",
			ev: &Event{CustomData: CustomData{Extra: []Param{
				{Key: "n", Value: []byte(`1.5e3`)}, {Key: "o", Value: []byte(`{"k":[1,"x"]}`)}, {Key: "e"},
			}}},
			want: map[string]any{"custom_data": map[string]any{
				"n": 1500.0, "o": map[string]any{"k": []any{1.0, "x"}}, "e": nil,
			}},
		},
		{
			name: "non-finite numbers become null",
			ev: &Event{CustomData: CustomData{
				Value: math.NaN(), HasValue: true,
				Contents: []Content{{ID: "a", ItemPrice: math.Inf(-1), HasItemPrice: true}},
			}},
			want: map[string]any{"custom_data": map[string]any{
				"value": nil, "contents": []any{map[string]any{"id": "a", "quantity": 0.0, "item_price": nil}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendJSON(nil, tt.ev)
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v\njson %s", got, tt.want, b)
			}
		})
	}
}

func TestAppendJSONAppends(t *testing.T) {
	t.Parallel()
	prefix := []byte("xyz")
	got := AppendJSON(prefix, &Event{EventName: "Lead"})
	if string(got) != `xyz{"event_name":"Lead"}` {
		t.Errorf("got %s", got)
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	tests := []float64{
		0, math.Copysign(0, -1), 1, -1, 0.1, 142.52, 1e20, 1e21, 1.5e21, 1e-6, 9.99e-7, 1.2345e-7, 1e-300,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 123456789.123456789, -0.000001, 1e100,
		// Around appendCents' bounds: cents, half cents, 0.1+0.2, the 2^40 limit.
		0.01, -0.01, 0.005, 0.015, 1.15, 1.005, 0.1 + 0.2, 0.3, 129.9, 99.99, 100, 1e11 + 0.01,
		1<<40 - 0.01, 1 << 40, 1<<40 + 0.01, -(1<<40 - 0.01), 1e12, 4503599627370495.5,
	}
	for _, f := range tests {
		checkAppendFloat(t, f)
	}
	// Amounts as shops write them, over many magnitudes, and arbitrary values of the same magnitudes.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1 << 18 {
		scale := math.Pow(10, float64(rng.IntN(16)))
		checkAppendFloat(t, float64(rng.Int64N(int64(scale)+1)-int64(scale)/2)/100)
		checkAppendFloat(t, (rng.Float64()-0.5)*scale)
	}
}

func checkAppendFloat(t *testing.T, f float64) {
	t.Helper()
	want, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendFloat(nil, f); !bytes.Equal(got, want) {
		t.Fatalf("appendFloat(%v) = %s, encoding/json %s", f, got, want)
	}
}

func FuzzAppendFloat(f *testing.F) {
	for _, v := range []float64{0, 129.9, -0.01, 1.005, 1 << 40, 1e-7, 1e21} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Skip("no JSON form")
		}
		checkAppendFloat(t, v)
		// The same magnitude rounded to cents, appendCents' domain.
		checkAppendFloat(t, math.Round(v*100)/100)
	})
}

func TestAppendBatch(t *testing.T) {
	t.Parallel()
	e1 := AppendJSON(nil, &Event{EventName: "Lead"})
	e2 := AppendJSON(nil, &Event{EventName: "PageView"})
	tests := []struct {
		name          string
		events        [][]byte
		code, partner string
		want          string
	}{
		{"empty", nil, "", "", `{"data":[]}`},
		{"one", [][]byte{e1}, "", "", `{"data":[{"event_name":"Lead"}]}`},
		{"two with options", [][]byte{e1, e2}, "TEST123", "capi-connector/1.0",
			`{"data":[{"event_name":"Lead"},{"event_name":"PageView"}],"test_event_code":"TEST123","partner_agent":"capi-connector/1.0"}`},
		{"partner only", [][]byte{e1}, "", "p<1>", `{"data":[{"event_name":"Lead"}],"partner_agent":"p\u003c1\u003e"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendBatch(nil, tt.events, tt.code, tt.partner)
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON")
			}
		})
	}
}

func TestAppendJSONDoesNotAllocate(t *testing.T) {
	ev := fullEvent()
	buf := make([]byte, 0, 8192)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendJSON(buf[:0], ev)
	})
	if allocs != 0 {
		t.Errorf("AppendJSON allocates %v times per run with a large enough buffer", allocs)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	ev := fullEvent()
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], ev)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkEncodingJSONReference(b *testing.B) {
	ref := toRef(fullEvent())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(ref); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("Purchase", int64(1767225600), "id", "https://x/?a=<b>&c", "website", hashEm, "ua \u2028", "fb.1.1.1",
		"sku", int64(2), 12.5, "k", "v\xff", true)
	f.Add("", int64(0), "", "", "", "", "", "", "", int64(0), 0.0, "", "", false)
	f.Add("\x00\"\\", int64(-1), "\xed\xa0\x80", "\u2029", "\t", "<>&", "\x7f", "é", "日本", int64(-3), 1e-7, "", "", true)
	f.Fuzz(func(t *testing.T, name string, ts int64, id, url, source, em, ua, fbp, sku string, qty int64,
		price float64, key, val string, flag bool) {
		if math.IsNaN(price) || math.IsInf(price, 0) {
			t.Skip("non-finite numbers are rejected by Validate and have no JSON form")
		}
		ev := &Event{
			EventName: name, EventTime: ts, EventID: id, EventSourceURL: url, ReferrerURL: url,
			ActionSource: source, OptOut: flag, HasOptOut: flag,
			DataProcessingOptions: []string{name, id}, HasDataProcessingOptions: flag,
			DataProcessingOptionsCountry: qty, HasDataProcessingOptionsCountry: !flag,
			UserData: UserData{Em: em, Ct: name, ClientUserAgent: ua, FBP: fbp, ExternalID: id},
			CustomData: CustomData{
				Value: price, HasValue: flag, Currency: source, ContentIDs: []string{sku},
				Contents:    []Content{{ID: sku, Quantity: qty, ItemPrice: price, HasItemPrice: !flag}},
				ContentName: val, NumItems: qty, HasNumItems: flag,
			},
		}
		if key != "" {
			raw, err := json.Marshal(val)
			if err != nil {
				t.Fatal(err)
			}
			ev.CustomData.Extra = []Param{{Key: key, Value: raw}}
			if flag {
				k, _ := json.Marshal(key)
				ev.AppData = []byte(`{` + string(k) + `:` + string(raw) + `,"extinfo":["a2"]}`)
			}
		}
		got := AppendJSON(nil, ev)
		if !json.Valid(got) {
			t.Fatalf("invalid JSON: %q", got)
		}
		want, err := json.Marshal(toRef(ev))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("differs from encoding/json\n got: %q\nwant: %q", got, want)
		}
	})
}

// The ref* types describe the wire format with encoding/json tags, independently of AppendJSON, so tests can
// compare AppendJSON byte for byte with encoding/json's output for the same event.

type refEvent struct {
	EventName                    string          `json:"event_name,omitempty"`
	EventTime                    int64           `json:"event_time,omitempty"`
	EventID                      string          `json:"event_id,omitempty"`
	EventSourceURL               string          `json:"event_source_url,omitempty"`
	ReferrerURL                  string          `json:"referrer_url,omitempty"`
	ActionSource                 string          `json:"action_source,omitempty"`
	OptOut                       *bool           `json:"opt_out,omitempty"`
	DataProcessingOptions        *[]string       `json:"data_processing_options,omitempty"`
	DataProcessingOptionsCountry *int64          `json:"data_processing_options_country,omitempty"`
	DataProcessingOptionsState   *int64          `json:"data_processing_options_state,omitempty"`
	UserData                     *userDataRef    `json:"user_data,omitempty"`
	CustomData                   *customDataRef  `json:"custom_data,omitempty"`
	AppData                      json.RawMessage `json:"app_data,omitempty"`
}

type userDataRef struct {
	Em              string `json:"em,omitempty"`
	Ph              string `json:"ph,omitempty"`
	Fn              string `json:"fn,omitempty"`
	Ln              string `json:"ln,omitempty"`
	Ge              string `json:"ge,omitempty"`
	Db              string `json:"db,omitempty"`
	Ct              string `json:"ct,omitempty"`
	St              string `json:"st,omitempty"`
	Zp              string `json:"zp,omitempty"`
	Country         string `json:"country,omitempty"`
	ExternalID      string `json:"external_id,omitempty"`
	ClientIPAddress string `json:"client_ip_address,omitempty"`
	ClientUserAgent string `json:"client_user_agent,omitempty"`
	FBC             string `json:"fbc,omitempty"`
	FBP             string `json:"fbp,omitempty"`
}

type customDataRef struct {
	Value           *float64     `json:"value,omitempty"`
	Currency        string       `json:"currency,omitempty"`
	OrderID         string       `json:"order_id,omitempty"`
	SearchString    string       `json:"search_string,omitempty"`
	ContentIDs      []string     `json:"content_ids,omitempty"`
	Contents        []contentRef `json:"contents,omitempty"`
	ContentName     string       `json:"content_name,omitempty"`
	ContentCategory string       `json:"content_category,omitempty"`
	ContentType     string       `json:"content_type,omitempty"`
	Status          string       `json:"status,omitempty"`
	NumItems        *int64       `json:"num_items,omitempty"`
	extra           []Param
}

// MarshalJSON encodes the typed fields with encoding/json and splices the raw extra parameters after them,
// the only part encoding/json cannot order by itself.
func (c customDataRef) MarshalJSON() ([]byte, error) {
	type plain customDataRef
	b, err := json.Marshal(plain(c))
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1]
	for _, p := range c.extra {
		if len(b) > 1 {
			b = append(b, ',')
		}
		k, err := json.Marshal(p.Key)
		if err != nil {
			return nil, err
		}
		b = append(append(b, k...), ':')
		b = append(b, p.Value...)
	}
	return append(b, '}'), nil
}

type contentRef struct {
	ID        string   `json:"id"`
	Quantity  int64    `json:"quantity"`
	ItemPrice *float64 `json:"item_price,omitempty"`
}

func toRef(ev *Event) refEvent {
	r := refEvent{
		EventName: ev.EventName, EventTime: ev.EventTime, EventID: ev.EventID, EventSourceURL: ev.EventSourceURL,
		ReferrerURL: ev.ReferrerURL, ActionSource: ev.ActionSource,
	}
	if ev.HasOptOut {
		r.OptOut = &ev.OptOut
	}
	if ev.HasDataProcessingOptions {
		dpo := append([]string{}, ev.DataProcessingOptions...)
		r.DataProcessingOptions = &dpo
	}
	if ev.HasDataProcessingOptionsCountry {
		r.DataProcessingOptionsCountry = &ev.DataProcessingOptionsCountry
	}
	if ev.HasDataProcessingOptionsState {
		r.DataProcessingOptionsState = &ev.DataProcessingOptionsState
	}
	if u := userDataRef(ev.UserData); u != (userDataRef{}) {
		r.UserData = &u
	}
	c := ev.CustomData
	cr := customDataRef{
		Currency: c.Currency, OrderID: c.OrderID, SearchString: c.SearchString, ContentIDs: c.ContentIDs,
		ContentName: c.ContentName, ContentCategory: c.ContentCategory, ContentType: c.ContentType,
		Status: c.Status, extra: c.Extra,
	}
	if c.HasValue {
		cr.Value = &c.Value
	}
	if c.HasNumItems {
		cr.NumItems = &c.NumItems
	}
	for _, it := range c.Contents {
		ci := contentRef{ID: it.ID, Quantity: it.Quantity}
		if it.HasItemPrice {
			ci.ItemPrice = &it.ItemPrice
		}
		cr.Contents = append(cr.Contents, ci)
	}
	if !c.IsEmpty() {
		r.CustomData = &cr
	}
	if len(ev.AppData) > 0 {
		r.AppData = ev.AppData
	}
	return r
}
