package schema

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func readPurchase(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/purchase.json")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestJSONDecodePurchase(t *testing.T) {
	t.Parallel()
	var ev Event
	if err := NewJSONDecoder().Decode(readPurchase(t), &ev); err != nil {
		t.Fatal(err)
	}
	want := Event{
		EventName:         "purchase",
		ID:                "ORD-123",
		Value:             129.9,
		HasValue:          true,
		Currency:          "EUR",
		ConsentCategories: []string{"1", "3"},
		User: User{UserFields: UserFields{
			ID: "C42", Email: "John.Smith@Example.com", Phone: "06 12 34 56 78", Firstname: "John",
			Lastname: "Smith", City: "Paris", Zipcode: "75001", Country: "FR",
		}},
		Items: []Item{
			{Product: Product{ID: "SKU-1", Name: "Shoes", Price: 99.9, HasPrice: true, Category1: "shoes"}, Quantity: 1, HasQuantity: true},
			{Product: Product{ID: "SKU-2", Name: "Socks", Price: 15, HasPrice: true}, Quantity: 2, HasQuantity: true},
		},
		Context: Context{
			EventTimestamp: 1732890000000, HasEventTimestamp: true,
			Page: Page{URL: "https://shop.example.com/confirm?fbclid=IwAR2x", Referrer: "https://shop.example.com/cart"},
			Device: Device{
				IP:        "203.0.113.7",
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
				Cookie:    "_fbp=fb.1.1732880000000.1098115397; _fbc=fb.1.1732880000000.IwAR2x",
			},
		},
		Integrations: Integrations{Facebook: Facebook{EventID: "evt-7f3a9c"}},
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", ev, want)
	}
}

