package fbevent

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// appData is a minimal app_data Meta accepts.
const appData = `{"advertiser_tracking_enabled":1,"application_tracking_enabled":1,"extinfo":["a2","com.example.app","1.0"]}`

// validEvent passes Validate; each test case breaks exactly one rule.
func validEvent() *Event {
	return &Event{
		EventName:      "Purchase",
		EventTime:      1767225600,
		EventID:        "order-42",
		EventSourceURL: "https://shop.example/checkout",
		ActionSource:   "website",
		UserData: UserData{
			Em: hashEm, Ph: hashPh, ClientIPAddress: "192.0.2.10", ClientUserAgent: "Mozilla/5.0",
			FBC: "fb.1.1554763741205.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk",
			FBP: "fb.1.1596403881668.1116446470",
		},
		CustomData: CustomData{
			Value: 142.52, HasValue: true, Currency: "EUR",
			Contents: []Content{{ID: "sku-1", Quantity: 1, ItemPrice: 142.52, HasItemPrice: true}},
			NumItems: 1, HasNumItems: true,
			Extra: []Param{{Key: "tier", Value: []byte(`"gold"`)}},
		},
		DataProcessingOptions: []string{"LDU"}, HasDataProcessingOptions: true,
		DataProcessingOptionsCountry: 1, HasDataProcessingOptionsCountry: true,
		DataProcessingOptionsState: 1000, HasDataProcessingOptionsState: true,
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	now := time.Unix(1767225600, 0)
	const secret = "john_smith@gmail.com" // must never show up in an error
	tests := []struct {
		name   string
		mutate func(*Event)
		field  string // "" means valid
	}{
		{"valid", func(*Event) {}, ""},
		{"valid custom name with space dash underscore", func(e *Event) { e.EventName = "My custom-event_2" }, ""},
		{"valid 50 char name", func(e *Event) { e.EventName = strings.Repeat("a", 50) }, ""},
		{"valid non-website without url or ua", func(e *Event) {
			e.ActionSource, e.EventSourceURL, e.UserData.ClientUserAgent = "physical_store", "", ""
		}, ""},
		{"valid empty dpo list", func(e *Event) { e.DataProcessingOptions = nil }, ""},
		{"valid ipv6", func(e *Event) { e.UserData.ClientIPAddress = "2001:db8::1" }, ""},
		{"valid lowercase currency", func(e *Event) { e.CustomData.Currency = "usd" }, ""},
		{"valid non-purchase without value", func(e *Event) {
			e.EventName, e.CustomData = "PageView", CustomData{}
		}, ""},
		{"valid single user_data field", func(e *Event) {
			e.ActionSource, e.AppData = "app", []byte(appData)
			e.UserData = UserData{ExternalID: hashEm}
		}, ""},
		{"valid app event", func(e *Event) { e.ActionSource, e.AppData = "app", []byte(appData) }, ""},
		{"valid app event booleans and i2", func(e *Event) {
			e.ActionSource = "app"
			e.AppData = []byte(`{"advertiser_tracking_enabled":false,"application_tracking_enabled":true,"extinfo":["i2"],"campaign_ids":"x"}`)
		}, ""},
		{"valid app_data on a website event", func(e *Event) { e.AppData = []byte(`{"x":1}`) }, ""},

		{"app without app_data", func(e *Event) { e.ActionSource = "app" }, "app_data"},
		{"app_data not an object", func(e *Event) { e.ActionSource, e.AppData = "app", []byte(`["a2"]`) }, "app_data"},
		{"app_data not an object on website", func(e *Event) { e.AppData = []byte(`"a2"`) }, "app_data"},
		{"app_data invalid json", func(e *Event) { e.ActionSource, e.AppData = "app", []byte(`{"a":`) }, "app_data"},
		{"app_data duplicate key", func(e *Event) {
			e.ActionSource, e.AppData = "app", []byte(`{"advertiser_tracking_enabled":2,`+appData[1:])
		}, "app_data"},
		{"app_data without advertiser_tracking_enabled", func(e *Event) {
			e.ActionSource, e.AppData = "app", []byte(`{"application_tracking_enabled":1,"extinfo":["a2"]}`)
		}, "app_data.advertiser_tracking_enabled"},
		{"app_data tracking flag 2", func(e *Event) {
			e.ActionSource, e.AppData = "app", []byte(`{"advertiser_tracking_enabled":1,"application_tracking_enabled":2,"extinfo":["a2"]}`)
		}, "app_data.application_tracking_enabled"},
		{"app_data tracking flag string", func(e *Event) {
			e.ActionSource, e.AppData = "app", []byte(`{"advertiser_tracking_enabled":"1","application_tracking_enabled":1,"extinfo":["a2"]}`)
		}, "app_data.advertiser_tracking_enabled"},
		{"app_data without extinfo", func(e *Event) {
			e.ActionSource, e.AppData = "app", []byte(`{"advertiser_tracking_enabled":1,"application_tracking_enabled":1}`)
		}, "app_data.extinfo"},
		{"app_data extinfo empty", func(e *Event) {
			e.ActionSource, e.AppData = "app", []byte(`{"advertiser_tracking_enabled":1,"application_tracking_enabled":1,"extinfo":[]}`)
		}, "app_data.extinfo"},
		{"app_data extinfo string", func(e *Event) {
			e.ActionSource, e.AppData = "app", []byte(`{"advertiser_tracking_enabled":1,"application_tracking_enabled":1,"extinfo":"a2"}`)
		}, "app_data.extinfo"},
		{"app_data extinfo bad version", func(e *Event) {
			e.ActionSource, e.AppData = "app", []byte(`{"advertiser_tracking_enabled":1,"application_tracking_enabled":1,"extinfo":["a1"]}`)
		}, "app_data.extinfo"},

		{"event_name empty", func(e *Event) { e.EventName = "" }, "event_name"},
		{"event_name too long", func(e *Event) { e.EventName = strings.Repeat("a", 51) }, "event_name"},
		{"event_name dot", func(e *Event) { e.EventName = "my.event" }, "event_name"},
		{"event_name non-ascii", func(e *Event) { e.EventName = "achat_é" }, "event_name"},
		{"event_name holds pii", func(e *Event) { e.EventName = secret }, "event_name"},
		{"event_time zero", func(e *Event) { e.EventTime = 0 }, "event_time"},
		{"event_time negative", func(e *Event) { e.EventTime = -1 }, "event_time"},
		{"action_source empty", func(e *Event) { e.ActionSource = "" }, "action_source"},
		{"action_source unknown", func(e *Event) { e.ActionSource = "web" }, "action_source"},
		{"action_source wrong case", func(e *Event) { e.ActionSource = "Website" }, "action_source"},
		{"website without url", func(e *Event) { e.EventSourceURL = "" }, "event_source_url"},
		{"website without user agent", func(e *Event) { e.UserData.ClientUserAgent = "" }, "user_data.client_user_agent"},
		{"dpo other value", func(e *Event) { e.DataProcessingOptions = []string{"LDU", "ldu"} }, "data_processing_options"},
		{"dpo country negative", func(e *Event) { e.DataProcessingOptionsCountry = -1 }, "data_processing_options_country"},
		{"dpo state negative", func(e *Event) { e.DataProcessingOptionsState = -1 }, "data_processing_options_state"},

		{"no user_data", func(e *Event) { e.UserData = UserData{}; e.ActionSource, e.AppData = "app", []byte(appData) }, "user_data"},
		{"em clear", func(e *Event) { e.UserData.Em = secret }, "user_data.em"},
		{"ph uppercase hex", func(e *Event) { e.UserData.Ph = strings.ToUpper(hashPh) }, "user_data.ph"},
		{"fn short hex", func(e *Event) { e.UserData.Fn = hashEm[:63] }, "user_data.fn"},
		{"ln long hex", func(e *Event) { e.UserData.Ln = hashEm + "0" }, "user_data.ln"},
		{"ge clear", func(e *Event) { e.UserData.Ge = "f" }, "user_data.ge"},
		{"db clear", func(e *Event) { e.UserData.Db = "19970216" }, "user_data.db"},
		{"ct clear", func(e *Event) { e.UserData.Ct = "paris" }, "user_data.ct"},
		{"st clear", func(e *Event) { e.UserData.St = "ca" }, "user_data.st"},
		{"zp clear", func(e *Event) { e.UserData.Zp = "75001" }, "user_data.zp"},
		{"country clear", func(e *Event) { e.UserData.Country = "us" }, "user_data.country"},
		{"external_id clear", func(e *Event) { e.UserData.ExternalID = "user-1" }, "user_data.external_id"},
		{"ip garbage", func(e *Event) { e.UserData.ClientIPAddress = "192.0.2" }, "user_data.client_ip_address"},
		{"ip with zone", func(e *Event) { e.UserData.ClientIPAddress = "fe80::1%eth0" }, "user_data.client_ip_address"},
		{"ip with port", func(e *Event) { e.UserData.ClientIPAddress = "192.0.2.1:80" }, "user_data.client_ip_address"},
		{"fbc bad", func(e *Event) { e.UserData.FBC = "fb.1.1554763741205." }, "user_data.fbc"},
		{"fbp bad", func(e *Event) { e.UserData.FBP = "fb.1.1596403881668.abc" }, "user_data.fbp"},

		{"value NaN", func(e *Event) { e.CustomData.Value = math.NaN() }, "custom_data.value"},
		{"value Inf", func(e *Event) { e.CustomData.Value = math.Inf(1) }, "custom_data.value"},
		{"currency 2 letters", func(e *Event) { e.CustomData.Currency = "EU" }, "custom_data.currency"},
		{"currency digits", func(e *Event) { e.CustomData.Currency = "978" }, "custom_data.currency"},
		{"purchase without value", func(e *Event) { e.CustomData.HasValue = false }, "custom_data.value"},
		{"purchase without currency", func(e *Event) { e.CustomData.Currency = "" }, "custom_data.currency"},
		{"num_items negative", func(e *Event) { e.CustomData.NumItems = -1 }, "custom_data.num_items"},
		{"content without id", func(e *Event) {
			e.CustomData.Contents = append(e.CustomData.Contents, Content{Quantity: 1})
		}, "custom_data.contents[1].id"},
		{"content negative quantity", func(e *Event) { e.CustomData.Contents[0].Quantity = -2 }, "custom_data.contents[0].quantity"},
		{"content price NaN", func(e *Event) { e.CustomData.Contents[0].ItemPrice = math.NaN() }, "custom_data.contents[0].item_price"},
		{"extra empty key", func(e *Event) { e.CustomData.Extra[0].Key = "" }, "custom_data.extra[0]"},
		{"extra typed key", func(e *Event) { e.CustomData.Extra[0].Key = "currency" }, "custom_data.extra[0]"},
		{"extra duplicate key", func(e *Event) {
			e.CustomData.Extra = append(e.CustomData.Extra, Param{Key: "tier", Value: []byte(`1`)})
		}, "custom_data.extra[1]"},
		{"extra invalid json", func(e *Event) { e.CustomData.Extra[0].Value = []byte(`{"a":`) }, "custom_data.extra[0]"},
		{"extra empty value", func(e *Event) { e.CustomData.Extra[0].Value = nil }, "custom_data.extra[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := validEvent()
			tt.mutate(ev)
			err := Validate(ev, now)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("Validate = %v, want ErrInvalidEvent", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %T, want *ValidationError", err)
			}
			if ve.Field != tt.field {
				t.Errorf("Field = %q, want %q (problem %q)", ve.Field, tt.field, ve.Problem)
			}
			if ve.Problem == "" {
				t.Error("empty Problem")
			}
			for _, leak := range []string{secret, "paris", "75001", "192.0.2", "user-1", "my.event"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q leaks the value %q", err, leak)
				}
			}
		})
	}
}

