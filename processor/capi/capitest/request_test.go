package capitest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const otherPixel = "555"

func twoPixelConfig() Config {
	cfg := testConfig()
	cfg.AccessTokens = map[string]string{testPixel: testToken, otherPixel: "EAAother"}
	return cfg
}

func newReq(t *testing.T, method, url, contentType string, b []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func proof(secret, token string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

func TestRequestRules(t *testing.T) {
	one := body(validEvent("e1"))
	form := url.Values{"data": {string(one[len(`{"data":`) : len(one)-1])}, "access_token": {testToken}}.Encode()
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("data", string(one[len(`{"data":`):len(one)-1]))
	_ = mw.WriteField("access_token", testToken)
	_ = mw.Close()
	many := func(n int) []byte {
		evs := make([]any, n)
		for i := range evs {
			evs[i] = validEvent("e" + itoa(int64(i)))
		}
		return body(evs...)
	}
	const js = "application/json"
	q := "?access_token=" + testToken

	tests := []struct {
		name          string
		method, path  string
		contentType   string
		body          []byte
		header        map[string]string
		status        int
		code, subcode int
		n             int // events_received when 200
		msg           string
	}{
		{name: "json body", path: testPath + q, contentType: js, body: one, status: 200, n: 1},
		{name: "json with charset", path: testPath + q, contentType: "application/json; charset=utf-8", body: one, status: 200, n: 1},
		{name: "token in body", path: testPath, contentType: js, body: []byte(`{"access_token":"` + testToken + `","data":` + string(one[8:])), status: 200, n: 1},
		{name: "bearer token", path: testPath, contentType: js, body: one, header: map[string]string{"Authorization": "Bearer " + testToken}, status: 200, n: 1},
		{name: "oauth token", path: testPath, contentType: js, body: one, header: map[string]string{"Authorization": "OAuth " + testToken}, status: 200, n: 1},
		{name: "form urlencoded", path: testPath, contentType: "application/x-www-form-urlencoded", body: []byte(form), status: 200, n: 1},
		{name: "multipart", path: testPath, contentType: mw.FormDataContentType(), body: mp.Bytes(), status: 200, n: 1},
		{name: "data as JSON string", path: testPath + q, contentType: js, body: []byte(`{"data":` + strconvQuote(string(one[8:len(one)-1])) + `}`), status: 200, n: 1},
		{name: "all top-level params", path: testPath + q, contentType: js, body: []byte(`{"data":` + string(one[8:len(one)-1]) +
			`,"test_event_code":"TEST123","partner_agent":"capi-connector","namespace_id":"1","upload_id":2,"upload_tag":"t","upload_source":"s"}`), status: 200, n: 1},
		{name: "1000 events", path: testPath + q, contentType: js, body: many(1000), status: 200, n: 1000},

		{name: "no token", path: testPath, contentType: js, body: one, status: 400, code: 104, msg: "access token is required"},
		{name: "wrong token", path: "/v24.0/" + testPixel + "/events?access_token=nope", contentType: js, body: one, status: 400, code: 190},
		{name: "unknown pixel", path: "/v24.0/777/events" + q, contentType: js, body: one, status: 400, code: 100, subcode: 33, msg: "Object with ID '777' does not exist"},
		{name: "other pixel's token", path: "/v24.0/" + otherPixel + "/events" + q, contentType: js, body: one, status: 400, code: 100, subcode: 33},
		{name: "pixel not numeric", path: "/v24.0/mypixel/events" + q, contentType: js, body: one, status: 404, code: 803},
		{name: "deprecated version", path: "/v17.0/" + testPixel + "/events" + q, contentType: js, body: one, status: 400, code: 2635, msg: "v25.0"},
		{name: "future version", path: "/v99.0/" + testPixel + "/events" + q, contentType: js, body: one, status: 400, code: 2500},
		{name: "no version", path: "/" + testPixel + "/events" + q, contentType: js, body: one, status: 400, code: 2500},
		{name: "wrong edge", path: "/v24.0/" + testPixel + "/event" + q, contentType: js, body: one, status: 400, code: 2500},
		{name: "node only", path: "/v24.0/" + testPixel + q, contentType: js, body: one, status: 400, code: 2500},
		{name: "GET", method: http.MethodGet, path: testPath + q, status: 400, code: 100, subcode: 33, msg: "Unsupported get request"},
		{name: "DELETE", method: http.MethodDelete, path: testPath + q, status: 400, code: 100, subcode: 33, msg: "Unsupported delete request"},
		{name: "text/plain body ignored", path: testPath + q, contentType: "text/plain", body: one, status: 400, code: 100, msg: "data is required"},
		{name: "no content type", path: testPath + q, body: one, status: 400, code: 100, msg: "data is required"},
		{name: "data missing", path: testPath + q, contentType: js, body: []byte(`{"test_event_code":"X"}`), status: 400, code: 100, msg: "data is required"},
		{name: "data empty", path: testPath + q, contentType: js, body: []byte(`{"data":[]}`), status: 400, code: 100, msg: "non-empty"},
		{name: "data object", path: testPath + q, contentType: js, body: []byte(`{"data":{}}`), status: 400, code: 100, msg: "array"},
		{name: "data string not array", path: testPath + q, contentType: js, body: []byte(`{"data":"{}"}`), status: 400, code: 100, msg: "array"},
		{name: "1001 events", path: testPath + q, contentType: js, body: many(1001), status: 400, code: 100, msg: "at most 1000"},
		{name: "invalid json", path: testPath + q, contentType: js, body: []byte(`{"data":[{]}`), status: 400, code: 100, msg: "not valid JSON"},
		{name: "NaN", path: testPath + q, contentType: js, body: []byte(`{"data":[{"event_time":NaN}]}`), status: 400, code: 100, msg: "not valid JSON"},
		{name: "body is array", path: testPath + q, contentType: js, body: []byte(`[]`), status: 400, code: 100, msg: "JSON object"},
		{name: "unknown top-level key", path: testPath + q, contentType: js, body: []byte(`{"data":[],"events":[]}`), status: 400, code: 100, msg: "events is not a valid parameter"},
		{name: "unknown query param", path: testPath + q + "&debug=all", contentType: js, body: one, status: 400, code: 100, msg: "debug"},
		{name: "token twice", path: testPath + q, contentType: js, body: []byte(`{"access_token":"x","data":[]}`), status: 400, code: 100, msg: "more than once"},
		{name: "test_event_code number", path: testPath + q, contentType: js, body: []byte(`{"data":[],"test_event_code":5}`), status: 400, code: 100, msg: "must be a string"},
		{name: "event not object", path: testPath + q, contentType: js, body: []byte(`{"data":[1]}`), status: 400, code: 100, subcode: SubcodeInvalidParameter},
	}
	_, ts := NewTestServer(t, twoPixelConfig())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := newReq(t, method, ts.URL+tc.path, tc.contentType, tc.body)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			a := do(t, req)
			if tc.status == 200 {
				a.wantOK(t, tc.n)
				return
			}
			a.wantErr(t, tc.status, tc.code, tc.subcode)
			mustContain(t, a.err.Message+" "+a.err.UserMsg, tc.msg)
		})
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestAppSecretProof(t *testing.T) {
	cfg := testConfig()
	cfg.AppSecret = "s3cret"
	_, ts := NewTestServer(t, cfg)
	one := body(validEvent("e1"))
	good := proof("s3cret", testToken)
	for _, tc := range []struct {
		name, query string
		status      int
		msg         string
	}{
		{"valid proof", "&appsecret_proof=" + good, 200, ""},
		{"missing proof", "", 400, "require an appsecret_proof"},
		{"wrong proof", "&appsecret_proof=" + proof("other", testToken), 400, "Invalid appsecret_proof"},
		{"uppercase hex proof", "&appsecret_proof=" + strings.ToUpper(good), 200, ""},
		{"not hex", "&appsecret_proof=zz", 400, "Invalid appsecret_proof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, newReq(t, http.MethodPost, ts.URL+testPath+"?access_token="+testToken+tc.query, "application/json", one))
			if tc.status == 200 {
				a.wantOK(t, 1)
				return
			}
			a.wantErr(t, 400, 100, 0)
			if a.err.Type != "GraphMethodException" {
				t.Fatalf("type %q", a.err.Type)
			}
			mustContain(t, a.err.Message, tc.msg)
		})
	}
	// The proof may also travel in the JSON body.
	b := []byte(`{"appsecret_proof":"` + good + `","data":` + string(one[8:]))
	do(t, newReq(t, http.MethodPost, ts.URL+testPath+"?access_token="+testToken, "application/json", b)).wantOK(t, 1)
}