// TestJSONDecodeFields covers every field of the model, its accepted encodings and the older names.
func TestJSONDecodeFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Event
	}{
		{"empty object", `{}`, Event{}},
		{"event_name", `{"event_name":"purchase"}`, Event{EventName: "purchase"}},
		{"event_id", `{"event_id":"e1"}`, Event{EventID: "e1"}},
		{"event_id number", `{"event_id":12}`, Event{EventID: "12"}},
		{"type", `{"type":"offline"}`, Event{Type: "offline"}},
		{"url referrer", `{"url":"https://a/b","referrer":"https://c"}`, Event{URL: "https://a/b", Referrer: "https://c"}},
		{"value number", `{"value":12.5}`, Event{Value: 12.5, HasValue: true}},
		{"value zero is present", `{"value":0}`, Event{HasValue: true}},
		{"value numeric string", `{"value":" 12.50 "}`, Event{Value: 12.5, HasValue: true}},
		{"value empty string is absent", `{"value":""}`, Event{}},
		{"value null is absent", `{"value":null}`, Event{}},
		{"amount when value absent", `{"amount":101}`, Event{Value: 101, HasValue: true}},
		{"amount string", `{"amount":"101.5"}`, Event{Value: 101.5, HasValue: true}},
		{"value wins over amount", `{"amount":1,"value":2}`, Event{Value: 2, HasValue: true}},
		{"value wins over amount after", `{"value":2,"amount":1}`, Event{Value: 2, HasValue: true}},
		{"empty value falls back to amount", `{"value":"","amount":3}`, Event{Value: 3, HasValue: true}},
		{"currency", `{"currency":"EUR"}`, Event{Currency: "EUR"}},
		{"id string", `{"id":"O-1"}`, Event{ID: "O-1"}},
		{"id integer keeps text", `{"id":12345678901234567890}`, Event{ID: "12345678901234567890"}},
		{"id decimal keeps text", `{"id":12.50}`, Event{ID: "12.50"}},
		{"search_term", `{"search_term":"red shoes"}`, Event{SearchTerm: "red shoes"}},
		{"name category status", `{"name":"n","category":"c","status":"s"}`, Event{Name: "n", Category: "c", Status: "s"}},
		{"fbp fbc", `{"fbp":"fb.1.1.1","fbc":"fb.1.1.x"}`, Event{FBP: "fb.1.1.1", FBC: "fb.1.1.x"}},
		{"escaped string", `{"name":"a\"b\\c\u00e9\n"}`, Event{Name: "a\"b\\cé\n"}},
		{"utf8 string", `{"name":"Zoë 東京"}`, Event{Name: "Zoë 東京"}},
		{"consent array strings", `{"consent_categories":["1"," 3 ",""]}`, Event{ConsentCategories: []string{"1", "3"}}},
		{"consent array numbers", `{"consent_categories":[1,3]}`, Event{ConsentCategories: []string{"1", "3"}}},
		{"consent array null elements skipped", `{"consent_categories":[null,2]}`, Event{ConsentCategories: []string{"2"}}},
		{"consent comma string", `{"consent_categories":"1, 3,,4"}`, Event{ConsentCategories: []string{"1", "3", "4"}}},
		{"consent single string", `{"consent_categories":"3"}`, Event{ConsentCategories: []string{"3"}}},
		{"consent empty", `{"consent_categories":[]}`, Event{}},
		{"items", `{"items":[{"product":{"id":"A","name":"n","price":"9.5","currency":"USD","category_1":"c1","category_2":"c2","category_3":"c3","category_4":"c4","category_5":"c5"},"quantity":"3"}]}`,
			Event{Items: []Item{{Product: Product{ID: "A", Name: "n", Price: 9.5, HasPrice: true, Currency: "USD",
				Category1: "c1", Category2: "c2", Category3: "c3", Category4: "c4", Category5: "c5"}, Quantity: 3, HasQuantity: true}}}},
		{"item product id number", `{"items":[{"product":{"id":42,"price":0},"quantity":2.0}]}`,
			Event{Items: []Item{{Product: Product{ID: "42", HasPrice: true}, Quantity: 2, HasQuantity: true}}}},
		{"item without product", `{"items":[{"quantity":1},{}]}`, Event{Items: []Item{{Quantity: 1, HasQuantity: true}, {}}}},
		{"items null", `{"items":null}`, Event{}},
		{"user fields", `{"user":{"id":"u1","email":"e","phone":"p","firstname":"f","lastname":"l","gender":"g","birthdate":"b","city":"c","state":"s","zipcode":"z","country":"co"}}`,
			Event{User: User{UserFields: UserFields{ID: "u1", Email: "e", Phone: "p", Firstname: "f", Lastname: "l",
				Gender: "g", Birthdate: "b", City: "c", State: "s", Zipcode: "z", Country: "co"}}}},
		{"user numbers", `{"user":{"id":7,"phone":33612345678,"zipcode":75001}}`,
			Event{User: User{UserFields: UserFields{ID: "7", Phone: "33612345678", Zipcode: "75001"}}}},
		{"user sha256 fields", `{"user":{"id_sha256":"1","email_sha256":"2","phone_sha256":"3","firstname_sha256":"4","lastname_sha256":"5","gender_sha256":"6","birthdate_sha256":"7","city_sha256":"8","state_sha256":"9","zipcode_sha256":"10","country_sha256":"11"}}`,
			Event{User: User{SHA256: UserFields{ID: "1", Email: "2", Phone: "3", Firstname: "4", Lastname: "5",
				Gender: "6", Birthdate: "7", City: "8", State: "9", Zipcode: "10", Country: "11"}}}},
		{"user consent", `{"user":{"consent_categories":[3]}}`, Event{User: User{ConsentCategories: []string{"3"}}}},
		{"user unknown fields ignored", `{"user":{"nickname":"x"}}`, Event{}},
		{"user null", `{"user":null}`, Event{}},
		{"context", `{"context":{"event_timestamp":1700000000123,"event_id":"c1","page":{"url":"u","referrer":"r","title":"t"},"device":{"ip":"1.2.3.4","user_agent":"ua","cookie":"_fbp=x"}}}`,
			Event{Context: Context{EventTimestamp: 1700000000123, HasEventTimestamp: true, EventID: "c1",
				Page: Page{URL: "u", Referrer: "r"}, Device: Device{IP: "1.2.3.4", UserAgent: "ua", Cookie: "_fbp=x"}}}},
		{"event_timestamp string", `{"context":{"event_timestamp":"1700000000123"}}`,
			Event{Context: Context{EventTimestamp: 1700000000123, HasEventTimestamp: true}}},
		{"event_timestamp exponent", `{"context":{"event_timestamp":1.7e12}}`,
			Event{Context: Context{EventTimestamp: 1700000000000, HasEventTimestamp: true}}},
		{"event_timestamp fraction truncated", `{"context":{"event_timestamp":1700000000123.9}}`,
			Event{Context: Context{EventTimestamp: 1700000000123, HasEventTimestamp: true}}},
		{"browser older names", `{"browser":{"ip":"9.9.9.9","user_agent":"old"}}`,
			Event{Context: Context{Device: Device{IP: "9.9.9.9", UserAgent: "old"}}}},
		{"context device wins over browser", `{"browser":{"ip":"9.9.9.9","user_agent":"old"},"context":{"device":{"ip":"1.1.1.1","user_agent":"new"}}}`,
			Event{Context: Context{Device: Device{IP: "1.1.1.1", UserAgent: "new"}}}},
		{"context device wins over browser after", `{"context":{"device":{"ip":"1.1.1.1"}},"browser":{"ip":"9.9.9.9","user_agent":"old"}}`,
			Event{Context: Context{Device: Device{IP: "1.1.1.1", UserAgent: "old"}}}},
		{"empty device ip falls back to browser", `{"context":{"device":{"ip":""}},"browser":{"ip":"9.9.9.9"}}`,
			Event{Context: Context{Device: Device{IP: "9.9.9.9"}}}},
		{"facebook scalars", `{"integrations":{"facebook":{"event_name":"X","event_id":"f1","action_source":"email","fbp":"p","fbc":"c","opt_out":true,"data_processing_options":["LDU"],"data_processing_options_country":1,"data_processing_options_state":1000}}}`,
			Event{Integrations: Integrations{Facebook: Facebook{EventName: "X", EventID: "f1", ActionSource: "email", FBP: "p", FBC: "c",
				OptOut: true, HasOptOut: true, DataProcessingOptions: []string{"LDU"}, HasDataProcessingOptions: true,
				DataProcessingOptionsCountry: 1, HasDataProcessingOptionsCountry: true,
				DataProcessingOptionsState: 1000, HasDataProcessingOptionsState: true}}}},
		{"facebook empty dpo is present", `{"integrations":{"facebook":{"data_processing_options":[],"opt_out":false}}}`,
			Event{Integrations: Integrations{Facebook: Facebook{DataProcessingOptions: []string{}, HasDataProcessingOptions: true, HasOptOut: true}}}},
		{"facebook opt_out string", `{"integrations":{"facebook":{"opt_out":"true"}}}`,
			Event{Integrations: Integrations{Facebook: Facebook{OptOut: true, HasOptOut: true}}}},
		{"facebook user_data custom_data raw in order", `{"integrations":{"facebook":{"user_data":{"em":"A@B.c","zp":75001},"custom_data":{"z":1.50,"a":{"k":[true,null,"x\u0001"]},"content_name":"booking"}}}}`,
			Event{Integrations: Integrations{Facebook: Facebook{
				UserData: []RawField{{"em", []byte(`"A@B.c"`)}, {"zp", []byte(`75001`)}},
				CustomData: []RawField{{"z", []byte(`1.50`)}, {"a", []byte(`{"k":[true,null,"x\u0001"]}`)},
					{"content_name", []byte(`"booking"`)}},
			}}}},
		{"facebook app_data compact raw object", `{"integrations":{"facebook":{"action_source":"app","app_data":{ "advertiser_tracking_enabled" : 1, "application_tracking_enabled":true,"extinfo":["a2","com.example.app", "1.0",null,1.50],"x":{"y":{}}}}}}`,
			Event{Integrations: Integrations{Facebook: Facebook{ActionSource: "app",
				AppData: []byte(`{"advertiser_tracking_enabled":1,"application_tracking_enabled":true,"extinfo":["a2","com.example.app","1.0",null,1.50],"x":{"y":{}}}`)}}}},
		{"facebook app_data empty object is present", `{"integrations":{"facebook":{"app_data":{}}}}`,
			Event{Integrations: Integrations{Facebook: Facebook{AppData: []byte(`{}`)}}}},
		{"facebook app_data null is absent", `{"integrations":{"facebook":{"app_data":null}}}`, Event{}},
		{"facebook app_data last object wins, null keeps it", `{"integrations":{"facebook":{"app_data":{"a":1},"app_data":{"b":2},"app_data":null}}}`,
			Event{Integrations: Integrations{Facebook: Facebook{AppData: []byte(`{"b":2}`)}}}},
		{"facebook app_data escaped strings re-escaped", `{"integrations":{"facebook":{"app_data":{"extinfo":["i2","com.ex\/app","\u00e9\u0001"]}}}}`,
			Event{Integrations: Integrations{Facebook: Facebook{AppData: []byte(`{"extinfo":["i2","com.ex/app","é\u0001"]}`)}}}},
		{"other integrations ignored", `{"integrations":{"google":{"x":1}}}`, Event{}},
		{"unknown root fields go to Extra in order", `{"zeta":"z","event_name":"e","alpha":{"b" : [1, 2]},"n":null,"t":true}`,
			Event{EventName: "e", Extra: []RawField{{"zeta", []byte(`"z"`)}, {"alpha", []byte(`{"b":[1,2]}`)},
				{"n", []byte(`null`)}, {"t", []byte(`true`)}}}},
		{"whitespace around", " \n{\"event_name\" : \"e\" }\t", Event{EventName: "e"}},
	}
	d := NewJSONDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Decode, and each path on its own: the scanner must get it right or decline.
			for _, path := range []decodePath{pathAuto, pathSlow, pathFast} {
				var ev Event
				err := d.decode([]byte(tt.in), &ev, path)
				if path == pathFast && errors.Is(err, errFastDeclined) {
					continue
				}
				if err != nil {
					t.Fatalf("path %d: Decode: %v", path, err)
				}
				if !reflect.DeepEqual(ev, tt.want) {
					t.Fatalf("path %d: decoded\n%#v\nwant\n%#v", path, ev, tt.want)
				}
			}
		})
	}
}

