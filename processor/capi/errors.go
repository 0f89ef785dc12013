package capi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Class is what the client does about a failed call (docs/graph-errors.md). Values are stable: String() is used as a
// metrics label.
type Class int

const (
	// Unclassified is a request-level error no rule names (a Graph error code in no list below, HTTP 413). It is
	// handled like EventRejected: the batch is bisected, so if one event causes it only that event goes to the DLQ,
	// and if it is really about the request, every event ends up in the DLQ with Facebook's message, replayable.
	// Keeping it out of Misconfigured means an unknown code cannot stop a destination; keeping it out of Transient
	// means it cannot retry forever.
	Unclassified Class = iota
	// Transient: network error, timeout, 5xx, codes 1, 2, 341, 368, 5000, is_transient:true, a 200 whose
	// events_received does not match. Retried with backoff; counts toward the breaker.
	Transient
	// Throttled: codes 4, 17, 32, 613, 80000–80014, HTTP 429. Retried after a longer wait honouring Facebook's
	// usage headers; counts toward the breaker.
	Throttled
	// Misconfigured: the destination cannot work until someone fixes it (token, permissions, pixel, version,
	// appsecret_proof, a BaseURL that does not speak Graph). Never retried, never sent to the DLQ.
	Misconfigured
	// EventRejected: code 100 (other than 100/33 and appsecret_proof errors), an invalid event refused the whole
	// request. The batch is bisected until single events fail; those are Result.Rejected.
	EventRejected
)

func (c Class) String() string {
	switch c {
	case Unclassified:
		return "unclassified"
	case Transient:
		return "transient"
	case Throttled:
		return "throttled"
	case Misconfigured:
		return "misconfigured"
	case EventRejected:
		return "event_rejected"
	default:
		return "class(" + strconv.Itoa(int(c)) + ")"
	}
}

// GraphError is an error answer of the Graph API: the HTTP status and the members of its {"error":{…}} object.
// When the body was not a Graph error (a proxy page, an empty 5xx), Code is 0 and Message says so.
type GraphError struct {
	HTTPStatus  int
	Message     string // error.message
	Type        string // error.type, e.g. OAuthException
	Code        int    // error.code
	Subcode     int    // error.error_subcode
	IsTransient bool   // error.is_transient
	UserTitle   string // error.error_user_title
	UserMsg     string // error.error_user_msg
	FBTraceID   string // error.fbtrace_id, what Meta support asks for
}

func (e *GraphError) Error() string { return e.format(true) }

// Summary is the error without Facebook's free text (message, user title, user message): HTTP status, code,
// subcode, type and fbtrace_id. Facebook's texts may echo the request — event_source_url, client_ip_address and
// other customer data in clear — so logs carry Summary, never Error; Error (with the text) goes where the record
// itself already is, the DLQ's capi-error header.
func (e *GraphError) Summary() string { return e.format(false) }

func (e *GraphError) format(withText bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph api: HTTP %d", e.HTTPStatus)
	if e.Code != 0 {
		fmt.Fprintf(&b, ", code %d", e.Code)
		if e.Subcode != 0 {
			fmt.Fprintf(&b, "/%d", e.Subcode)
		}
	}
	if e.Type != "" {
		fmt.Fprintf(&b, " (%s)", e.Type)
	}
	if withText && e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if withText && (e.UserTitle != "" || e.UserMsg != "") {
		b.WriteString(" — ")
		b.WriteString(e.UserTitle)
		if e.UserTitle != "" && e.UserMsg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.UserMsg)
	}
	if e.FBTraceID != "" {
		fmt.Fprintf(&b, " [fbtrace_id %s]", e.FBTraceID)
	}
	return b.String()
}

// Class classifies the error. Rules are applied in this order, first match wins:
//
//  1. misconfiguration codes (190, 102, 104, 3, 10, 200–299, 100/33, 803, 2500, 2635) and appsecret_proof
//     errors → Misconfigured;
//  2. throttling codes (4, 17, 32, 613, 80000–80014) → Throttled;
//  3. transient codes (1, 2, 341, 368, 5000) or is_transient → Transient;
//  4. code 100 → EventRejected;
//  5. HTTP 429 → Throttled; HTTP 5xx → Transient;
//  6. any other Graph code → Unclassified;
//  7. no Graph error in the body: 408 → Transient, 413 → Unclassified (bisecting shrinks the body), anything else
//     (404, 401, 403, 400 from a proxy, 3xx) → Misconfigured: BaseURL or APIVersion does not reach the Graph API.
//
// appsecret_proof errors are the one case decided on Facebook's text: Meta answers them with a bare code 100,
// indistinguishable by code from an invalid event, and bisecting them would dump the stream into the DLQ.
func (e *GraphError) Class() Class {
	switch {
	case isMisconfiguredCode(e.Code, e.Subcode) || e.isAppSecretProofError():
		return Misconfigured
	case isThrottleCode(e.Code):
		return Throttled
	case isTransientCode(e.Code) || e.IsTransient:
		return Transient
	case e.Code == 100:
		return EventRejected
	case e.HTTPStatus == 429:
		return Throttled
	case e.HTTPStatus >= 500:
		return Transient
	case e.Code != 0:
		return Unclassified
	case e.HTTPStatus == 408:
		return Transient
	case e.HTTPStatus == 413:
		return Unclassified
	default:
		return Misconfigured
	}
}

