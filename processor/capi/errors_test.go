package capi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func graphBody(code, subcode int, transient bool, msg string) string {
	sub := ""
	if subcode != 0 {
		sub = fmt.Sprintf(`,"error_subcode":%d`, subcode)
	}
	return fmt.Sprintf(`{"error":{"message":%q,"type":"OAuthException","code":%d%s,"is_transient":%t,"fbtrace_id":"Atrace"}}`,
		msg, code, sub, transient)
}

// TestClassify covers every code docs/graph-errors.md names, the HTTP-only cases and the boundaries of the ranges.
func TestClassify(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://graph.invalid", configOptions())
	tests := []struct {
		name   string
		status int
		body   string
		want   Class
	}{
		// transient
		{"1 unknown error", 500, bodyUnknownError, Transient},
		{"2 service unavailable", 503, bodyServiceUnavailable, Transient},
		{"341 application limit", 400, graphBody(341, 0, false, "(#341) Application limit reached"), Transient},
		{"368 temporarily blocked", 400, graphBody(368, 1390008, false, "Temporarily blocked"), Transient},
		{"5000 unknown", 500, graphBody(5000, 0, false, "Unknown error"), Transient},
		{"is_transient on unknown code", 400, graphBody(12345, 0, true, "try later"), Transient},
		{"is_transient on code 100", 400, graphBody(100, 0, true, "try later"), Transient},
		{"500 html", 500, "<html><body>Internal Server Error</body></html>", Transient},
		{"502 empty", 502, "", Transient},
		{"504 unknown graph code", 504, graphBody(12345, 0, false, "gateway"), Transient},
		{"408 no graph body", 408, "timeout", Transient},
		// throttled
		{"4 app limit", 403, graphBody(4, 0, true, "(#4) Application request limit reached"), Throttled},
		{"17 user limit", 403, graphBody(17, 2446079, true, "(#17) User request limit reached"), Throttled},
		{"32 page limit", 403, graphBody(32, 0, false, "(#32) Page request limit reached"), Throttled},
		{"613 calls exceeded", 400, graphBody(613, 1996, true, "(#613) Calls to this api have exceeded the rate limit."), Throttled},
		{"80000", 400, graphBody(80000, 2446079, true, "too many calls"), Throttled},
		{"80004 ad account", 400, bodyAdAccountThrottle, Throttled},
		{"80014", 400, graphBody(80014, 0, true, "too many calls"), Throttled},
		{"429 no body", 429, "", Throttled},
		{"429 unknown graph code", 429, graphBody(12345, 0, false, "slow down"), Throttled},
		// misconfigured
		{"190 expired", 400, bodyTokenExpired, Misconfigured},
		{"190 invalid", 400, graphBody(190, 0, false, "Invalid OAuth access token - Cannot parse access token"), Misconfigured},
		{"190 beats is_transient", 400, graphBody(190, 460, true, "password changed"), Misconfigured},
		{"102 session", 400, graphBody(102, 0, false, "Session key invalid"), Misconfigured},
		{"104 token required", 400, graphBody(104, 0, false, "An access token is required to request this resource."), Misconfigured},
		{"3 capability", 400, graphBody(3, 0, false, "(#3) Application does not have the capability"), Misconfigured},
		{"10 permission", 403, graphBody(10, 0, false, "(#10) Permission denied"), Misconfigured},
		{"200 permissions", 403, graphBody(200, 0, false, "(#200) Permissions error"), Misconfigured},
		{"270", 403, graphBody(270, 0, false, "(#270) requires ads_management"), Misconfigured},
		{"299", 403, graphBody(299, 0, false, "(#299) permissions"), Misconfigured},
		{"100/33 unknown pixel", 400, bodyUnknownPixel, Misconfigured},
		{"803 alias", 404, graphBody(803, 0, false, "(#803) Some of the aliases you requested do not exist"), Misconfigured},
		{"2500 unknown path", 400, graphBody(2500, 0, false, "Unknown path components: /evnts"), Misconfigured},
		{"2635 version", 400, graphBody(2635, 0, false, "(#2635) You are calling a deprecated version of the Ads API."), Misconfigured},
		{"appsecret_proof invalid", 400, bodyBadProof, Misconfigured},
		{"appsecret_proof missing", 400, graphBody(100, 0, false, "API calls from the server require an appsecret_proof argument"), Misconfigured},
		{"404 html", 404, "<html>Not Found</html>", Misconfigured},
		{"401 empty", 401, "", Misconfigured},
		{"400 proxy page", 400, "Bad Request", Misconfigured},
		{"307 redirect", 307, "", Misconfigured},
		// event rejected
		{"100/2804003 too old", 400, bodyTooOld, EventRejected},
		{"100/2804016 not hashed", 400, graphBody(100, 2804016, false, "Invalid parameter"), EventRejected},
		{"100/2804050 insufficient", 400, bodyInsufficient, EventRejected},
		{"100/2804019 invalid parameter", 400, graphBody(100, 2804019, false, "Invalid parameter"), EventRejected},
		{"100 without subcode", 400, graphBody(100, 0, false, "(#100) param data[3][event_name] must be non-empty"), EventRejected},
		// unclassified
		{"unknown code", 400, graphBody(12345, 0, false, "something new"), Unclassified},
		{"199 below permission range", 400, graphBody(199, 0, false, "x"), Unclassified},
		{"300 above permission range", 400, graphBody(300, 0, false, "x"), Unclassified},
		{"80015 above throttle range", 400, graphBody(80015, 0, false, "x"), Unclassified},
		{"413 no graph body", 413, "too large", Unclassified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := c.interpret(tt.status, http.Header{}, []byte(tt.body), 1)
			if o.err == nil || o.graph == nil {
				t.Fatalf("interpret(%d, %s) = success, want %v", tt.status, tt.body, tt.want)
			}
			if got := o.graph.Class(); got != tt.want || o.class != tt.want {
				t.Errorf("class = %v (outcome %v), want %v (error %v)", got, o.class, tt.want, o.graph)
			}
			if o.graph.HTTPStatus != tt.status {
				t.Errorf("HTTPStatus = %d, want %d", o.graph.HTTPStatus, tt.status)
			}
		})
	}
}

