package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// preview names every user_data field normalization dropped, and why, on accepted and rejected lines alike, and
// never shows the dropped value; a line with nothing dropped has no "dropped" member.
func TestPreviewDropped(t *testing.T) {
	t.Setenv("CAPI_DEFAULT_PHONE_REGION", "FR")
	const ctx = `"context":{"event_timestamp":1795960800000,"page":{"url":"https://shop.example.com/"},"device":{"ip":"203.0.113.7","user_agent":"Mozilla/5.0","cookie":"_fbp=fb.1.1795950000000.1098115397"}}`
	in := strings.Join([]string{
		`{"event_name":"generate_lead","user":{"email":"jean@example.fr","phone":"0000000000","firstname":"N/A","birthdate":"someday","city":"Lyon","country":"FR"},` + ctx + `}`,
		`{"event_name":"purchase","value":1,"currency":"EUR","user":{"email":"jean(at)example","phone":"0612","city":"Lyon"},` + ctx + `}`,
		`{"event_name":"generate_lead","user":{"email":"jean@example.fr","phone":"16505551212","city":"Lyon"},` + ctx + `}`,
	}, "\n")
	var out, errOut bytes.Buffer
	if err := runCommand(context.Background(), "preview", []string{"--now", "2026-11-29T15:00:00Z", "-"}, strings.NewReader(in), &out, &errOut); err != nil {
		t.Fatalf("preview: %v (%s)", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines:\n%s", len(lines), out.String())
	}
	want := []string{
		`{"ph":"invalid_phone","fn":"placeholder","db":"unparseable_date"}`,
		`{"em":"invalid_email","ph":"invalid_phone"}`,
		``,
	}
	for i, line := range lines {
		var o struct {
			Event    json.RawMessage `json:"event"`
			Rejected json.RawMessage `json:"rejected"`
			Dropped  json.RawMessage `json:"dropped"`
		}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		if string(o.Dropped) != want[i] {
			t.Errorf("line %d: dropped %s, want %s", i+1, o.Dropped, want[i])
		}
		for _, v := range []string{"0000000000", "someday", "jean(at)example", "0612"} {
			if strings.Contains(line, v) {
				t.Errorf("line %d shows the dropped value %q: %s", i+1, v, line)
			}
		}
	}
	if !strings.Contains(lines[1], `"reason":"missing_pii_for_purchase"`) || !strings.Contains(lines[1], "dropped: em invalid_email, ph invalid_phone") {
		t.Errorf("the rejection does not say which fields were dropped: %s", lines[1])
	}
	if !strings.Contains(lines[0], `"event":`) || !strings.Contains(lines[2], `"ph":"e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"`) {
		t.Errorf("accepted lines:\n%s\n%s", lines[0], lines[2])
	}
}