func TestAcceptAnyPixel(t *testing.T) {
	cfg := testConfig()
	cfg.AcceptAnyPixel = true
	_, ts := NewTestServer(t, cfg)
	one := body(validEvent("e1"))
	do(t, newReq(t, http.MethodPost, ts.URL+"/v24.0/42/events?access_token=anything", "application/json", one)).wantOK(t, 1)
	// A configured pixel keeps its own token.
	do(t, newReq(t, http.MethodPost, ts.URL+testPath+"?access_token=anything", "application/json", one)).wantErr(t, 400, 100, 33)
	do(t, newReq(t, http.MethodPost, ts.URL+"/v24.0/42/events", "application/json", one)).wantErr(t, 400, 104, 0)
}

func TestBodyTooLarge(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 1024
	_, ts := NewTestServer(t, cfg)
	evs := make([]any, 20)
	for i := range evs {
		evs[i] = validEvent("e")
	}
	postJSON(t, ts.URL, body(evs...)).wantErr(t, 413, 100, 0)
}

func TestRecording(t *testing.T) {
	s, ts := NewTestServer(t, twoPixelConfig())
	b := []byte(`{"data":` + string(body(validEvent("a"), validEvent("b"))[8:len(body(validEvent("a"), validEvent("b")))-1]) + `,"test_event_code":"TEST1"}`)
	postJSON(t, ts.URL, b).wantOK(t, 2)
	postJSON(t, ts.URL, body(validEvent("a"))).wantOK(t, 1) // a redelivery
	noID := validEvent("")
	delete(noID, "event_id")
	postJSON(t, ts.URL, body(noID)).wantOK(t, 1)

	evs := s.Events()
	if len(evs) != 4 {
		t.Fatalf("recorded %d events, want 4", len(evs))
	}
	e := evs[0]
	if e.PixelID != testPixel || e.EventID != "a" || e.EventName != "Purchase" || e.ActionSource != "website" ||
		e.EventTime != testNow.Unix()-60 || e.TestEventCode != "TEST1" || !e.ReceivedAt.Equal(testNow) {
		t.Fatalf("recorded %+v", e)
	}
	if !strings.HasPrefix(string(e.Raw), `{"action_source":"website","custom_data":{"currency":"EUR","value":12.5}`) {
		t.Fatalf("raw %s", e.Raw)
	}
	if evs[2].TestEventCode != "" || evs[2].EventID != "a" || evs[3].EventID != "" {
		t.Fatalf("recorded %+v", evs[2:])
	}
	ids := s.EventIDs()
	if len(ids) != 2 || ids["a"] != 2 || ids["b"] != 1 {
		t.Fatalf("event ids %v", ids)
	}
	st := s.Stats()
	if st.Requests != 3 || st.AcceptedRequests != 3 || st.AcceptedEvents != 4 || st.DuplicateEvents != 1 ||
		st.RejectedRequests != 0 {
		t.Fatalf("stats %+v", st)
	}
	s.Reset()
	if len(s.Events()) != 0 || len(s.EventIDs()) != 0 || s.Stats().Requests != 0 {
		t.Fatal("Reset kept records")
	}
}

