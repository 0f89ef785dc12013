package capi

import (
	"strings"
	"testing"
)

// Summary keeps what identifies the failure (status, code, subcode, type, fbtrace_id) and drops Facebook's texts,
// which may echo customer data; MisconfiguredError, which is logged, uses it.
func TestSummaryDropsFacebookText(t *testing.T) {
	t.Parallel()
	ge := &GraphError{HTTPStatus: 400, Code: 100, Subcode: 2804019, Type: "OAuthException", FBTraceID: "AbC123",
		Message: "Invalid parameter 198.51.100.7", UserTitle: "Bad email jane@example.com", UserMsg: "event https://x.example/?e=jane@example.com"}
	s := ge.Summary()
	if s != "graph api: HTTP 400, code 100/2804019 (OAuthException) [fbtrace_id AbC123]" {
		t.Errorf("Summary() = %q", s)
	}
	me := (&MisconfiguredError{Destination: "shop", Err: ge}).Error()
	for _, leak := range []string{"198.51.100.7", "jane@example.com"} {
		if strings.Contains(s, leak) || strings.Contains(me, leak) {
			t.Errorf("%q leaks into Summary/MisconfiguredError: %q / %q", leak, s, me)
		}
	}
	if !strings.Contains(ge.Error(), "jane@example.com") {
		t.Error("Error() must keep Facebook's text for the DLQ header")
	}
}