func TestJSONDecodeErrors(t *testing.T) {
	t.Parallel()
	const secret = "john@example.com"
	tests := []struct {
		name   string
		in     string
		want   error
		field  string
		offset int64 // checked when >= 0
	}{
		{"empty", ``, ErrInvalidJSON, "", -1},
		{"syntax", `{"user":{"email":"john@example.com"`, ErrInvalidJSON, "", -1},
		{"syntax offset", `{"a":1,}`, ErrInvalidJSON, "", 7},
		{"trailing data", `{"a":1} x`, ErrInvalidJSON, "", 8},
		{"invalid utf8", "{\"name\":\"\xff\"}", ErrInvalidJSON, "", 9},
		{"array top level", `["john@example.com"]`, ErrInvalidJSON, "", -1},
		{"string top level", `"john@example.com"`, ErrInvalidJSON, "", -1},
		{"nan number", `{"value":NaN}`, ErrInvalidJSON, "value", -1},
		{"lenient number rejected in id", `{"id":1-2}`, ErrInvalidJSON, "id", -1},
		{"lenient number rejected in extra", `{"x":{"y":[01]}}`, ErrInvalidJSON, "x", -1},
		{"lenient number rejected in custom_data", `{"integrations":{"facebook":{"custom_data":{"k":1.}}}}`, ErrInvalidJSON, "integrations.facebook.custom_data.k", -1},
		{"user string", `{"user":"john@example.com"}`, ErrInvalidField, "user", -1},
		{"email object", `{"user":{"email":{"v":"john@example.com"}}}`, ErrInvalidField, "user.email", -1},
		{"email bool", `{"user":{"email":true}}`, ErrInvalidField, "user.email", -1},
		{"items object", `{"items":{"product":{}}}`, ErrInvalidField, "items", -1},
		{"item not object", `{"items":[{},"john@example.com"]}`, ErrInvalidField, "items[1]", -1},
		{"product string", `{"items":[{"product":"x"}]}`, ErrInvalidField, "items[0].product", -1},
		{"price text", `{"items":[{},{"product":{"price":"john@example.com"}}]}`, ErrInvalidField, "items[1].product.price", -1},
		{"quantity fraction", `{"items":[{"quantity":1.5}]}`, ErrInvalidField, "items[0].quantity", -1},
		{"value text", `{"value":"12 EUR"}`, ErrInvalidField, "value", -1},
		{"value NaN string", `{"value":"NaN"}`, ErrInvalidField, "value", -1},
		{"value inf string", `{"value":"Inf"}`, ErrInvalidField, "value", -1},
		{"value overflow", `{"value":1e999}`, ErrInvalidField, "value", -1},
		{"amount bool", `{"amount":true}`, ErrInvalidField, "amount", -1},
		{"value array", `{"value":[1]}`, ErrInvalidField, "value", -1},
		{"timestamp text", `{"context":{"event_timestamp":"yesterday"}}`, ErrInvalidField, "context.event_timestamp", -1},
		{"context array", `{"context":[]}`, ErrInvalidField, "context", -1},
		{"page string", `{"context":{"page":"https://x"}}`, ErrInvalidField, "context.page", -1},
		{"device ip object", `{"context":{"device":{"ip":{}}}}`, ErrInvalidField, "context.device.ip", -1},
		{"browser ip array", `{"browser":{"ip":["1.2.3.4"]}}`, ErrInvalidField, "browser.ip", -1},
		{"consent object", `{"consent_categories":{"a":1}}`, ErrInvalidField, "consent_categories", -1},
		{"consent nested array", `{"consent_categories":[[1]]}`, ErrInvalidField, "consent_categories", -1},
		{"user consent bool", `{"user":{"consent_categories":true}}`, ErrInvalidField, "user.consent_categories", -1},
		{"integrations string", `{"integrations":"facebook"}`, ErrInvalidField, "integrations", -1},
		{"facebook array", `{"integrations":{"facebook":[]}}`, ErrInvalidField, "integrations.facebook", -1},
		{"opt_out number", `{"integrations":{"facebook":{"opt_out":1}}}`, ErrInvalidField, "integrations.facebook.opt_out", -1},
		{"dpo string", `{"integrations":{"facebook":{"data_processing_options":"LDU"}}}`, ErrInvalidField, "integrations.facebook.data_processing_options", -1},
		{"dpo country fraction", `{"integrations":{"facebook":{"data_processing_options_country":1.5}}}`, ErrInvalidField, "integrations.facebook.data_processing_options_country", -1},
		{"user_data array", `{"integrations":{"facebook":{"user_data":["john@example.com"]}}}`, ErrInvalidField, "integrations.facebook.user_data", -1},
		{"custom_data string", `{"integrations":{"facebook":{"custom_data":"john@example.com"}}}`, ErrInvalidField, "integrations.facebook.custom_data", -1},
		{"app_data array", `{"integrations":{"facebook":{"app_data":["a2"]}}}`, ErrInvalidField, "integrations.facebook.app_data", -1},
		{"app_data string", `{"integrations":{"facebook":{"app_data":"john@example.com"}}}`, ErrInvalidField, "integrations.facebook.app_data", -1},
		{"app_data lenient number", `{"integrations":{"facebook":{"app_data":{"advertiser_tracking_enabled":01}}}}`, ErrInvalidJSON, "integrations.facebook.app_data", -1},
	}
	d := NewJSONDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Event{EventName: "stale"}
			err := d.Decode([]byte(tt.in), &ev)
			var fast Event
			if errFast := d.decode([]byte(tt.in), &fast, pathFast); errFast == nil {
				t.Errorf("the scanner accepted an input the decoder rejects")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err %T is not a *DecodeError", err)
			}
			if de.Field != tt.field {
				t.Errorf("Field = %q, want %q", de.Field, tt.field)
			}
			if tt.offset >= 0 && de.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d", de.Offset, tt.offset)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "1.2.3.4") {
				t.Errorf("error message leaks a value: %v", err)
			}
			if !reflect.DeepEqual(ev, Event{}) {
				t.Errorf("event not reset on error: %+v", ev)
			}
		})
	}
}

