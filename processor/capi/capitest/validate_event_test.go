package capitest

import (
	"strings"
	"testing"
	"time"
)

func ud(ev map[string]any) map[string]any { return ev["user_data"].(map[string]any) }
func cd(ev map[string]any) map[string]any { return ev["custom_data"].(map[string]any) }

// TestEventRules posts one valid event and one mutated event (index 1) per case: an accepted case proves the rule is
// not over-strict, a rejected one that it fires, with the right subcode, naming index 1, and refusing the whole
// request.
func TestEventRules(t *testing.T) {
	hour := int64(3600)
	day := 24 * hour
	tests := []struct {
		name    string
		mutate  func(ev map[string]any)
		subcode int // 0: accepted
		msg     string
	}{
		{"valid website purchase", func(map[string]any) {}, 0, ""},

		// keys
		{"unknown event key", func(ev map[string]any) { ev["eventname"] = "x" }, SubcodeInvalidParameter, `"eventname"`},
		{"all optional keys", func(ev map[string]any) {
			ev["referrer_url"] = "https://ref.example/"
			ev["opt_out"] = false
			ev["data_processing_options"] = []string{"LDU"}
			ev["data_processing_options_country"] = 1
			ev["data_processing_options_state"] = 1000
			ev["original_event_data"] = map[string]any{"event_name": "Purchase"}
			ev["attribution_data"] = map[string]any{"ad_id": "1"}
			ev["messaging_channel"] = "whatsapp"
			ev["app_data"] = map[string]any{}
		}, 0, ""},

		// event_name
		{"event_name missing", func(ev map[string]any) { delete(ev, "event_name") }, SubcodeMissingParameter, "event_name"},
		{"event_name empty", func(ev map[string]any) { ev["event_name"] = "" }, SubcodeInvalidParameter, "event_name"},
		{"event_name number", func(ev map[string]any) { ev["event_name"] = 3 }, SubcodeInvalidParameter, "event_name"},
		{"custom event", func(ev map[string]any) { ev["event_name"] = "my_custom"; delete(ev, "custom_data") }, 0, ""},

		// event_time
		{"event_time missing", func(ev map[string]any) { delete(ev, "event_time") }, SubcodeMissingParameter, "event_time"},
		{"event_time string", func(ev map[string]any) { ev["event_time"] = "1748779140" }, SubcodeInvalidParameter, "event_time"},
		{"event_time float", func(ev map[string]any) { ev["event_time"] = 1748779140.5 }, SubcodeInvalidParameter, "event_time"},
		{"event_time negative", func(ev map[string]any) { ev["event_time"] = -5 }, SubcodeInvalidParameter, "event_time"},
		{"event_time 7 days old", func(ev map[string]any) { ev["event_time"] = testNow.Unix() - 7*day }, 0, ""},
		{"event_time 7 days + 1s old", func(ev map[string]any) { ev["event_time"] = testNow.Unix() - 7*day - 1 }, SubcodeEventTooOld, "7 days"},
		{"physical_store 30 days old", func(ev map[string]any) {
			ev["action_source"] = "physical_store"
			ev["event_time"] = testNow.Unix() - 30*day
		}, 0, ""},
		{"physical_store 63 days old", func(ev map[string]any) {
			ev["action_source"] = "physical_store"
			ev["event_time"] = testNow.Unix() - 63*day
		}, SubcodeEventTooOld, "62 days"},
		{"event_time 9 min ahead", func(ev map[string]any) { ev["event_time"] = testNow.Unix() + 9*60 }, 0, ""},
		{"event_time 11 min ahead", func(ev map[string]any) { ev["event_time"] = testNow.Unix() + 11*60 }, SubcodeEventInFuture, "future"},
		{"event_time in milliseconds", func(ev map[string]any) { ev["event_time"] = testNow.UnixMilli() }, SubcodeEventInFuture, "future"},

		// action_source
		{"action_source missing", func(ev map[string]any) { delete(ev, "action_source") }, SubcodeMissingParameter, "action_source"},
		{"action_source unknown", func(ev map[string]any) { ev["action_source"] = "web" }, SubcodeInvalidParameter, "action_source"},
		{"website without url", func(ev map[string]any) { delete(ev, "event_source_url") }, SubcodeMissingParameter, "event_source_url"},
		{"website without user agent", func(ev map[string]any) { delete(ud(ev), "client_user_agent") }, SubcodeMissingParameter, "client_user_agent"},
		{"email without url nor user agent", func(ev map[string]any) {
			ev["action_source"] = "email"
			delete(ev, "event_source_url")
			delete(ud(ev), "client_user_agent")
		}, 0, ""},
		{"app without app_data", func(ev map[string]any) { ev["action_source"] = "app" }, SubcodeMissingParameter, "app_data"},
		{"app with extinfo", func(ev map[string]any) {
			ev["action_source"] = "app"
			ev["app_data"] = map[string]any{"advertiser_tracking_enabled": 1, "application_tracking_enabled": true,
				"extinfo": []string{"a2", "com.example", "1.0"}}
		}, 0, ""},
		{"app with bad extinfo", func(ev map[string]any) {
			ev["action_source"] = "app"
			ev["app_data"] = map[string]any{"advertiser_tracking_enabled": 1, "application_tracking_enabled": 1,
				"extinfo": []string{"x"}}
		}, SubcodeInvalidParameter, "extinfo"},

		// misc event params
		{"event_id number", func(ev map[string]any) { ev["event_id"] = 42 }, SubcodeInvalidParameter, "event_id"},
		{"event_source_url relative", func(ev map[string]any) { ev["event_source_url"] = "/checkout" }, SubcodeInvalidParameter, "event_source_url"},
		{"opt_out string", func(ev map[string]any) { ev["opt_out"] = "true" }, SubcodeInvalidParameter, "opt_out"},
		{"dpo not LDU", func(ev map[string]any) { ev["data_processing_options"] = []string{"GDPR"} }, SubcodeInvalidParameter, "data_processing_options"},
		{"dpo empty", func(ev map[string]any) { ev["data_processing_options"] = []string{} }, 0, ""},
		{"dpo country 2", func(ev map[string]any) { ev["data_processing_options_country"] = 2 }, SubcodeInvalidParameter, "data_processing_options_country"},
		{"dpo state 5", func(ev map[string]any) { ev["data_processing_options_state"] = 5 }, SubcodeInvalidParameter, "data_processing_options_state"},

		// user_data
		{"user_data missing", func(ev map[string]any) { delete(ev, "user_data") }, SubcodeMissingParameter, "user_data"},
		{"user_data not object", func(ev map[string]any) { ev["user_data"] = "x" }, SubcodeInvalidParameter, "user_data"},
		{"user_data unknown key", func(ev map[string]any) { ud(ev)["email"] = sha("x") }, SubcodeInvalidParameter, `"email"`},
		{"em unhashed", func(ev map[string]any) { ud(ev)["em"] = "john_smith@gmail.com" }, SubcodeNotHashed, "user_data.em"},
		{"em uppercase hex", func(ev map[string]any) { ud(ev)["em"] = strings.ToUpper(sha("x")) }, SubcodeNotHashed, "user_data.em"},
		{"em array hashed", func(ev map[string]any) { ud(ev)["em"] = []string{sha("a"), sha("b")} }, 0, ""},
		{"em array one unhashed", func(ev map[string]any) { ud(ev)["em"] = []string{sha("a"), "b"} }, SubcodeNotHashed, "user_data.em"},
		{"em empty array", func(ev map[string]any) { ud(ev)["em"] = []string{} }, SubcodeInvalidParameter, "user_data.em"},
		{"em number", func(ev map[string]any) { ud(ev)["em"] = 5 }, SubcodeInvalidParameter, "user_data.em"},
		{"ph unhashed", func(ev map[string]any) { ud(ev)["ph"] = "33612345678" }, SubcodeNotHashed, "user_data.ph"},
		{"every hashed field hashed", func(ev map[string]any) {
			for _, k := range []string{"ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country"} {
				ud(ev)[k] = sha(k)
			}
		}, 0, ""},
		{"country unhashed", func(ev map[string]any) { ud(ev)["country"] = "fr" }, SubcodeNotHashed, "user_data.country"},
		{"zp 63 hex", func(ev map[string]any) { ud(ev)["zp"] = sha("x")[:63] }, SubcodeNotHashed, "user_data.zp"},
		{"external_id clear", func(ev map[string]any) { ud(ev)["external_id"] = "customer-42" }, 0, ""},
		{"external_id array", func(ev map[string]any) { ud(ev)["external_id"] = []string{"a", sha("b")} }, 0, ""},
		{"external_id empty", func(ev map[string]any) { ud(ev)["external_id"] = "" }, SubcodeInvalidParameter, "external_id"},
		{"ipv6", func(ev map[string]any) { ud(ev)["client_ip_address"] = "2001:db8::1" }, 0, ""},
		{"ip invalid", func(ev map[string]any) { ud(ev)["client_ip_address"] = "256.1.1.1" }, SubcodeInvalidParameter, "client_ip_address"},
		{"ip with zone", func(ev map[string]any) { ud(ev)["client_ip_address"] = "fe80::1%eth0" }, SubcodeInvalidParameter, "client_ip_address"},
		{"user agent empty", func(ev map[string]any) { ud(ev)["client_user_agent"] = "" }, SubcodeInvalidParameter, "client_user_agent"},
		{"fbp bad prefix", func(ev map[string]any) { ud(ev)["fbp"] = "fb.3.1700000000000.123" }, SubcodeInvalidParameter, "fbp"},
		{"fbp seconds", func(ev map[string]any) { ud(ev)["fbp"] = "fb.1.1700000000.123" }, SubcodeInvalidParameter, "fbp"},
		{"fbp letters", func(ev map[string]any) { ud(ev)["fbp"] = "fb.1.1700000000000.12a" }, SubcodeInvalidParameter, "fbp"},
		{"fbp no random", func(ev map[string]any) { ud(ev)["fbp"] = "fb.1.1700000000000." }, SubcodeInvalidParameter, "fbp"},
		{"fbc valid", func(ev map[string]any) { ud(ev)["fbc"] = "fb.1.1554763741205.AbCdEf-_123.x" }, 0, ""},
		{"fbc raw fbclid", func(ev map[string]any) { ud(ev)["fbc"] = "IwAR2xyz" }, SubcodeInvalidParameter, "fbc"},
		{"fbc with space", func(ev map[string]any) { ud(ev)["fbc"] = "fb.1.1554763741205.Ab Cd" }, SubcodeInvalidParameter, "fbc"},
		{"lead_id integer", func(ev map[string]any) { ud(ev)["lead_id"] = 1234567890123456 }, 0, ""},
		{"madid object", func(ev map[string]any) { ud(ev)["madid"] = map[string]any{} }, SubcodeInvalidParameter, "madid"},

		// customer information
		{"user_data empty", func(ev map[string]any) {
			ev["action_source"] = "email"
			ev["user_data"] = map[string]any{}
		}, SubcodeInsufficientCustomerInfo, "customer information"},
		{"only user agent", func(ev map[string]any) {
			ev["user_data"] = map[string]any{"client_user_agent": "Mozilla/5.0"}
		}, SubcodeInsufficientCustomerInfo, "customer information"},
		{"only location + ge + ua", func(ev map[string]any) {
			ev["user_data"] = map[string]any{"ct": sha("paris"), "country": sha("fr"), "st": sha("75"),
				"zp": sha("75001"), "ge": sha("f"), "client_user_agent": "Mozilla/5.0"}
		}, SubcodeInsufficientCustomerInfo, "customer information"},
		{"db + ua", func(ev map[string]any) {
			ev["user_data"] = map[string]any{"db": sha("19970216"), "client_user_agent": "Mozilla/5.0"}
		}, SubcodeInsufficientCustomerInfo, "customer information"},
		{"fn + ge", func(ev map[string]any) {
			ev["action_source"] = "email"
			ev["user_data"] = map[string]any{"fn": sha("john"), "ge": sha("m")}
		}, SubcodeInsufficientCustomerInfo, "customer information"},
		{"ln + ge", func(ev map[string]any) {
			ev["action_source"] = "email"
			ev["user_data"] = map[string]any{"ln": sha("smith"), "ge": sha("m")}
		}, SubcodeInsufficientCustomerInfo, "customer information"},
		{"fn + ln + ge", func(ev map[string]any) {
			ev["action_source"] = "email"
			ev["user_data"] = map[string]any{"fn": sha("john"), "ln": sha("smith"), "ge": sha("m")}
		}, 0, ""},
		{"ip + ua", func(ev map[string]any) {
			ev["user_data"] = map[string]any{"client_ip_address": "192.0.2.1", "client_user_agent": "Mozilla/5.0"}
		}, 0, ""},

		// custom_data
		{"purchase without custom_data", func(ev map[string]any) { delete(ev, "custom_data") }, SubcodeMissingParameter, "custom_data.value"},
		{"purchase without currency", func(ev map[string]any) { delete(cd(ev), "currency") }, SubcodeMissingParameter, "custom_data.currency"},
		{"purchase without value", func(ev map[string]any) { delete(cd(ev), "value") }, SubcodeMissingParameter, "custom_data.value"},
		{"value string", func(ev map[string]any) { cd(ev)["value"] = "12.5" }, SubcodeInvalidParameter, "custom_data.value"},
		{"value integer", func(ev map[string]any) { cd(ev)["value"] = 12 }, 0, ""},
		{"currency 4 letters", func(ev map[string]any) { cd(ev)["currency"] = "EURO" }, SubcodeInvalidParameter, "currency"},
		{"currency lowercase", func(ev map[string]any) { cd(ev)["currency"] = "eur" }, 0, ""},
		{"currency digits", func(ev map[string]any) { cd(ev)["currency"] = "978" }, SubcodeInvalidParameter, "currency"},
		{"custom_data any key", func(ev map[string]any) {
			cd(ev)["my_param"] = map[string]any{"nested": []any{1, "x", nil}}
		}, 0, ""},
		{"custom_data not object", func(ev map[string]any) { ev["custom_data"] = []int{1} }, SubcodeInvalidParameter, "custom_data"},
		{"contents valid", func(ev map[string]any) {
			cd(ev)["contents"] = []map[string]any{{"id": "sku1", "quantity": 2, "item_price": 3.5}}
			cd(ev)["content_ids"] = []string{"sku1"}
			cd(ev)["content_type"] = "product"
			cd(ev)["num_items"] = 2
			cd(ev)["order_id"] = "o-1"
		}, 0, ""},
		{"contents without quantity", func(ev map[string]any) {
			cd(ev)["contents"] = []map[string]any{{"id": "sku1"}}
		}, SubcodeMissingParameter, "contents[0].quantity"},
		{"contents id number", func(ev map[string]any) {
			cd(ev)["contents"] = []map[string]any{{"id": 1, "quantity": 1}}
		}, SubcodeInvalidParameter, "contents[0].id"},
		{"contents quantity float", func(ev map[string]any) {
			cd(ev)["contents"] = []map[string]any{{"id": "a", "quantity": 1.5}}
		}, SubcodeInvalidParameter, "contents[0].quantity"},
		{"content_ids numbers", func(ev map[string]any) { cd(ev)["content_ids"] = []int{1} }, SubcodeInvalidParameter, "content_ids"},
		{"content_type bad", func(ev map[string]any) { cd(ev)["content_type"] = "item" }, SubcodeInvalidParameter, "content_type"},
		{"num_items float", func(ev map[string]any) { cd(ev)["num_items"] = 1.5 }, SubcodeInvalidParameter, "num_items"},
		{"order_id number", func(ev map[string]any) { cd(ev)["order_id"] = 7 }, SubcodeInvalidParameter, "order_id"},
	}
	_, ts := NewTestServer(t, testConfig())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := validEvent("bad")
			tc.mutate(ev)
			a := postJSON(t, ts.URL, body(validEvent("good"), ev))
			if tc.subcode == 0 {
				a.wantOK(t, 2)
				return
			}
			a.wantErr(t, 400, CodeParameter, tc.subcode)
			if a.err.Message != "Invalid parameter" || a.err.Type != "OAuthException" || a.err.IsTransient == nil ||
				*a.err.IsTransient || a.err.UserTitle == "" {
				t.Fatalf("not Meta's event error envelope: %s", a.raw)
			}
			mustContain(t, a.err.UserMsg, tc.msg)
			mustContain(t, a.err.UserMsg, "event at index 1")
		})
	}
}

