package capitest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	testPixel = "1234567890"
	testToken = "EAAtesttoken"
	testPath  = "/v24.0/" + testPixel + "/events"
)

// testNow is the simulator's clock in tests: event times are relative to it.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{
		AccessTokens: map[string]string{testPixel: testToken},
		Now:          func() time.Time { return testNow },
		TraceID:      func() string { return "AtestTrace0" },
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// validEvent is a website Purchase that passes every rule; tests mutate a fresh copy.
func validEvent(id string) map[string]any {
	return map[string]any{
		"event_name":       "Purchase",
		"event_time":       testNow.Unix() - 60,
		"event_id":         id,
		"event_source_url": "https://shop.example/checkout",
		"action_source":    "website",
		"user_data": map[string]any{
			"em":                sha("john_smith@gmail.com"),
			"client_ip_address": "192.0.2.1",
			"client_user_agent": "Mozilla/5.0",
			"fbp":               "fb.1.1700000000000.1234567890",
		},
		"custom_data": map[string]any{"value": 12.5, "currency": "EUR"},
	}
}

// realisticEvent is the i-th of a mix shaped like the connector's output on the end-to-end benchmark's records
// (see processor/testdata/golden): website Purchase, PageView and AddToCart events with ten hashed user_data
// keys, the client's IP, user agent and fbp (fbc for some), and physical_store purchases without the browser
// keys. Every one is valid.
func realisticEvent(i int) map[string]any {
	n := itoa(int64(i))
	user := map[string]any{
		"em": sha("user" + n + "@example.com"), "ph": sha("3361234" + n), "fn": sha("first" + itoa(int64(i%50))),
		"ln": sha("last" + itoa(int64(i%80))), "ge": sha([]string{"f", "m"}[i%2]), "db": sha("1980010" + itoa(int64(i%9))),
		"ct": sha("city" + itoa(int64(i%30))), "zp": sha("750" + itoa(int64(i%20))), "country": sha("fr"),
		"external_id": sha("customer-" + n),
	}
	contents := []any{
		map[string]any{"id": "SKU-1001", "quantity": 1 + i%3, "item_price": 129.9},
		map[string]any{"id": "SKU-4004", "quantity": 2, "item_price": 39.99},
	}[:1+i%2]
	ev := map[string]any{
		"event_time": testNow.Unix() - int64(60+i%3000), "event_id": "demo-7-" + n, "action_source": "website",
		"user_data": user,
	}
	if i%14 == 13 { // in-store purchase: customer information only, no browser
		ev["event_name"], ev["action_source"] = "Purchase", "physical_store"
		ev["custom_data"] = map[string]any{"value": 94.48, "currency": "EUR", "order_id": "STORE-demo-7-" + n,
			"contents": contents, "content_name": "Merino socks", "content_category": "socks",
			"content_type": "product", "num_items": len(contents)}
		return ev
	}
	user["client_ip_address"] = "203.0.113." + itoa(int64(i%250))
	user["client_user_agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " +
		"Chrome/131.0 Safari/537.36"
	user["fbp"] = "fb.1.1795890960940." + itoa(1000000000+int64(i)*7919)
	if i%5 == 0 {
		user["fbc"] = "fb.1.1795960800000.IwAR0abc" + n
	}
	switch i % 10 {
	case 0, 1, 2, 3, 4, 5: // Purchase
		ev["event_name"] = "Purchase"
		ev["event_source_url"] = "https://shop.example.com/checkout/confirmation"
		ev["referrer_url"] = "https://shop.example.com/cart"
		ev["custom_data"] = map[string]any{"value": 119.97, "currency": "EUR", "order_id": "ORD-demo-7-" + n,
			"contents": contents, "content_name": "Headlamp", "content_category": "accessories",
			"content_type": "product", "num_items": len(contents), "payment_method": "card"}
	case 6, 7, 8: // PageView
		ev["event_name"] = "PageView"
		ev["event_source_url"] = "https://shop.example.com/p/" + itoa(int64(i%400))
		ev["referrer_url"] = "https://shop.example.com/"
		ev["custom_data"] = map[string]any{"page_type": "product"}
	default: // AddToCart
		ev["event_name"] = "AddToCart"
		ev["event_source_url"] = "https://shop.example.com/cart"
		ev["custom_data"] = map[string]any{"value": 209.88, "currency": "EUR", "contents": contents,
			"content_name": "Trail running shoes", "content_category": "shoes", "content_type": "product",
			"num_items": len(contents)}
	}
	return ev
}

func body(events ...any) []byte {
	b, err := json.Marshal(map[string]any{"data": events})
	if err != nil {
		panic(err)
	}
	return b
}

type answer struct {
	status int
	header http.Header
	raw    []byte
	ok     struct {
		EventsReceived int      `json:"events_received"`
		Messages       []string `json:"messages"`
		TraceID        string   `json:"fbtrace_id"`
	}
	err struct {
		Message     string `json:"message"`
		Type        string `json:"type"`
		Code        int    `json:"code"`
		Subcode     int    `json:"error_subcode"`
		IsTransient *bool  `json:"is_transient"`
		UserTitle   string `json:"error_user_title"`
		UserMsg     string `json:"error_user_msg"`
		TraceID     string `json:"fbtrace_id"`
	}
}

// do sends req and decodes a Graph answer (success or error envelope).
func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	var a answer
	a.status, a.header = resp.StatusCode, resp.Header
	a.raw, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(a.raw, &a.ok); err != nil {
			t.Fatalf("success body %s: %v", a.raw, err)
		}
		return a
	}
	var env struct {
		Error *json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(a.raw, &env); err != nil || env.Error == nil {
		t.Fatalf("error body is not a Graph error envelope: %s", a.raw)
	}
	if err := json.Unmarshal(*env.Error, &a.err); err != nil {
		t.Fatal(err)
	}
	return a
}

// postJSON posts b as JSON with the test token in the query string.
func postJSON(t *testing.T, baseURL string, b []byte) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, baseURL+testPath+"?access_token="+testToken, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func (a answer) wantOK(t *testing.T, n int) {
	t.Helper()
	if a.status != http.StatusOK || a.ok.EventsReceived != n || a.ok.Messages == nil || a.ok.TraceID == "" {
		t.Fatalf("want 200 events_received=%d, got %d %s", n, a.status, a.raw)
	}
}

func (a answer) wantErr(t *testing.T, status, code, subcode int) {
	t.Helper()
	if a.status != status || a.err.Code != code || a.err.Subcode != subcode {
		t.Fatalf("want %d %d/%d, got %d %s", status, code, subcode, a.status, a.raw)
	}
	if a.err.TraceID == "" || a.err.Type == "" || a.err.Message == "" {
		t.Fatalf("incomplete Graph error: %s", a.raw)
	}
}

func mustContain(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q", s, sub)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
