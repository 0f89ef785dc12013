package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/processor/fbevent"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/schema"
)

var recordTime = time.UnixMilli(1732000000999)

func decode(tb testing.TB, js string) *schema.Event {
	tb.Helper()
	var ev schema.Event
	if err := schema.NewJSONDecoder().Decode([]byte(js), &ev); err != nil {
		tb.Fatalf("decode %s: %v", js, err)
	}
	return &ev
}

// mapJSON decodes js with the JSON decoder (so the older field names are exercised end to end) and maps it.
func mapJSON(tb testing.TB, js string, opt Options) (fbevent.Event, *reject.Rejection) {
	tb.Helper()
	var out fbevent.Event
	r := Map(decode(tb, js), Input{Raw: []byte(js), RecordTime: recordTime}, opt, &out)
	return out, r
}

func mustMap(tb testing.TB, js string, opt Options) fbevent.Event {
	tb.Helper()
	out, r := mapJSON(tb, js, opt)
	if r != nil {
		tb.Fatalf("Map(%s): %v", js, r)
	}
	return out
}

func TestMapPurchase(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../schema/testdata/purchase.json")
	if err != nil {
		t.Fatal(err)
	}
	out := mustMap(t, string(raw), Options{})
	want := fbevent.Event{
		EventName:      "Purchase",
		EventTime:      1732890000,
		EventID:        "evt-7f3a9c",
		EventSourceURL: "https://shop.example.com/confirm?fbclid=IwAR2x",
		ReferrerURL:    "https://shop.example.com/cart",
		ActionSource:   "website",
		UserData: fbevent.UserData{
			Em: "John.Smith@Example.com", Ph: "06 12 34 56 78", Fn: "John", Ln: "Smith", Ct: "Paris", Zp: "75001",
			Country: "FR", ExternalID: "C42",
			ClientIPAddress: "203.0.113.7", ClientUserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
			FBC: "fb.1.1732880000000.IwAR2x", FBP: "fb.1.1732880000000.1098115397",
		},
		CustomData: fbevent.CustomData{
			Value: 129.9, HasValue: true, Currency: "EUR", OrderID: "ORD-123",
			Contents: []fbevent.Content{
				{ID: "SKU-1", Quantity: 1, ItemPrice: 99.9, HasItemPrice: true},
				{ID: "SKU-2", Quantity: 2, ItemPrice: 15, HasItemPrice: true},
			},
			ContentName: "Shoes", ContentCategory: "shoes", ContentType: "product", NumItems: 2, HasNumItems: true,
		},
	}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("mapped\n%+v\nwant\n%+v", out, want)
	}
}

func TestEventName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"begin_checkout", "InitiateCheckout"},
		{"purchase", "Purchase"},
		{"add_to_cart", "AddToCart"},
		{"view_item", "ViewContent"},
		{"view_item_list", "ViewContent"},
		{"search", "Search"},
		{"add_payment_info", "AddPaymentInfo"},
		{"add_to_wishlist", "AddToWishlist"},
		{"generate_lead", "Lead"},
		{"page_view", "PageView"},
		{"sign_up", "CompleteRegistration"},
		{"complete_registration", "CompleteRegistration"},
		{"contact", "Contact"},
		{"customize_product", "CustomizeProduct"},
		{"donate", "Donate"},
		{"find_location", "FindLocation"},
		{"schedule", "Schedule"},
		{"start_trial", "StartTrial"},
		{"submit_application", "SubmitApplication"},
		{"subscribe", "Subscribe"},
		{"newsletter_optin", "newsletter_optin"}, // custom event under its own name
		{"Purchase", "Purchase"},                 // not in the table: sent as is
		{" purchase ", "Purchase"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			out := mustMap(t, `{"event_name":"`+tt.in+`"}`, Options{})
			if out.EventName != tt.want {
				t.Fatalf("event_name = %q, want %q", out.EventName, tt.want)
			}
		})
	}
}