// TestRejectedRequestRecordsNothing: a request refused for one event records none of its valid events.
func TestRejectedRequestRecordsNothing(t *testing.T) {
	s, ts := NewTestServer(t, testConfig())
	bad := validEvent("bad")
	delete(bad, "event_name")
	postJSON(t, ts.URL, body(validEvent("a"), validEvent("b"), bad)).wantErr(t, 400, 100, SubcodeMissingParameter)
	if n := len(s.Events()); n != 0 {
		t.Fatalf("recorded %d events of a rejected request", n)
	}
	st := s.Stats()
	if st.Requests != 1 || st.RejectedRequests != 1 || st.AcceptedEvents != 0 ||
		st.Rejected["100/2804008"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestErrorsNeverEchoPersonalData: the value of a bad user_data field never appears in the answer.
func TestErrorsNeverEchoPersonalData(t *testing.T) {
	_, ts := NewTestServer(t, testConfig())
	for _, mutate := range []func(map[string]any){
		func(ev map[string]any) { ud(ev)["em"] = "secret.person@example.com" },
		func(ev map[string]any) { ud(ev)["client_ip_address"] = "secret.person@example.com" },
		func(ev map[string]any) { ud(ev)["fbc"] = "secret.person@example.com" },
		func(ev map[string]any) { ud(ev)["ph"] = []string{sha("x"), "secret.person@example.com"} },
	} {
		ev := validEvent("x")
		mutate(ev)
		a := postJSON(t, ts.URL, body(ev))
		if a.status != 400 || strings.Contains(string(a.raw), "secret.person") {
			t.Fatalf("answer %d echoes personal data: %s", a.status, a.raw)
		}
	}
}

// TestFirstInvalidEventWins: with several bad events, the lowest index is reported.
func TestFirstInvalidEventWins(t *testing.T) {
	_, ts := NewTestServer(t, testConfig())
	old := validEvent("old")
	old["event_time"] = testNow.Add(-8 * 24 * time.Hour).Unix()
	unhashed := validEvent("unhashed")
	ud(unhashed)["em"] = "a@b.c"
	a := postJSON(t, ts.URL, body(validEvent("ok"), validEvent("ok2"), old, unhashed))
	a.wantErr(t, 400, 100, SubcodeEventTooOld)
	mustContain(t, a.err.UserMsg, "index 2")
}

// TestDuplicateKeys: a key repeated in an event, user_data or custom_data is refused (the sender's encoder bug).
func TestDuplicateKeys(t *testing.T) {
	_, ts := NewTestServer(t, testConfig())
	ts0 := testNow.Unix() - 10
	tmpl := `{"data":[{"event_name":"Lead","event_time":%d,"action_source":"email",%s}]}`
	for _, tc := range []struct{ name, frag, msg string }{
		{"event", `"event_name":"Lead","user_data":{"external_id":"a"}`, "event_name appears more than once"},
		{"user_data", `"user_data":{"external_id":"a","external_id":"b"}`, "user_data.external_id appears more than once"},
		{"custom_data", `"user_data":{"external_id":"a"},"custom_data":{"x":1,"x":2}`, "custom_data.x appears more than once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := postJSON(t, ts.URL, []byte(strings.Replace(strings.Replace(tmpl, "%d", itoa(ts0), 1), "%s", tc.frag, 1)))
			a.wantErr(t, 400, 100, SubcodeInvalidParameter)
			mustContain(t, a.err.UserMsg, tc.msg)
		})
	}
}