// TestJSONDecodeOwnsMemory checks that a decoded event survives the input buffer and the pooled parser being
// reused: nothing may alias them.
func TestJSONDecodeOwnsMemory(t *testing.T) {
	t.Parallel()
	d := NewJSONDecoder()
	in := []byte(`{"event_name":"purchase","user":{"email":"a@b.c"},"x":"y","integrations":{"facebook":{"custom_data":{"k":"v"}}}}`)
	var first Event
	if err := d.Decode(in, &first); err != nil {
		t.Fatal(err)
	}
	want := first
	want.Extra = []RawField{{"x", []byte(`"y"`)}}
	want.Integrations.Facebook.CustomData = []RawField{{"k", []byte(`"v"`)}}
	for i := range in {
		in[i] = 'X'
	}
	var other Event
	for range 4 {
		if err := d.Decode([]byte(`{"event_name":"zzzzzzzz","user":{"email":"q@q.q"},"w":"wwwww"}`), &other); err != nil {
			t.Fatal(err)
		}
	}
	if first.EventName != "purchase" || first.User.Email != "a@b.c" ||
		!reflect.DeepEqual(first.Extra, want.Extra) || !reflect.DeepEqual(first.Integrations.Facebook.CustomData, want.Integrations.Facebook.CustomData) {
		t.Fatalf("decoded event changed after reuse: %+v", first)
	}
}