func TestRecordLimit(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRecordedEvents = 8
	s, ts := NewTestServer(t, cfg)
	for i := range 20 {
		postJSON(t, ts.URL, body(validEvent("e"+itoa(int64(i))))).wantOK(t, 1)
	}
	evs := s.Events()
	if len(evs) > 8 || len(evs) == 0 || evs[len(evs)-1].EventID != "e19" {
		t.Fatalf("kept %d events, last %+v", len(evs), evs[len(evs)-1])
	}
	if s.Stats().AcceptedEvents != 20 {
		t.Fatal("stats must keep counting beyond the record limit")
	}

	cfg.MaxRecordedEvents = -1
	s, ts = NewTestServer(t, cfg)
	postJSON(t, ts.URL, body(validEvent("x"))).wantOK(t, 1)
	if len(s.Events()) != 0 || s.EventIDs()["x"] != 1 {
		t.Fatal("negative MaxRecordedEvents must record no event but still count IDs")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no pixel":        {},
		"non-numeric":     {AccessTokens: map[string]string{"abc": "t"}},
		"empty token":     {AccessTokens: map[string]string{"1": ""}},
		"bad version":     {AcceptAnyPixel: true, Versions: []string{"24.0"}},
		"bad faults":      {AcceptAnyPixel: true, Faults: Faults{ErrorRate: 2}},
		"negative body":   {AcceptAnyPixel: true, MaxBodyBytes: -1},
		"bad fault code":  {AcceptAnyPixel: true, Faults: Faults{ThrottleCode: 99}},
		"bad error state": {AcceptAnyPixel: true, Faults: Faults{ErrorStatus: 404}},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: got %v, want ErrInvalidConfig", name, err)
		}
	}
}

