package capitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func control(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestControlFaults(t *testing.T) {
	s, ts := NewTestServer(t, testConfig())
	code, b := control(t, http.MethodGet, ts.URL+"/_sim/faults", "")
	if code != 200 || !bytes.Contains(b, []byte(`"latency":"0s"`)) {
		t.Fatalf("GET faults: %d %s", code, b)
	}
	for _, method := range []string{http.MethodPut, http.MethodPost} {
		code, b = control(t, method, ts.URL+"/_sim/faults", `{"latency":"5ms","fail_next":1,"poisoned_event_ids":["p"]}`)
		if code != 200 {
			t.Fatalf("%s faults: %d %s", method, code, b)
		}
		if f := s.Faults(); f.Latency != 5*time.Millisecond || f.FailNext != 1 || f.PoisonedEventIDs[0] != "p" {
			t.Fatalf("faults %+v", f)
		}
	}
	// Replace, not merge.
	control(t, http.MethodPut, ts.URL+"/_sim/faults", `{"throttle":true}`)
	if f := s.Faults(); f.FailNext != 0 || !f.Throttle || f.Latency != 0 {
		t.Fatalf("faults %+v", f)
	}
	for _, bad := range []string{`{"error_rate":3}`, `{"unknown":1}`, `not json`, `{"latency":"x"}`} {
		if code, b := control(t, http.MethodPut, ts.URL+"/_sim/faults", bad); code != 400 ||
			!bytes.Contains(b, []byte(`"error"`)) {
			t.Fatalf("PUT %s: %d %s", bad, code, b)
		}
	}
	if f := s.Faults(); !f.Throttle {
		t.Fatal("a refused PUT changed the faults")
	}
	if code, _ := control(t, http.MethodDelete, ts.URL+"/_sim/faults", ""); code != 405 {
		t.Fatalf("DELETE faults: %d", code)
	}
}

func TestControlRecords(t *testing.T) {
	cfg := twoPixelConfig()
	s, ts := NewTestServer(t, cfg)
	postJSON(t, ts.URL, body(validEvent("a"), validEvent("a"))).wantOK(t, 2)
	req := newReq(t, http.MethodPost, ts.URL+"/v24.0/"+otherPixel+"/events?access_token=EAAother", "application/json",
		body(validEvent("z")))
	do(t, req).wantOK(t, 1)

	code, b := control(t, http.MethodGet, ts.URL+"/_sim/events", "")
	var evs []ReceivedEvent
	if err := json.Unmarshal(b, &evs); code != 200 || err != nil || len(evs) != 3 || evs[2].PixelID != otherPixel {
		t.Fatalf("events: %d %s", code, b)
	}
	var raw map[string]any
	if err := json.Unmarshal(evs[0].Raw, &raw); err != nil || raw["event_id"] != "a" {
		t.Fatalf("raw event %s", evs[0].Raw)
	}
	_, b = control(t, http.MethodGet, ts.URL+"/_sim/events?pixel_id="+otherPixel, "")
	if err := json.Unmarshal(b, &evs); err != nil || len(evs) != 1 || evs[0].EventID != "z" {
		t.Fatalf("filtered events: %s", b)
	}
	_, b = control(t, http.MethodGet, ts.URL+"/_sim/event_ids", "")
	var ids map[string]int
	if err := json.Unmarshal(b, &ids); err != nil || ids["a"] != 2 || ids["z"] != 1 {
		t.Fatalf("event ids: %s", b)
	}
	_, b = control(t, http.MethodGet, ts.URL+"/_sim/stats", "")
	var st Stats
	if err := json.Unmarshal(b, &st); err != nil || st.Requests != 2 || st.AcceptedEvents != 3 || st.DuplicateEvents != 1 {
		t.Fatalf("stats: %s", b)
	}

	if code, _ := control(t, http.MethodGet, ts.URL+"/_sim/reset", ""); code != 405 {
		t.Fatalf("GET reset: %d", code)
	}
	if code, _ := control(t, http.MethodPost, ts.URL+"/_sim/reset", ""); code != 200 {
		t.Fatalf("POST reset: %d", code)
	}
	_, b = control(t, http.MethodGet, ts.URL+"/_sim/events", "")
	if strings.TrimSpace(string(b)) != "[]" || len(s.EventIDs()) != 0 || s.Stats().Requests != 0 {
		t.Fatalf("after reset: %s", b)
	}
	if code, _ := control(t, http.MethodGet, ts.URL+"/_sim/nope", ""); code != 404 {
		t.Fatalf("unknown endpoint: %d", code)
	}
}

// TestControlIgnoresFaults: the harness must reach the simulator while it misbehaves, and is not counted.
func TestControlIgnoresFaults(t *testing.T) {
	cfg := testConfig()
	cfg.Faults = Faults{Disconnect: true, Latency: time.Second, Throttle: true}
	s, ts := NewTestServer(t, cfg)
	start := time.Now()
	if code, _ := control(t, http.MethodGet, ts.URL+"/_sim/stats", ""); code != 200 {
		t.Fatalf("stats: %d", code)
	}
	if code, _ := control(t, http.MethodPut, ts.URL+"/_sim/faults", `{}`); code != 200 {
		t.Fatalf("faults: %d", code)
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Fatal("control endpoints suffered the injected latency")
	}
	if s.Stats().Requests != 0 {
		t.Fatal("control requests counted as Graph requests")
	}
}