func TestJSONDecodeResetsEvent(t *testing.T) {
	t.Parallel()
	ev := Event{EventName: "old", Items: []Item{{}}, Extra: []RawField{{Key: "k"}}}
	if err := NewJSONDecoder().Decode([]byte(`{"id":"1"}`), &ev); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev, Event{ID: "1"}) {
		t.Fatalf("event not reset: %+v", ev)
	}
}

func TestJSONDecodeConcurrent(t *testing.T) {
	t.Parallel()
	d := NewJSONDecoder()
	data := readPurchase(t)
	var want Event
	if err := d.Decode(data, &want); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				var ev Event
				in := data
				if (g+i)%2 == 0 {
					in = []byte(`{"event_name":"other","items":[{"product":{"id":"Z"}}]}`)
				}
				if err := d.Decode(in, &ev); err != nil {
					errs <- err.Error()
					return
				}
				if (g+i)%2 != 0 && !reflect.DeepEqual(ev, want) {
					errs <- "concurrent decode differs"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func FuzzJSONDecode(f *testing.F) {
	f.Add(readPurchase(f))
	for _, s := range []string{
		`{}`, `[]`, `null`, `{"value":"1.5","amount":2}`, `{"consent_categories":"1,2"}`,
		`{"items":[{"product":{"id":1,"price":"2"},"quantity":"3"}]}`,
		`{"integrations":{"facebook":{"user_data":{"em":"x"},"custom_data":{"a":[1,{"b":null}]}}}}`,
		`{"integrations":{"facebook":{"action_source":"app","app_data":{"advertiser_tracking_enabled":1,"application_tracking_enabled":0,"extinfo":["a2","com.x","1"]}}}}`,
		`{"browser":{"ip":"1"},"x":"\u0000\ud800"}`, `{"value":1e400}`, `{"id":-0.0e+1}`,
	} {
		f.Add([]byte(s))
	}
	d := NewJSONDecoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		var a, b Event
		errA := d.Decode(data, &a)
		errB := d.Decode(data, &b)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("non-deterministic error: %v vs %v", errA, errB)
		}
		if errA != nil {
			var de *DecodeError
			if !errors.As(errA, &de) || !(errors.Is(errA, ErrInvalidJSON) || errors.Is(errA, ErrInvalidField)) {
				t.Fatalf("error %v is not a classified *DecodeError", errA)
			}
			return
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("non-deterministic decode:\n%+v\n%+v", a, b)
		}
		if ad := a.Integrations.Facebook.AppData; ad != nil && (!jsonValid(ad) || ad[0] != '{') {
			t.Fatalf("app_data is not a JSON object: %q", ad)
		}
		for _, fs := range [][]RawField{a.Extra, a.Integrations.Facebook.UserData, a.Integrations.Facebook.CustomData} {
			for _, f := range fs {
				if !jsonValid(f.Value) {
					t.Fatalf("raw value of %q is not valid JSON: %q", f.Key, f.Value)
				}
			}
		}
	})
}