func TestIsSHA256Hex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		want bool
	}{
		{hashEm, true},
		{strings.Repeat("0", 64), true},
		{strings.ToUpper(hashEm), false},
		{hashEm[:63], false},
		{hashEm + "a", false},
		{strings.Repeat("g", 64), false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsSHA256Hex(tt.s); got != tt.want {
			t.Errorf("IsSHA256Hex(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestIsSHA256HexEveryByte puts every byte value at every position of a digest and compares with the
// definition, so each lane of the word-at-a-time check is covered.
func TestIsSHA256HexEveryByte(t *testing.T) {
	t.Parallel()
	ref := func(s string) bool {
		if len(s) != 64 {
			return false
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
		return true
	}
	digest := []byte(hashEm)
	for pos := range digest {
		for c := range 256 {
			b := append([]byte{}, digest...)
			b[pos] = byte(c)
			if got, want := IsSHA256Hex(string(b)), ref(string(b)); got != want {
				t.Fatalf("IsSHA256Hex with %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
	// Every pair of byte values in neighbouring lanes, inside a word and across words: a carry out of one byte
	// must not hide the next one.
	for _, pos := range []int{0, 3, 6, 7, 62} {
		for c := range 256 {
			for d := range 256 {
				b := append([]byte{}, digest...)
				b[pos], b[pos+1] = byte(c), byte(d)
				if got, want := IsSHA256Hex(string(b)), ref(string(b)); got != want {
					t.Fatalf("IsSHA256Hex with %#x %#x at %d = %v, want %v", c, d, pos, got, want)
				}
			}
		}
	}
}

// BenchmarkValidate is the validation of a full, valid event.
func BenchmarkValidate(b *testing.B) {
	ev := validEvent()
	ev.UserData.Fn, ev.UserData.Ln, ev.UserData.Ct, ev.UserData.ExternalID = hashEm, hashPh, hashEm, hashPh
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(ev, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestValidFBPAndFBC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s        string
		fbp, fbc bool
	}{
		{"fb.1.1596403881668.1116446470", true, true},
		{"fb.0.1596403881668.1", true, true},
		{"fb.2.1596403881668.42", true, true},
		{"fb.1.1554763741205.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk", false, true},
		{"fb.1.1554763741205.AbC.dEf", false, true}, // fbclid is opaque
		{"fb.3.1596403881668.1", false, false},      // subdomain index 0-2
		{"fb.1.159640388166.1", false, false},       // 12-digit timestamp
		{"fb.1.15964038816680.1", false, false},     // 14-digit timestamp (the dot is missing at its place)
		{"fb.1.1596403881668.", false, false},       // empty tail
		{"fb.1.1596403881668", false, false},        // no tail
		{"fb.1.159640388166a.1", false, false},      // non-digit timestamp
		{"FB.1.1596403881668.1", false, false},
		{"fb1.1596403881668.1", false, false},
		{"fb.1.1596403881668.-1", false, true},
		{"", false, false},
	}
	for _, tt := range tests {
		if got := ValidFBP(tt.s); got != tt.fbp {
			t.Errorf("ValidFBP(%q) = %v, want %v", tt.s, got, tt.fbp)
		}
		if got := ValidFBC(tt.s); got != tt.fbc {
			t.Errorf("ValidFBC(%q) = %v, want %v", tt.s, got, tt.fbc)
		}
	}
}

func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()
	err := error(&ValidationError{Field: "user_data.em", Problem: "not hashed"})
	if got, want := err.Error(), "invalid server event: user_data.em: not hashed"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestValidateNamesEveryHashedField breaks each hashed user_data field in turn, with the others set to valid
// digests, and checks the error names that field.
func TestValidateNamesEveryHashedField(t *testing.T) {
	t.Parallel()
	fields := func(u *UserData) []struct {
		key string
		v   *string
	} {
		return []struct {
			key string
			v   *string
		}{
			{"em", &u.Em}, {"ph", &u.Ph}, {"fn", &u.Fn}, {"ln", &u.Ln}, {"ge", &u.Ge}, {"db", &u.Db}, {"ct", &u.Ct},
			{"st", &u.St}, {"zp", &u.Zp}, {"country", &u.Country}, {"external_id", &u.ExternalID},
		}
	}
	for i := range fields(&UserData{}) {
		ev := validEvent()
		for _, f := range fields(&ev.UserData) {
			*f.v = hashEm
		}
		f := fields(&ev.UserData)[i]
		*f.v = "not-hashed"
		var verr *ValidationError
		if err := Validate(ev, time.Time{}); !errors.As(err, &verr) || verr.Field != "user_data."+f.key {
			t.Errorf("%s not hashed: err = %v", f.key, err)
		}
	}
}