func TestEventNameOverrideAndMissing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"override wins over table", `{"event_name":"purchase","integrations":{"facebook":{"event_name":"BigPurchase"}}}`, "BigPurchase"},
		{"override without event_name", `{"integrations":{"facebook":{"event_name":"Lead"}}}`, "Lead"},
		{"blank override ignored", `{"event_name":"purchase","integrations":{"facebook":{"event_name":" "}}}`, "Purchase"},
		{"missing", `{"id":"1"}`, ""},
		{"blank", `{"event_name":"  "}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, r := mapJSON(t, tt.in, Options{})
			if tt.want == "" {
				if r == nil || r.Reason != reject.MissingEventName || r.Stage != reject.StageMapping {
					t.Fatalf("rejection = %v, want missing_event_name at mapping", r)
				}
				if !reflect.DeepEqual(out, fbevent.Event{}) {
					t.Fatalf("out not reset on rejection: %+v", out)
				}
				return
			}
			if r != nil || out.EventName != tt.want {
				t.Fatalf("event_name = %q (%v), want %q", out.EventName, r, tt.want)
			}
		})
	}
}

func TestEventID(t *testing.T) {
	t.Parallel()
	hashOf := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	tests := []struct{ name, in, want string }{
		{"integrations wins", `{"event_name":"e","event_id":"root","context":{"event_id":"ctx"},"integrations":{"facebook":{"event_id":"fb"}}}`, "fb"},
		{"root next", `{"event_name":"e","event_id":"root","context":{"event_id":"ctx"}}`, "root"},
		{"context next", `{"event_name":"e","context":{"event_id":"ctx"}}`, "ctx"},
		{"numeric id", `{"event_name":"e","event_id":42}`, "42"},
		{"blank ids skipped", `{"event_name":"e","event_id":" ","context":{"event_id":"ctx"}}`, "ctx"},
		{"hash of the record bytes", `{"event_name":"e"}`, hashOf(`{"event_name":"e"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustMap(t, tt.in, Options{}).EventID; got != tt.want {
				t.Fatalf("event_id = %q, want %q", got, tt.want)
			}
		})
	}
	// Meta's dedup key must not depend on anything but the bytes: a known vector.
	var out fbevent.Event
	Map(&schema.Event{EventName: "x"}, Input{Raw: []byte("abc")}, Options{}, &out)
	if out.EventID != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("hashed event_id = %q", out.EventID)
	}
}

func TestEventTimeURLsActionSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want func(*fbevent.Event) bool
	}{
		{"event_timestamp ms to s", `{"event_name":"e","context":{"event_timestamp":1700000000999}}`,
			func(e *fbevent.Event) bool { return e.EventTime == 1700000000 }},
		{"event_timestamp string", `{"event_name":"e","context":{"event_timestamp":"1700000001000"}}`,
			func(e *fbevent.Event) bool { return e.EventTime == 1700000001 }},
		{"record time fallback", `{"event_name":"e"}`,
			func(e *fbevent.Event) bool { return e.EventTime == recordTime.Unix() }},
		{"page url and referrer", `{"event_name":"e","url":"root-u","referrer":"root-r","context":{"page":{"url":"page-u","referrer":"page-r"}}}`,
			func(e *fbevent.Event) bool { return e.EventSourceURL == "page-u" && e.ReferrerURL == "page-r" }},
		{"root url and referrer fallback", `{"event_name":"e","url":"root-u","referrer":"root-r"}`,
			func(e *fbevent.Event) bool { return e.EventSourceURL == "root-u" && e.ReferrerURL == "root-r" }},
		{"default website", `{"event_name":"e","type":"web"}`,
			func(e *fbevent.Event) bool { return e.ActionSource == "website" }},
		{"offline physical_store", `{"event_name":"e","type":"offline"}`,
			func(e *fbevent.Event) bool { return e.ActionSource == "physical_store" }},
		{"app", `{"event_name":"e","type":"app"}`,
			func(e *fbevent.Event) bool { return e.ActionSource == "app" }},
		{"mobile_app", `{"event_name":"e","type":"Mobile_App"}`,
			func(e *fbevent.Event) bool { return e.ActionSource == "app" }},
		{"action_source override", `{"event_name":"e","type":"offline","integrations":{"facebook":{"action_source":"system_generated"}}}`,
			func(e *fbevent.Event) bool { return e.ActionSource == "system_generated" }},
		{"opt_out and data processing options pass through", `{"event_name":"e","integrations":{"facebook":{"opt_out":true,"data_processing_options":["LDU"],"data_processing_options_country":1,"data_processing_options_state":1000}}}`,
			func(e *fbevent.Event) bool {
				return e.OptOut && e.HasOptOut && reflect.DeepEqual(e.DataProcessingOptions, []string{"LDU"}) && e.HasDataProcessingOptions &&
					e.DataProcessingOptionsCountry == 1 && e.HasDataProcessingOptionsCountry && e.DataProcessingOptionsState == 1000 && e.HasDataProcessingOptionsState
			}},
		{"explicit empty data processing options", `{"event_name":"e","integrations":{"facebook":{"data_processing_options":[]}}}`,
			func(e *fbevent.Event) bool {
				return e.HasDataProcessingOptions && e.DataProcessingOptions != nil && len(e.DataProcessingOptions) == 0
			}},
		{"absent options", `{"event_name":"e"}`,
			func(e *fbevent.Event) bool {
				return !e.HasOptOut && !e.HasDataProcessingOptions && !e.HasDataProcessingOptionsCountry && !e.HasDataProcessingOptionsState
			}},
		{"app_data passes through, compact", `{"event_name":"e","type":"app","integrations":{"facebook":{"app_data":{ "advertiser_tracking_enabled" : 1 ,"extinfo":["a2"]}}}}`,
			func(e *fbevent.Event) bool {
				return e.ActionSource == "app" && string(e.AppData) == `{"advertiser_tracking_enabled":1,"extinfo":["a2"]}`
			}},
		{"app_data with an action_source override", `{"event_name":"e","integrations":{"facebook":{"action_source":"app","app_data":{}}}}`,
			func(e *fbevent.Event) bool { return e.ActionSource == "app" && string(e.AppData) == `{}` }},
		{"no app_data", `{"event_name":"e","type":"app","integrations":{"facebook":{"app_data":null}}}`,
			func(e *fbevent.Event) bool { return e.ActionSource == "app" && e.AppData == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustMap(t, tt.in, Options{})
			if !tt.want(&out) {
				t.Fatalf("unexpected mapping: %+v", out)
			}
		})
	}
}