// fastSeeds are inputs for the scanner's fuzz test: what it handles, what it must decline, and the corners
// where it must behave exactly like the fastjson path (duplicates, nulls, the first integrations.facebook).
var fastSeeds = []string{
	`{}`, ` { } `, `[]`, `{"a":1,}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":nul}`, `{"a":1}x`,
	`{"a":"\u0041"}`, `{"a\u0041":1}`, `{"event_n\u0061me":"\ud83d\ude00\/\"\\","user":{"email":"a\u0040b.c"}}`,
	`{"integrations":{"facebook":{"custom_data":{"k\n":["\b\f\r\t\u2028",{"\u00e9":"\ud800"}]},"app_data":{"x":"\/"}}}}`,
	`{"url":"https:\/\/a.example\/p","x":"\ud83d\u0041","y":"\q"}`, "{\"a\":\"\t\"}", `{"a":[1,]}`, `{"a":{"b":1,}}`, `{"a" 1}`, `{"a":1 "b":2}`,
	`{"event_name":"a","event_name":"b"}`, `{"event_name":"a","event_name":null}`, `{"event_name":"a","event_name":""}`,
	`{"items":[{"product":{"id":"A"}}],"items":null}`, `{"items":[{"product":{"id":"A"}}],"items":[]}`,
	`{"items":[{"product":{"id":"A","id":"B","price":1,"price":null},"quantity":1,"quantity":"2"},{}]}`,
	`{"items":[{"product":null,"x":[{"y":{}}]}]}`, `{"items":[1]}`, `{"items":[{"product":[]}]}`,
	`{"integrations":{"facebook":null,"facebook":{"event_id":"x"}}}`,
	`{"integrations":{"google":[1,{"a":"b"}],"facebook":{"event_id":"x","zz":{"q":[]}},"facebook":3}}`,
	`{"integrations":{"facebook":{"data_processing_options":["LDU"],"data_processing_options":null}}}`,
	`{"integrations":{"facebook":{"data_processing_options":"LDU"}}}`,
	`{"integrations":{"facebook":{"user_data":{"em":"x","em":"y"},"user_data":{"ph":1},"custom_data":{"a":[1,{"b":null}],"c":-0.5e-3}}}}`,
	`{"integrations":{"facebook":{"app_data":{"advertiser_tracking_enabled":1,"extinfo":["i2",{"k":[]}]},"app_data":null}}}`,
	`{"integrations":{"facebook":{"app_data":{"a":1},"app_data":{ "b" : [ 1.5e3 , null ] }}}}`,
	`{"integrations":{"facebook":{"app_data":[]}}}`, `{"integrations":{"facebook":{"app_data":{"a":01}}}}`,
	`{"consent_categories":["1",2,null," "],"consent_categories":null}`, `{"consent_categories":" 1 , 2 "}`,
	`{"user":{"consent_categories":[[1]]}}`, `{"user":{"email":"a","nick":{"x":[true,false,null]}}}`,
	`{"context":{"event_timestamp":"1.5e3","page":{"url":"u","t":1},"device":{"ip":"","ip":"1"},"x":[]}}`,
	`{"browser":{"ip":"9","user_agent":""},"context":{"device":{"user_agent":"u"}}}`,
	`{"value":" 1 ","amount":"","id":-0,"name":1E+2,"status":true}`, `{"value":"0x10"}`, `{"value":1e400}`,
	`{"integrations":{"facebook":{"opt_out":" true ","data_processing_options_country":"2","data_processing_options_state":2.0}}}`,
	`{"x":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `}`,
	`{"x":{"y" : [ 1 , "a" , { } , [ ] ] } , "z" : null }`,
}

// FuzzJSONFastPath checks the single-pass scanner against the fastjson path: whatever the scanner accepts, the
// fastjson path accepts too and decodes to the same Event; the rest the scanner must decline.
func FuzzJSONFastPath(f *testing.F) {
	f.Add(readPurchase(f))
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	d := NewJSONDecoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast, slow Event
		errFast := d.decode(data, &fast, pathFast)
		errSlow := d.decode(data, &slow, pathSlow)
		if errors.Is(errFast, errFastDeclined) {
			return
		}
		if (errFast == nil) != (errSlow == nil) {
			t.Fatalf("scanner: %v, fastjson path: %v", errFast, errSlow)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("scanner and fastjson path differ:\n%#v\n%#v", fast, slow)
		}
	})
}

// TestJSONFastPathTaken guards the performance of the common case: ordinary events must not fall back to the
// fastjson path.
func TestJSONFastPathTaken(t *testing.T) {
	t.Parallel()
	d := NewJSONDecoder()
	for _, in := range [][]byte{
		readPurchase(t),
		[]byte(`{"event_name":"page_view","page_type":"home","x":{"y":[1,2.5e3,"z",true,null]},"user":{"email":"a@b.c"}}`),
		[]byte("{\n  \"event_name\": \"add_to_cart\",\n  \"items\": [ { \"product\": { \"id\": 7 } } ]\n}\n"),
		[]byte(`{"event_name":"purchase","type":"app","integrations":{"facebook":{"app_data":{"advertiser_tracking_enabled":1,"application_tracking_enabled":1,"extinfo":["a2","com.example","1.0","1.0","14","Pixel","en_US","CET","Carrier","1080","2400","2.6","8","128","100","Europe/Paris"]}}}}`),
	} {
		var ev Event
		if err := d.decode(in, &ev, pathFast); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}

// TestJSONFastPathStrings puts an escape or a control character at every offset of a string value, of a key
// and of a raw (custom_data) string: the scanner, which checks strings eight bytes at a time, must decode the
// escapes fastjson decodes the same way exactly like the fastjson path, and decline raw control characters and
// the escapes fastjson handles in its own best-effort way.
func TestJSONFastPathStrings(t *testing.T) {
	t.Parallel()
	d := NewJSONDecoder()
	const plain = "abcdefghijklmnopqrstuvwxyzéè日本0123456789"
	decoded := []string{`\n`, `\"`, `\\`, `\/`, `\u00e9`, `\u00E9`, `\u0000`, `\u2028`, `\ud83d\ude00`, `\b\f\r\t`}
	declined := []string{"\x00", "\x1f", "\t", `\x`, `\u12x`, `\u12g4`, `\ud800`, `\ud800x`, `\udc00\ud800`, `\ud83d\u0041`, `\'`}
	for i := 0; i <= len(plain); i++ {
		if i < len(plain) && !utf8.RuneStart(plain[i]) {
			continue
		}
		for _, esc := range append(append([]string{}, decoded...), declined...) {
			str := plain[:i] + esc + plain[i:]
			for _, in := range []string{
				`{"name":"` + str + `"}`,
				`{"` + str + `":1}`,
				`{"integrations":{"facebook":{"custom_data":{"k":["` + str + `"],"` + str + `":0}}}}`,
			} {
				var fast, slow Event
				errFast := d.decode([]byte(in), &fast, pathFast)
				errSlow := d.decode([]byte(in), &slow, pathSlow)
				if slices.Contains(declined, esc) {
					if !errors.Is(errFast, errFastDeclined) {
						t.Fatalf("%q: scanner did not decline (err %v)", in, errFast)
					}
					continue
				}
				if errFast != nil || errSlow != nil {
					t.Fatalf("%q: scanner %v, fastjson path %v", in, errFast, errSlow)
				}
				if !reflect.DeepEqual(fast, slow) {
					t.Fatalf("%q: scanner and fastjson path differ:\n%#v\n%#v", in, fast, slow)
				}
			}
		}
		in := `{"name":"` + plain[:i] + "\x7f~ " + plain[i:] + `"}`
		var ev Event
		if err := d.decode([]byte(in), &ev, pathFast); err != nil || ev.Name != plain[:i]+"\x7f~ "+plain[i:] {
			t.Fatalf("%q: err %v, name %q", in, err, ev.Name)
		}
	}
	// An escaped URL, as PHP's json_encode writes it, takes the fast path.
	var ev Event
	if err := d.decode([]byte(`{"context":{"page":{"url":"https:\/\/shop.example.com\/p?a=1"}}}`), &ev, pathFast); err != nil ||
		ev.Context.Page.URL != "https://shop.example.com/p?a=1" {
		t.Fatalf("escaped URL: err %v, url %q", err, ev.Context.Page.URL)
	}
}