func TestInterpretSuccess(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://graph.invalid", configOptions())
	tests := []struct {
		name string
		body string
		sent int
		ok   bool
	}{
		{"count matches", `{"events_received":3,"messages":[],"fbtrace_id":"A"}`, 3, true},
		{"count short", `{"events_received":2,"messages":[],"fbtrace_id":"A"}`, 3, false},
		{"no count", `{"messages":[],"fbtrace_id":"A"}`, 3, false},
		{"not json", `<html>ok</html>`, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := c.interpret(200, http.Header{}, []byte(tt.body), tt.sent)
			if (o.err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", o.err, tt.ok)
			}
			if !tt.ok && o.class != Transient {
				t.Errorf("class = %v, want transient", o.class)
			}
		})
	}
}

func TestGraphErrorFields(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://graph.invalid", configOptions())
	ge := c.interpret(400, http.Header{}, []byte(bodyInsufficient), 1).graph
	want := GraphError{HTTPStatus: 400, Message: "Invalid parameter", Type: "OAuthException", Code: 100, Subcode: 2804050,
		UserTitle: "Insufficient customer information",
		UserMsg:   "The event doesn't have enough customer information parameters to be matched.", FBTraceID: "A1b2C3d4E5"}
	if *ge != want {
		t.Fatalf("parsed %+v\nwant   %+v", *ge, want)
	}
	for _, part := range []string{"HTTP 400", "code 100/2804050", "(OAuthException)", "Invalid parameter",
		"Insufficient customer information: The event", "[fbtrace_id A1b2C3d4E5]"} {
		if !strings.Contains(ge.Error(), part) {
			t.Errorf("Error() = %q, missing %q", ge.Error(), part)
		}
	}
}

func TestMisconfiguredErrorWrapping(t *testing.T) {
	t.Parallel()
	ge := &GraphError{HTTPStatus: 400, Code: 190, Message: "expired"}
	var err error = fmt.Errorf("runtime: %w", &MisconfiguredError{Destination: "shop-fr", Err: ge})
	if !errors.Is(err, ErrMisconfigured) {
		t.Error("errors.Is(err, ErrMisconfigured) = false")
	}
	var got *GraphError
	if !errors.As(err, &got) || got != ge {
		t.Error("errors.As(err, *GraphError) did not find the Graph error")
	}
	if !strings.Contains(err.Error(), `"shop-fr" misconfigured`) {
		t.Errorf("Error() = %q", err)
	}
}

func TestClassString(t *testing.T) {
	t.Parallel()
	want := map[Class]string{Unclassified: "unclassified", Transient: "transient", Throttled: "throttled",
		Misconfigured: "misconfigured", EventRejected: "event_rejected"}
	for c, s := range want {
		if c.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(c), c.String(), s)
		}
	}
}

func TestAppSecretProofTextOnlyForBareCode100(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  GraphError
		want Class
	}{
		{"invalid proof", GraphError{HTTPStatus: 400, Code: 100, Message: "Invalid appsecret_proof provided in the API argument"}, Misconfigured},
		{"5xx echoing the query", GraphError{HTTPStatus: 500, Code: 2, IsTransient: true, Message: "error for ?appsecret_proof=…"}, Transient},
		{"event rejection echoing the query", GraphError{HTTPStatus: 400, Code: 100, Subcode: 2804019, Message: "bad param, appsecret_proof=…"}, EventRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Class(); got != tc.want {
				t.Fatalf("Class() = %v, want %v", got, tc.want)
			}
		})
	}
}
