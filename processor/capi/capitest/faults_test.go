package capitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLatency(t *testing.T) {
	cfg := testConfig()
	cfg.Faults.Latency = 80 * time.Millisecond
	s, ts := NewTestServer(t, cfg)
	start := time.Now()
	postJSON(t, ts.URL, body(validEvent("a"))).wantOK(t, 1)
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Fatalf("answered after %v, want >= 80ms", d)
	}

	// A client that gives up during the latency: nothing recorded, the request counted as abandoned.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	req := newReq(t, http.MethodPost, ts.URL+testPath+"?access_token="+testToken, "application/json", body(validEvent("b")))
	if _, err := http.DefaultClient.Do(req.WithContext(ctx)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	waitFor(t, func() bool { return s.Stats().Abandoned == 1 })
	if st := s.Stats(); st.AcceptedEvents != 1 || len(s.Events()) != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached within 2s")
}

func TestDisconnect(t *testing.T) {
	cfg := testConfig()
	cfg.Faults.Disconnect = true
	s, ts := NewTestServer(t, cfg)
	req := newReq(t, http.MethodPost, ts.URL+testPath+"?access_token="+testToken, "application/json", body(validEvent("a")))
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("want a network error, got HTTP %d", resp.StatusCode)
	}
	if st := s.Stats(); st.Disconnected != 1 || st.Requests != 1 || st.AcceptedEvents != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFailNext(t *testing.T) {
	cfg := testConfig()
	cfg.Faults.FailNext = 2
	s, ts := NewTestServer(t, cfg)
	for i := range 2 {
		a := postJSON(t, ts.URL, body(validEvent("a")))
		a.wantErr(t, 500, CodeServiceUnavailable, 0)
		if a.err.IsTransient == nil || !*a.err.IsTransient {
			t.Fatalf("request %d: injected error must be transient: %s", i, a.raw)
		}
	}
	postJSON(t, ts.URL, body(validEvent("a"))).wantOK(t, 1)
	if f := s.Faults(); f.FailNext != 0 {
		t.Fatalf("FailNext left at %d", f.FailNext)
	}
	if st := s.Stats(); st.Rejected["2"] != 2 || st.AcceptedRequests != 1 || s.EventIDs()["a"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestErrorRate(t *testing.T) {
	cfg := testConfig()
	cfg.Faults = Faults{ErrorRate: 1, ErrorStatus: 503, ErrorCode: 1}
	s, ts := NewTestServer(t, cfg)
	a := postJSON(t, ts.URL, body(validEvent("a")))
	a.wantErr(t, 503, CodeUnknownError, 0)
	mustContain(t, a.err.Message, "An unknown error occurred")

	// A fractional rate, measured in-process to stay fast.
	if err := s.SetFaults(Faults{ErrorRate: 0.5}); err != nil {
		t.Fatal(err)
	}
	b := body(validEvent("a"))
	failed := 0
	const n = 400
	for range n {
		req := httptest.NewRequest(http.MethodPost, testPath+"?access_token="+testToken, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code == 500 {
			failed++
		} else if rec.Code != 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	if failed < n/4 || failed > 3*n/4 {
		t.Fatalf("error_rate 0.5 failed %d of %d requests", failed, n)
	}
}

func TestThrottle(t *testing.T) {
	tests := []struct {
		code, status, subcode int
		header, msg           string
	}{
		{0, 400, SubcodeThrottled, "X-Business-Use-Case-Usage", "(#80004)"},
		{80004, 400, SubcodeThrottled, "X-Business-Use-Case-Usage", "(#80004)"},
		{613, 400, 0, "X-Business-Use-Case-Usage", "(#613)"},
		{17, 403, SubcodeThrottled, "X-Business-Use-Case-Usage", "(#17)"},
		{4, 403, 0, "X-App-Usage", "(#4)"},
	}
	s, ts := NewTestServer(t, testConfig())
	for _, tc := range tests {
		t.Run(itoa(int64(tc.code)), func(t *testing.T) {
			if err := s.SetFaults(Faults{Throttle: true, ThrottleCode: tc.code, ThrottleRegainMinutes: 3}); err != nil {
				t.Fatal(err)
			}
			a := postJSON(t, ts.URL, body(validEvent("a")))
			code := tc.code
			if code == 0 {
				code = CodeAdAccountThrottle
			}
			a.wantErr(t, tc.status, code, tc.subcode)
			if a.err.IsTransient == nil || !*a.err.IsTransient {
				t.Fatalf("throttling must be transient: %s", a.raw)
			}
			mustContain(t, a.err.Message, tc.msg)
			h := a.header.Get(tc.header)
			if h == "" {
				t.Fatalf("missing %s header", tc.header)
			}
			if tc.header == "X-Business-Use-Case-Usage" {
				var usage map[string][]struct {
					Type   string `json:"type"`
					Regain int    `json:"estimated_time_to_regain_access"`
				}
				if err := json.Unmarshal([]byte(h), &usage); err != nil || len(usage[testPixel]) != 1 ||
					usage[testPixel][0].Regain != 3 {
					t.Fatalf("usage header %s (%v)", h, err)
				}
			}
		})
	}
	// Throttling comes after authentication.
	req := newReq(t, http.MethodPost, ts.URL+testPath, "application/json", body(validEvent("a")))
	do(t, req).wantErr(t, 400, CodeTokenRequired, 0)
	if len(s.Events()) != 0 {
		t.Fatal("throttled requests recorded events")
	}
}

func TestTokenExpired(t *testing.T) {
	cfg := testConfig()
	cfg.Faults.TokenExpired = true
	s, ts := NewTestServer(t, cfg)
	a := postJSON(t, ts.URL, body(validEvent("a")))
	a.wantErr(t, 400, CodeAccessToken, SubcodeTokenExpired)
	mustContain(t, a.err.Message, "Session has expired")
	if !strings.Contains(a.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("WWW-Authenticate %q", a.header.Get("WWW-Authenticate"))
	}
	// An invalid token stays invalid (190 without subcode).
	req := newReq(t, http.MethodPost, ts.URL+testPath+"?access_token=bad", "application/json", body(validEvent("a")))
	do(t, req).wantErr(t, 400, CodeAccessToken, 0)
	if err := s.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}
	postJSON(t, ts.URL, body(validEvent("a"))).wantOK(t, 1)
}

func TestPoisonedEvents(t *testing.T) {
	cfg := testConfig()
	cfg.Faults.PoisonedEventIDs = []string{"p1", "p2"}
	s, ts := NewTestServer(t, cfg)
	a := postJSON(t, ts.URL, body(validEvent("a"), validEvent("b"), validEvent("p2"), validEvent("p1")))
	a.wantErr(t, 400, CodeParameter, SubcodeInvalidParameter)
	mustContain(t, a.err.UserMsg, "index 2")
	// An invalid event is reported before a poisoned one: Meta validates first.
	bad := validEvent("c")
	delete(bad, "event_time")
	postJSON(t, ts.URL, body(validEvent("p1"), bad)).wantErr(t, 400, CodeParameter, SubcodeMissingParameter)
	// The isolated healthy events go through.
	postJSON(t, ts.URL, body(validEvent("a"), validEvent("b"))).wantOK(t, 2)
	if ids := s.EventIDs(); ids["p1"] != 0 || ids["p2"] != 0 || ids["a"] != 1 {
		t.Fatalf("ids %v", ids)
	}
}

func TestFaultsJSON(t *testing.T) {
	f := Faults{Latency: 250 * time.Millisecond, FailNext: 3, PoisonedEventIDs: []string{"x"}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, string(b), `"latency":"250ms"`)
	var back Faults
	if err := json.Unmarshal(b, &back); err != nil || back.Latency != f.Latency || back.FailNext != 3 ||
		len(back.PoisonedEventIDs) != 1 {
		t.Fatalf("round trip %+v (%v)", back, err)
	}
	if err := json.Unmarshal([]byte(`{"latency":40}`), &back); err != nil || back.Latency != 40*time.Millisecond {
		t.Fatalf("latency in ms: %v %v", back.Latency, err)
	}
	if err := json.Unmarshal([]byte(`{"latency":"soon"}`), &back); err == nil {
		t.Fatal("bad latency accepted")
	}
}

func TestFaultsValidate(t *testing.T) {
	for _, f := range []Faults{
		{Latency: -1}, {FailNext: -1}, {ErrorRate: -0.1}, {ErrorRate: 1.1}, {ErrorStatus: 404}, {ErrorCode: 3},
		{ThrottleCode: 5}, {ThrottleRegainMinutes: -1},
	} {
		if err := f.Validate(); !errors.Is(err, ErrInvalidFaults) {
			t.Errorf("%+v: got %v", f, err)
		}
	}
	if err := (Faults{ErrorRate: 1, ErrorStatus: 503, ErrorCode: 1, ThrottleCode: 613}).Validate(); err != nil {
		t.Fatal(err)
	}
}
