package main

import (
	"strings"
	"testing"
)

// The demo names its sample categories after the DLQ reasons they end with, and says what [*] means.
func TestDemoOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	code, out, errOut := runMain(t, "demo", "--events", "400")
	if code != exitOK {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	produced, _, _ := strings.Cut(out[strings.Index(out, "produced "):], "\n")
	for _, want := range []string{"deliverable ", "no_consent ", "insufficient_user_data ", "missing_pii_for_purchase ",
		"event_too_old 1", "facebook_rejected 1", "invalid_payload 1"} {
		if !strings.Contains(produced, want) {
			t.Errorf("the produced line lacks %q: %s", want, produced)
		}
	}
	for _, want := range []string{"dead-lettered invalid_payload              [*] 1", "[*] is every destination", "demo OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
}