// TestGolden pins whole answers byte for byte (fbtrace_id fixed by Config.TraceID).
func TestGolden(t *testing.T) {
	cfg := testConfig()
	cfg.Faults.PoisonedEventIDs = []string{"poison"}
	s, ts := NewTestServer(t, cfg)
	old := validEvent("old")
	old["event_time"] = testNow.Add(-8 * 24 * time.Hour).Unix()
	unhashed := validEvent("u")
	ud(unhashed)["em"] = "a@b.c"
	weak := validEvent("w")
	weak["user_data"] = map[string]any{"client_user_agent": "Mozilla/5.0"}
	for _, tc := range []struct {
		name   string
		body   []byte
		faults *Faults
	}{
		{"success", body(validEvent("a"), validEvent("b")), nil},
		{"event_too_old", body(validEvent("a"), old), nil},
		{"unhashed", body(unhashed), nil},
		{"insufficient", body(weak), nil},
		{"poisoned", body(validEvent("a"), validEvent("poison")), nil},
		{"too_many", nil, nil},
		{"throttled", body(validEvent("a")), &Faults{Throttle: true}},
		{"token_expired", body(validEvent("a")), &Faults{TokenExpired: true}},
		{"server_error", body(validEvent("a")), &Faults{FailNext: 1, ErrorStatus: 503}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.faults != nil {
				f := *tc.faults
				f.PoisonedEventIDs = []string{"poison"}
				if err := s.SetFaults(f); err != nil {
					t.Fatal(err)
				}
				defer func() { _ = s.SetFaults(cfg.Faults) }()
			}
			b := tc.body
			if b == nil {
				evs := make([]any, 1001)
				for i := range evs {
					evs[i] = validEvent("x")
				}
				b = body(evs...)
			}
			a := postJSON(t, ts.URL, b)
			got := append(append([]byte(itoa(int64(a.status))+"\n"), a.raw...), '\n')
			path := filepath.Join("testdata", "answers", tc.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("answer differs from %s:\n got %s\nwant %s", path, got, want)
			}
		})
	}
}