// jsonValid checks raw values with the strict scanner used for error offsets (a different code path from the
// canonical encoder that produced them).
func jsonValid(b []byte) bool {
	return jsonSyntaxError(b) == nil && len(b) > 0
}

func BenchmarkJSONDecode(b *testing.B) {
	d := NewJSONDecoder()
	data := readPurchase(b)
	var ev Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(data, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONDecodeEscaped is the purchase as PHP's json_encode writes it (every '/' escaped, non-ASCII as
// \uXXXX): the single-pass scanner decodes the escapes instead of leaving the input to fastjson.
func BenchmarkJSONDecodeEscaped(b *testing.B) {
	d := NewJSONDecoder()
	data := bytes.ReplaceAll(readPurchase(b), []byte("/"), []byte(`\/`))
	data = bytes.ReplaceAll(data, []byte("é"), []byte(`\u00e9`))
	var ev Event
	if err := d.decode(data, &ev, pathFast); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(data, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseNumbersShortcut checks the strconv-free shortcuts of parseFloatText and parseIntText against strconv
// on random number texts, around the digit-count limit and with the odd forms numeric strings allow.
func TestParseNumbersShortcut(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	texts := []string{"0", "-0", "-0.0", "0.0", "1.", ".5", "-.5", "-", ".", "", "+1", "1e3", "007", "00.10",
		"999999999999999", "9999999999999999", "-999999999999999", "0.000000000000001", "123456789012345.",
		"9007199254740993", "1.7976931348623157", "4.9406564584124654", "129.9", "99.9", "1732890000000"}
	for range 200000 {
		var b []byte
		if r.IntN(4) == 0 {
			b = append(b, '-')
		}
		n := 1 + r.IntN(18)
		dot := r.IntN(n + 1)
		for i := range n {
			if i == dot && r.IntN(2) == 0 {
				b = append(b, '.')
			}
			b = append(b, byte('0'+r.IntN(10)))
		}
		texts = append(texts, string(b))
	}
	for _, txt := range texts {
		f, fok := parseFloatText([]byte(txt))
		wf, err := strconv.ParseFloat(txt, 64)
		wok := err == nil && !math.IsInf(wf, 0) && !math.IsNaN(wf)
		if fok != wok || fok && math.Float64bits(f) != math.Float64bits(wf) {
			t.Fatalf("parseFloatText(%q) = %v, %v; strconv: %v, %v", txt, f, fok, wf, err)
		}
		for _, truncate := range []bool{false, true} {
			n, problem := parseIntText([]byte(txt), truncate)
			wn, werr := strconv.ParseInt(txt, 10, 64)
			if werr == nil && (problem != "" || n != wn) {
				t.Fatalf("parseIntText(%q) = %v, %q; strconv: %v", txt, n, problem, wn)
			}
			if werr != nil && problem == "" && (!wok || n != int64(wf) || wf != math.Trunc(wf) && !truncate) {
				t.Fatalf("parseIntText(%q) = %v; strconv float: %v", txt, n, wf)
			}
		}
	}
}

// TestStrSpecial checks the word-at-a-time scan against a byte loop on random strings mixing the bytes it looks
// for, their neighbours (0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f) and bytes with the top bit set.
func TestStrSpecial(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte{'"', '\\', 0x00, 0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff, 'a', 'z'}
	want := func(b []byte) int {
		for i, c := range b {
			if c < 0x20 || c == '"' || c == '\\' {
				return i
			}
		}
		return len(b)
	}
	for range 200000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte(r.IntN(256))
			}
		}
		if got, w := strSpecial(b), want(b); got != w {
			t.Fatalf("strSpecial(%q) = %d, want %d", b, got, w)
		}
	}
}