// isAppSecretProofError recognises Meta's "Invalid appsecret_proof" answer: a bare code 100 without an event
// subcode. The text is only consulted for that exact shape, so a 5xx or an event rejection whose message happens
// to echo the request query is never mistaken for a misconfiguration.
func (e *GraphError) isAppSecretProofError() bool {
	return e.Code == 100 && e.Subcode == 0 && !e.IsTransient && e.HTTPStatus < 500 &&
		strings.Contains(strings.ToLower(e.Message), "appsecret_proof")
}

func isMisconfiguredCode(code, subcode int) bool {
	switch {
	case code == 190, // invalid, expired or revoked access token
		code == 102,                  // session key invalid
		code == 104,                  // access token required
		code == 3,                    // capability missing
		code == 10,                   // permission denied
		code >= 200 && code <= 299,   // permissions
		code == 100 && subcode == 33, // unknown pixel, or the token cannot see it
		code == 803,                  // unknown alias
		code == 2500,                 // unknown path components / active access token required
		code == 2635:                 // API version retired
		return true
	}
	return false
}

func isThrottleCode(code int) bool {
	return code == 4 || code == 17 || code == 32 || code == 613 || (code >= 80000 && code <= 80014)
}

func isTransientCode(code int) bool {
	return code == 1 || code == 2 || code == 341 || code == 368 || code == 5000
}

// Advice says what to do about a misconfiguration, in the words of Meta's user interface: what an operator reads
// next to the code in a log line, on /readyz and in check-config --online. It is "" for errors that are not about the
// configuration. It never contains Facebook's text (which may echo the request).
func (e *GraphError) Advice() string {
	switch {
	case e.Code == 190 && e.Subcode == 0:
		return "the access token is not valid (truncated, or not a Conversions API token): create a new one in " +
			"Events Manager → Settings → Conversions API"
	case e.Code == 190, e.Code == 102:
		return "the access token expired or was revoked: create a new one in Events Manager → Settings → Conversions API"
	case e.Code == 104:
		return "no access token was sent: set access_token (CAPI_ACCESS_TOKEN or CAPI_ACCESS_TOKEN_FILE)"
	case e.isAppSecretProofError():
		return "appsecret_proof is missing or wrong: set app_secret (CAPI_APP_SECRET) to the secret of the app the " +
			"token belongs to (Meta for Developers → App settings → Basic)"
	case e.Code == 100 && e.Subcode == 33:
		return "the pixel does not exist or the token cannot use it: check pixel_id (the dataset id in Events " +
			"Manager) and create the token from that dataset's Settings → Conversions API"
	case e.Code == 803:
		return "pixel_id is not a dataset id: copy the numeric dataset id from Events Manager"
	case e.Code == 3, e.Code == 10, e.Code >= 200 && e.Code <= 299:
		return "the token lacks a permission on this dataset: create the token from the dataset's Settings → " +
			"Conversions API, or give its system user the dataset in Business Settings"
	case e.Code == 2635:
		return "this Graph API version is retired: set graph.api_version (CAPI_GRAPH_API_VERSION) to a current one"
	case e.Code == 2500, e.Code == 0 && e.Class() == Misconfigured:
		return "graph.url and graph.api_version do not reach the Graph API: check them (https://graph.facebook.com, vNN.N)"
	}
	return ""
}

// ErrMisconfigured matches every *MisconfiguredError with errors.Is.
var ErrMisconfigured = errors.New("capi: destination misconfigured")

// MisconfiguredError is returned by Send when the destination cannot work until its configuration is fixed. The
// runtime stops that destination and reports not-ready; the events are neither delivered nor dead-lettered.
type MisconfiguredError struct {
	Destination string
	Err         *GraphError
}

// Error names the destination and the Graph error's Summary, not Facebook's text: this error is logged.
func (e *MisconfiguredError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("capi: destination %q misconfigured", e.Destination)
	}
	if advice := e.Err.Advice(); advice != "" {
		return fmt.Sprintf("capi: destination %q misconfigured: %s: %s", e.Destination, e.Err.Summary(), advice)
	}
	return fmt.Sprintf("capi: destination %q misconfigured: %s", e.Destination, e.Err.Summary())
}

func (e *MisconfiguredError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrMisconfigured) true.
func (e *MisconfiguredError) Is(target error) bool { return target == ErrMisconfigured }

// transportError is a call that produced no HTTP response (network error, timeout) or an unusable 2xx. It names the
// request path, never the URL (which holds the token).
type transportError struct {
	method string // "" is POST
	path   string
	status int // 0 when no response arrived
	err    error
}

func (e *transportError) Error() string {
	method := e.method
	if method == "" {
		method = "POST"
	}
	if e.status != 0 {
		return fmt.Sprintf("capi: %s %s: HTTP %d: %v", method, e.path, e.status, e.err)
	}
	return fmt.Sprintf("capi: %s %s: %v", method, e.path, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// errNotCounted marks a call the breaker must ignore (cancelled by the caller: says nothing about the API).
var errNotCounted = errors.New("capi: call cancelled")