func TestUserData(t *testing.T) {
	t.Parallel()
	const h = "2f2b0c5e7bb9c5a3d6a9cfe3c1e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9012"
	tests := []struct {
		name string
		in   string
		want fbevent.UserData
	}{
		{"every user field", `{"event_name":"e","user":{"email":"em","phone":"ph","firstname":"fn","lastname":"ln","gender":"ge","birthdate":"db","city":"ct","state":"st","zipcode":"zp","country":"co","id":"xid"}}`,
			fbevent.UserData{Em: "em", Ph: "ph", Fn: "fn", Ln: "ln", Ge: "ge", Db: "db", Ct: "ct", St: "st", Zp: "zp", Country: "co", ExternalID: "xid"}},
		{"pre-hashed fields", `{"event_name":"e","user":{"email_sha256":"` + h + `","phone_sha256":"1","firstname_sha256":"2","lastname_sha256":"3","gender_sha256":"4","birthdate_sha256":"5","city_sha256":"6","state_sha256":"7","zipcode_sha256":"8","country_sha256":"9","id_sha256":"10"}}`,
			fbevent.UserData{Em: h, Ph: "1", Fn: "2", Ln: "3", Ge: "4", Db: "5", Ct: "6", St: "7", Zp: "8", Country: "9", ExternalID: "10"}},
		{"clear wins over pre-hashed", `{"event_name":"e","user":{"email":"a@b.c","email_sha256":"` + h + `"}}`,
			fbevent.UserData{Em: "a@b.c"}},
		{"numeric user id", `{"event_name":"e","user":{"id":12345}}`, fbevent.UserData{ExternalID: "12345"}},
		{"device ip and user agent", `{"event_name":"e","context":{"device":{"ip":"1.2.3.4","user_agent":"UA"}}}`,
			fbevent.UserData{ClientIPAddress: "1.2.3.4", ClientUserAgent: "UA"}},
		{"older browser.ip and browser.user_agent", `{"event_name":"e","browser":{"ip":"5.6.7.8","user_agent":"OldUA"}}`,
			fbevent.UserData{ClientIPAddress: "5.6.7.8", ClientUserAgent: "OldUA"}},
		{"context.device wins over browser", `{"event_name":"e","browser":{"ip":"5.6.7.8","user_agent":"OldUA"},"context":{"device":{"ip":"1.2.3.4","user_agent":"UA"}}}`,
			fbevent.UserData{ClientIPAddress: "1.2.3.4", ClientUserAgent: "UA"}},
		{"fbc fbp from integrations first", `{"event_name":"e","fbc":"root-c","fbp":"root-p","integrations":{"facebook":{"fbc":"fb-c","fbp":"fb-p"}},"context":{"device":{"cookie":"_fbc=ck-c; _fbp=ck-p"}}}`,
			fbevent.UserData{FBC: "fb-c", FBP: "fb-p"}},
		{"fbc fbp from root next", `{"event_name":"e","fbc":"root-c","fbp":"root-p","context":{"device":{"cookie":"_fbc=ck-c; _fbp=ck-p"}}}`,
			fbevent.UserData{FBC: "root-c", FBP: "root-p"}},
		{"fbc fbp from cookies last", `{"event_name":"e","context":{"device":{"cookie":"sid=1; _fbp=ck-p;_fbc = ck-c ; x"}}}`,
			fbevent.UserData{FBC: "ck-c", FBP: "ck-p"}},
		{"each source independently", `{"event_name":"e","fbp":"root-p","context":{"device":{"cookie":"_fbc=ck-c; _fbp=ck-p"}}}`,
			fbevent.UserData{FBC: "ck-c", FBP: "root-p"}},
		{"quoted cookie value, first occurrence wins", `{"event_name":"e","context":{"device":{"cookie":"_fbp=\"p1\"; _fbp=p2"}}}`,
			fbevent.UserData{FBP: "p1"}},
		{"lookalike cookie names ignored", `{"event_name":"e","context":{"device":{"cookie":"x_fbp=no; _fbpx=no; _fbc"}}}`,
			fbevent.UserData{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustMap(t, tt.in, Options{}).UserData; !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("user_data\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestFBCFromFBCLID(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"built from page url with event time ms", `{"event_name":"e","context":{"event_timestamp":1700000000123,"page":{"url":"https://s/p?a=1&fbclid=IwAR1&b=2"}}}`,
			"fb.1.1700000000123.IwAR1"},
		{"record time when no timestamp", `{"event_name":"e","url":"https://s/?fbclid=IwAR2"}`,
			"fb.1.1732000000999.IwAR2"},
		{"root url fallback", `{"event_name":"e","url":"https://s/?fbclid=R","context":{"event_timestamp":1000}}`, "fb.1.1000.R"},
		{"percent-decoded", `{"event_name":"e","url":"https://s/?fbclid=a%2Db","context":{"event_timestamp":1000}}`, "fb.1.1000.a-b"},
		{"fragment ignored", `{"event_name":"e","url":"https://s/?fbclid=abc#frag","context":{"event_timestamp":1000}}`, "fb.1.1000.abc"},
		{"empty fbclid", `{"event_name":"e","url":"https://s/?fbclid=&x=1"}`, ""},
		{"no query", `{"event_name":"e","url":"https://s/fbclid=abc"}`, ""},
		{"other parameter", `{"event_name":"e","url":"https://s/?xfbclid=abc"}`, ""},
		{"cookie wins", `{"event_name":"e","url":"https://s/?fbclid=abc","context":{"device":{"cookie":"_fbc=fb.1.5.ck"}}}`, "fb.1.5.ck"},
		{"root fbc wins", `{"event_name":"e","fbc":"fb.1.6.root","url":"https://s/?fbclid=abc"}`, "fb.1.6.root"},
		{"user_data override wins", `{"event_name":"e","url":"https://s/?fbclid=abc","integrations":{"facebook":{"user_data":{"fbc":"fb.1.7.ov"}}}}`, "fb.1.7.ov"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustMap(t, tt.in, Options{}).UserData.FBC; got != tt.want {
				t.Fatalf("fbc = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCustomData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want fbevent.CustomData
	}{
		{"scalars", `{"event_name":"e","value":10.5,"currency":"EUR","id":"O1","search_term":"shoes","name":"N","category":"C","status":"ok"}`,
			fbevent.CustomData{Value: 10.5, HasValue: true, Currency: "EUR", OrderID: "O1", SearchString: "shoes", ContentName: "N", ContentCategory: "C", Status: "ok"}},
		{"older amount", `{"event_name":"e","amount":101}`, fbevent.CustomData{Value: 101, HasValue: true}},
		{"value zero is sent", `{"event_name":"e","value":0}`, fbevent.CustomData{HasValue: true}},
		{"numeric order id", `{"event_name":"e","id":98765}`, fbevent.CustomData{OrderID: "98765"}},
		{"complete items give contents", `{"event_name":"e","items":[{"product":{"id":"A","price":1.5},"quantity":2},{"product":{"id":"B","price":"3"},"quantity":"1"}]}`,
			fbevent.CustomData{Contents: []fbevent.Content{{ID: "A", Quantity: 2, ItemPrice: 1.5, HasItemPrice: true}, {ID: "B", Quantity: 1, ItemPrice: 3, HasItemPrice: true}},
				ContentType: "product", NumItems: 2, HasNumItems: true}},
		{"item without price gives content_ids", `{"event_name":"e","items":[{"product":{"id":"A","price":1},"quantity":1},{"product":{"id":"B"},"quantity":1}]}`,
			fbevent.CustomData{ContentIDs: []string{"A", "B"}, ContentType: "product", NumItems: 2, HasNumItems: true}},
		{"item without quantity gives content_ids", `{"event_name":"e","items":[{"product":{"id":"A","price":1}}]}`,
			fbevent.CustomData{ContentIDs: []string{"A"}, ContentType: "product", NumItems: 1, HasNumItems: true}},
		{"item without id: ids that exist", `{"event_name":"e","items":[{"product":{"price":1},"quantity":1},{"product":{"id":"B","price":1},"quantity":1}]}`,
			fbevent.CustomData{ContentIDs: []string{"B"}, ContentType: "product", NumItems: 2, HasNumItems: true}},
		{"no ids at all", `{"event_name":"e","items":[{"quantity":1}]}`,
			fbevent.CustomData{ContentType: "product", NumItems: 1, HasNumItems: true}},
		{"price zero counts as a price", `{"event_name":"e","items":[{"product":{"id":"F","price":0},"quantity":1}]}`,
			fbevent.CustomData{Contents: []fbevent.Content{{ID: "F", Quantity: 1, HasItemPrice: true}}, ContentType: "product", NumItems: 1, HasNumItems: true}},
		{"currency name category from first item", `{"event_name":"e","items":[{"product":{"id":"A","name":"First","currency":"USD","category_3":"c3","category_4":"c4"}},{"product":{"name":"Second","currency":"EUR","category_1":"other"}}]}`,
			fbevent.CustomData{Currency: "USD", ContentName: "First", ContentCategory: "c3", ContentIDs: []string{"A"}, ContentType: "product", NumItems: 2, HasNumItems: true}},
		{"category from the first item that has one", `{"event_name":"e","items":[{"product":{"name":"First"}},{"product":{"category_2":"second-c2","category_5":"c5"}}]}`,
			fbevent.CustomData{ContentName: "First", ContentCategory: "second-c2", ContentType: "product", NumItems: 2, HasNumItems: true}},
		{"root fields win over items", `{"event_name":"e","currency":"EUR","name":"Root","category":"RootC","items":[{"product":{"name":"First","currency":"USD","category_1":"c1"}}]}`,
			fbevent.CustomData{Currency: "EUR", ContentName: "Root", ContentCategory: "RootC", ContentType: "product", NumItems: 1, HasNumItems: true}},
		{"empty items", `{"event_name":"e","items":[]}`, fbevent.CustomData{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustMap(t, tt.in, Options{}).CustomData; !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("custom_data\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestUserDataOverrides(t *testing.T) {
	t.Parallel()
	base := `"user":{"email":"e","phone":"p","firstname":"f","lastname":"l","gender":"g","birthdate":"b","city":"c","state":"s","zipcode":"z","country":"co","id":"x"},` +
		`"context":{"device":{"ip":"1.1.1.1","user_agent":"ua","cookie":"_fbc=c; _fbp=p"}}`
	tests := []struct {
		key, value string
		get        func(*fbevent.UserData) string
		want       string
	}{
		{"em", `"o@x.y"`, func(u *fbevent.UserData) string { return u.Em }, "o@x.y"},
		{"ph", `"+33 6"`, func(u *fbevent.UserData) string { return u.Ph }, "+33 6"},
		{"ph", `33612345678`, func(u *fbevent.UserData) string { return u.Ph }, "33612345678"},
		{"fn", `"Ofn"`, func(u *fbevent.UserData) string { return u.Fn }, "Ofn"},
		{"ln", `"Oln"`, func(u *fbevent.UserData) string { return u.Ln }, "Oln"},
		{"ge", `"f"`, func(u *fbevent.UserData) string { return u.Ge }, "f"},
		{"db", `"19970216"`, func(u *fbevent.UserData) string { return u.Db }, "19970216"},
		{"ct", `"Lyon"`, func(u *fbevent.UserData) string { return u.Ct }, "Lyon"},
		{"st", `"ca"`, func(u *fbevent.UserData) string { return u.St }, "ca"},
		{"zp", `"69001"`, func(u *fbevent.UserData) string { return u.Zp }, "69001"},
		{"zp", `69001`, func(u *fbevent.UserData) string { return u.Zp }, "69001"},
		{"country", `"us"`, func(u *fbevent.UserData) string { return u.Country }, "us"},
		{"external_id", `"ox"`, func(u *fbevent.UserData) string { return u.ExternalID }, "ox"},
		{"external_id", `42`, func(u *fbevent.UserData) string { return u.ExternalID }, "42"},
		{"client_ip_address", `"2001:db8::1"`, func(u *fbevent.UserData) string { return u.ClientIPAddress }, "2001:db8::1"},
		{"client_user_agent", `"OUA"`, func(u *fbevent.UserData) string { return u.ClientUserAgent }, "OUA"},
		{"fbc", `"fb.1.2.oc"`, func(u *fbevent.UserData) string { return u.FBC }, "fb.1.2.oc"},
		{"fbp", `"fb.1.2.op"`, func(u *fbevent.UserData) string { return u.FBP }, "fb.1.2.op"},
		{"em", `"esc\u0040aped"`, func(u *fbevent.UserData) string { return u.Em }, "esc@aped"},
		{"em", `""`, func(u *fbevent.UserData) string { return u.Em }, ""},
		{"em", `null`, func(u *fbevent.UserData) string { return u.Em }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			out := mustMap(t, `{"event_name":"e",`+base+`,"integrations":{"facebook":{"user_data":{"`+tt.key+`":`+tt.value+`}}}}`, Options{})
			if got := tt.get(&out.UserData); got != tt.want {
				t.Fatalf("%s = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
	t.Run("unknown keys ignored", func(t *testing.T) {
		out := mustMap(t, `{"event_name":"e","user":{"email":"e"},"integrations":{"facebook":{"user_data":{"madid":"m","em_x":"y"}}}}`, Options{})
		if !reflect.DeepEqual(out.UserData, fbevent.UserData{Em: "e"}) {
			t.Fatalf("user_data = %+v", out.UserData)
		}
	})
}

func TestCustomDataOverrides(t *testing.T) {
	t.Parallel()
	base := `"value":1,"currency":"EUR","id":"O","search_term":"s","name":"n","category":"c","status":"st",` +
		`"items":[{"product":{"id":"A","price":1},"quantity":1}]`
	tests := []struct {
		name, custom string
		want         func(*fbevent.CustomData) bool
	}{
		{"value number", `{"value":9.5}`, func(c *fbevent.CustomData) bool { return c.Value == 9.5 && c.HasValue }},
		{"value string", `{"value":"9.5"}`, func(c *fbevent.CustomData) bool { return c.Value == 9.5 && c.HasValue }},
		{"value null removes", `{"value":null}`, func(c *fbevent.CustomData) bool { return !c.HasValue && c.Value == 0 }},
		{"value empty string removes", `{"value":" "}`, func(c *fbevent.CustomData) bool { return !c.HasValue && c.Value == 0 }},
		{"num_items null removes", `{"num_items":null}`, func(c *fbevent.CustomData) bool { return !c.HasNumItems }},
		{"content_ids null removes", `{"content_ids":null}`, func(c *fbevent.CustomData) bool { return c.ContentIDs == nil }},
		{"contents null removes", `{"contents":null}`, func(c *fbevent.CustomData) bool { return c.Contents == nil }},
		{"currency null removes", `{"currency":null}`, func(c *fbevent.CustomData) bool { return c.Currency == "" }},
		{"currency", `{"currency":"USD"}`, func(c *fbevent.CustomData) bool { return c.Currency == "USD" }},
		{"order_id number", `{"order_id":77}`, func(c *fbevent.CustomData) bool { return c.OrderID == "77" }},
		{"search_string", `{"search_string":"q"}`, func(c *fbevent.CustomData) bool { return c.SearchString == "q" }},
		{"content_ids", `{"content_ids":["X",2]}`, func(c *fbevent.CustomData) bool {
			return reflect.DeepEqual(c.ContentIDs, []string{"X", "2"}) && len(c.Contents) == 1
		}},
		{"contents", `{"contents":[{"id":"X","quantity":"3","item_price":2.5},{"id":7,"quantity":1,"delivery_category":"home_delivery"}]}`,
			func(c *fbevent.CustomData) bool {
				return reflect.DeepEqual(c.Contents, []fbevent.Content{{ID: "X", Quantity: 3, ItemPrice: 2.5, HasItemPrice: true}, {ID: "7", Quantity: 1}})
			}},
		{"content_name", `{"content_name":"booking"}`, func(c *fbevent.CustomData) bool { return c.ContentName == "booking" }},
		{"content_category", `{"content_category":"cat"}`, func(c *fbevent.CustomData) bool { return c.ContentCategory == "cat" }},
		{"content_type", `{"content_type":"product_group"}`, func(c *fbevent.CustomData) bool { return c.ContentType == "product_group" }},
		{"status", `{"status":"done"}`, func(c *fbevent.CustomData) bool { return c.Status == "done" }},
		{"num_items", `{"num_items":"4"}`, func(c *fbevent.CustomData) bool { return c.NumItems == 4 && c.HasNumItems }},
		{"unknown keys are extra params in order", `{"z":"last?","your_field":"your_value","a":{"n":[1,2]},"content_name":"booking","z":"dup"}`,
			func(c *fbevent.CustomData) bool {
				return c.ContentName == "booking" && reflect.DeepEqual(c.Extra, []fbevent.Param{
					{Key: "z", Value: []byte(`"dup"`)}, {Key: "your_field", Value: []byte(`"your_value"`)}, {Key: "a", Value: []byte(`{"n":[1,2]}`)},
				})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustMap(t, `{"event_name":"e",`+base+`,"integrations":{"facebook":{"custom_data":`+tt.custom+`}}}`, Options{})
			if !tt.want(&out.CustomData) {
				t.Fatalf("custom_data = %+v", out.CustomData)
			}
		})
	}
}

func TestOverrideRejections(t *testing.T) {
	t.Parallel()
	const secret = "secret-value"
	tests := []struct{ name, fb, key string }{
		{"value text", `"custom_data":{"value":"secret-value"}`, "integrations.facebook.custom_data.value"},
		{"value bool", `"custom_data":{"value":true}`, "integrations.facebook.custom_data.value"},
		{"value NaN string", `"custom_data":{"value":"NaN"}`, "integrations.facebook.custom_data.value"},
		{"num_items fraction", `"custom_data":{"num_items":1.5}`, "integrations.facebook.custom_data.num_items"},
		{"currency object", `"custom_data":{"currency":{"v":"secret-value"}}`, "integrations.facebook.custom_data.currency"},
		{"content_ids not array", `"custom_data":{"content_ids":"secret-value"}`, "integrations.facebook.custom_data.content_ids"},
		{"content_ids with object", `"custom_data":{"content_ids":[{"id":"secret-value"}]}`, "integrations.facebook.custom_data.content_ids"},
		{"content_ids with null", `"custom_data":{"content_ids":[null]}`, "integrations.facebook.custom_data.content_ids"},
		{"contents without id", `"custom_data":{"contents":[{"quantity":1}]}`, "integrations.facebook.custom_data.contents"},
		{"contents without quantity", `"custom_data":{"contents":[{"id":"secret-value"}]}`, "integrations.facebook.custom_data.contents"},
		{"contents bad price", `"custom_data":{"contents":[{"id":"a","quantity":1,"item_price":"secret-value"}]}`, "integrations.facebook.custom_data.contents"},
		{"contents not objects", `"custom_data":{"contents":["secret-value"]}`, "integrations.facebook.custom_data.contents"},
		{"em number", `"user_data":{"em":12345}`, "integrations.facebook.user_data.em"},
		{"ph object", `"user_data":{"ph":{"n":"secret-value"}}`, "integrations.facebook.user_data.ph"},
		{"fbc array", `"user_data":{"fbc":["secret-value"]}`, "integrations.facebook.user_data.fbc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, r := mapJSON(t, `{"event_name":"e","integrations":{"facebook":{`+tt.fb+`}}}`, Options{})
			if r == nil || r.Reason != reject.InvalidPayload || r.Stage != reject.StageMapping {
				t.Fatalf("rejection = %v, want invalid_payload at mapping", r)
			}
			if !strings.Contains(r.Detail, tt.key) {
				t.Errorf("detail %q does not name %s", r.Detail, tt.key)
			}
			if strings.Contains(r.Detail, secret) || strings.Contains(r.Detail, "12345") {
				t.Errorf("detail leaks the value: %q", r.Detail)
			}
			if !reflect.DeepEqual(out, fbevent.Event{}) {
				t.Errorf("out not reset on rejection")
			}
		})
	}
}

func TestCustomDataPassthrough(t *testing.T) {
	t.Parallel()
	in := `{"event_name":"e","zz":"s","n":1.5,"b":false,"nul":null,"obj":{"a":1},"arr":[1],"order_id":"typed","dup":"root",` +
		`"integrations":{"facebook":{"custom_data":{"dup":"override","x":1}}}}`
	t.Run("off by default", func(t *testing.T) {
		out := mustMap(t, in, Options{})
		want := []fbevent.Param{{Key: "dup", Value: []byte(`"override"`)}, {Key: "x", Value: []byte(`1`)}}
		if !reflect.DeepEqual(out.CustomData.Extra, want) {
			t.Fatalf("extra = %s", params(out.CustomData.Extra))
		}
	})
	t.Run("scalars after overrides, never replacing", func(t *testing.T) {
		out := mustMap(t, in, Options{CustomDataPassthrough: true})
		want := []fbevent.Param{
			{Key: "dup", Value: []byte(`"override"`)}, {Key: "x", Value: []byte(`1`)},
			{Key: "zz", Value: []byte(`"s"`)}, {Key: "n", Value: []byte(`1.5`)}, {Key: "b", Value: []byte(`false`)},
		}
		if !reflect.DeepEqual(out.CustomData.Extra, want) {
			t.Fatalf("extra = %s", params(out.CustomData.Extra))
		}
		if out.CustomData.OrderID != "" {
			t.Fatalf("a root order_id must not become the typed order_id")
		}
	})
}

func params(ps []fbevent.Param) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Key + "=" + string(p.Value) + " ")
	}
	return b.String()
}

// TestMapDeterministicAndIndependent maps the same event twice (as two destinations would) and checks the
// outputs are equal and do not share mutable memory with each other or with the event.
func TestMapDeterministicAndIndependent(t *testing.T) {
	t.Parallel()
	js := `{"event_name":"purchase","zz":"s","items":[{"product":{"id":"A","price":1},"quantity":1},{"product":{"id":"B"}}],` +
		`"url":"https://s/?fbclid=abc","integrations":{"facebook":{"data_processing_options":["LDU"],"custom_data":{"k":"v","contents":[{"id":"C","quantity":1}]},"app_data":{"a":1}}}}`
	ev := decode(t, js)
	in := Input{Raw: []byte(js), RecordTime: recordTime}
	var a, b fbevent.Event
	if r := Map(ev, in, Options{CustomDataPassthrough: true}, &a); r != nil {
		t.Fatal(r)
	}
	if r := Map(ev, in, Options{CustomDataPassthrough: true}, &b); r != nil {
		t.Fatal(r)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("non-deterministic:\n%+v\n%+v", a, b)
	}
	before := *decode(t, js)
	a.DataProcessingOptions[0] = "changed"
	a.CustomData.Extra[0].Value[1] = 'X'
	a.CustomData.ContentIDs[0] = "changed"
	a.CustomData.Contents[0].ID = "changed"
	a.AppData[1] = 'X'
	if !reflect.DeepEqual(*ev, before) {
		t.Fatal("mutating the output changed the event")
	}
	if b.DataProcessingOptions[0] != "LDU" || string(b.CustomData.Extra[0].Value) != `"v"` || b.CustomData.ContentIDs[0] != "A" || b.CustomData.Contents[0].ID != "C" || string(b.AppData) != `{"a":1}` {
		t.Fatal("two outputs share memory")
	}
}

func TestMapResetsOut(t *testing.T) {
	t.Parallel()
	out := fbevent.Event{EventName: "old", UserData: fbevent.UserData{Em: "stale"}, CustomData: fbevent.CustomData{Extra: []fbevent.Param{{Key: "k"}}}}
	if r := Map(&schema.Event{EventName: "page_view", EventID: "1"}, Input{RecordTime: recordTime}, Options{}, &out); r != nil {
		t.Fatal(r)
	}
	want := fbevent.Event{EventName: "PageView", EventID: "1", EventTime: recordTime.Unix(), ActionSource: "website"}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("out = %+v", out)
	}
}

func BenchmarkMap(b *testing.B) {
	raw, err := os.ReadFile("../../schema/testdata/purchase.json")
	if err != nil {
		b.Fatal(err)
	}
	ev := decode(b, string(raw))
	in := Input{Raw: raw, RecordTime: recordTime}
	var out fbevent.Event
	b.ReportAllocs()
	for b.Loop() {
		if r := Map(ev, in, Options{}, &out); r != nil {
			b.Fatal(r)
		}
	}
}

// FuzzMap checks that any decodable event maps without panicking and deterministically, and that rejections
// are the documented ones.
func FuzzMap(f *testing.F) {
	raw, err := os.ReadFile("../../schema/testdata/purchase.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"event_name":"e","url":"?fbclid=%zz","integrations":{"facebook":{"custom_data":{"contents":[{"id":1,"quantity":"2"}],"value":"1e3"},"user_data":{"zp":1}}}}`))
	f.Add([]byte(`{"event_name":"e","context":{"event_timestamp":-1001,"device":{"cookie":";;=;_fbc=\""}}}`))
	d := schema.NewJSONDecoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev schema.Event
		if d.Decode(data, &ev) != nil {
			return
		}
		in := Input{Raw: data, RecordTime: recordTime}
		var a, b fbevent.Event
		ra := Map(&ev, in, Options{CustomDataPassthrough: true}, &a)
		rb := Map(&ev, in, Options{CustomDataPassthrough: true}, &b)
		if !reflect.DeepEqual(ra, rb) || !reflect.DeepEqual(a, b) {
			t.Fatalf("non-deterministic mapping")
		}
		if ra != nil && ra.Reason != reject.MissingEventName && ra.Reason != reject.InvalidPayload {
			t.Fatalf("unexpected rejection %v", ra)
		}
		if ra == nil && (a.EventName == "" || a.EventID == "") {
			t.Fatalf("accepted event without name or id: %+v", a)
		}
	})
}

// TestMapContentsBuffer: contents are built in Input.Contents when it is large enough (and in a new array when it
// is not), with the same result either way and a capacity that keeps a later append off the caller's buffer.
func TestMapContentsBuffer(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../schema/testdata/purchase.json")
	if err != nil {
		t.Fatal(err)
	}
	ev := decode(t, string(raw))
	var want fbevent.Event
	if r := Map(ev, Input{Raw: raw, RecordTime: recordTime}, Options{}, &want); r != nil {
		t.Fatal(r)
	}
	for _, size := range []int{0, 1, 2, 8} {
		buf := make([]fbevent.Content, size)
		var got fbevent.Event
		if r := Map(ev, Input{Raw: raw, RecordTime: recordTime, Contents: buf}, Options{}, &got); r != nil {
			t.Fatal(r)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("buffer of %d: mapped\n%+v\nwant\n%+v", size, got, want)
		}
		inBuf := size > 0 && &got.CustomData.Contents[0] == &buf[0]
		if inBuf != (size >= len(ev.Items)) {
			t.Errorf("buffer of %d: contents in the buffer = %v", size, inBuf)
		}
		if c := got.CustomData.Contents; cap(c) != len(c) {
			t.Errorf("buffer of %d: contents cap %d, len %d", size, cap(c), len(c))
		}
	}
}
