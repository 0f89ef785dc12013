package capitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Event-level error subcodes (code 100). 2804003 and 2804050 are Meta's documented values; the others are the
// simulator's choice where Meta's documentation gives none (see doc.go). Every one of them means "this event is
// invalid, the whole request was refused", which is what a sender must react to.
const (
	SubcodeEventTooOld              = 2804003 // event_time older than 7 days (62 for physical_store)
	SubcodeEventInFuture            = 2804004 // event_time more than FutureTolerance ahead of the simulator's clock
	SubcodeMissingParameter         = 2804008 // a parameter required for this event is absent
	SubcodeNotHashed                = 2804016 // a user_data field that must be a SHA-256 digest is not one
	SubcodeInvalidParameter         = 2804019 // wrong type, unknown key, bad format, poisoned event
	SubcodeInsufficientCustomerInfo = 2804050 // customer information too weak to match anyone
)

// Request-level codes and subcodes answered by the simulator, named for tests and documentation.
const (
	CodeUnknownError       = 1
	CodeServiceUnavailable = 2
	CodeAppRateLimit       = 4
	CodeUserRateLimit      = 17
	CodeParameter          = 100
	CodeTokenRequired      = 104
	CodeAccessToken        = 190
	CodeAlias              = 803
	CodeUnknownPath        = 2500
	CodeDeprecatedVersion  = 2635
	CodeAPIRateLimit       = 613
	CodeAdAccountThrottle  = 80004

	SubcodeUnknownObject = 33  // with code 100: the pixel does not exist or the token cannot see it
	SubcodeTokenExpired  = 463 // with code 190: session has expired
	SubcodeThrottled     = 2446079
)

// graphError is the body of every error the simulator answers, field for field the shape the Graph API uses.
// Optional members are omitted when Meta omits them (is_transient is absent from most request-level errors).
type graphError struct {
	status  int
	headers map[string]string

	Message     string `json:"message"`
	Type        string `json:"type"`
	Code        int    `json:"code"`
	Subcode     int    `json:"error_subcode,omitempty"`
	IsTransient *bool  `json:"is_transient,omitempty"`
	UserTitle   string `json:"error_user_title,omitempty"`
	UserMsg     string `json:"error_user_msg,omitempty"`
	TraceID     string `json:"fbtrace_id"`
}

// statKey is how Stats.Rejected counts this error: "code" or "code/subcode".
func (e *graphError) statKey() string {
	if e.Subcode == 0 {
		return strconv.Itoa(e.Code)
	}
	return strconv.Itoa(e.Code) + "/" + strconv.Itoa(e.Subcode)
}

func boolPtr(b bool) *bool { return &b }

// paramError is a request-level "(#100) …" error: Meta answers those without a subcode or user-facing text.
func paramError(format string, args ...any) *graphError {
	return &graphError{status: http.StatusBadRequest, Type: "OAuthException", Code: CodeParameter,
		Message: "(#100) " + fmt.Sprintf(format, args...)}
}

// eventError is the answer to an invalid event: Meta's "Invalid parameter" envelope, the subcode saying why and
// the user message saying where. The index in the user message is a simulator convenience; Meta does not promise
// to name the event, so a sender must never parse it.
func eventError(subcode int, index int, title, format string, args ...any) *graphError {
	msg := fmt.Sprintf(format, args...)
	return &graphError{
		status: http.StatusBadRequest, Message: "Invalid parameter", Type: "OAuthException", Code: CodeParameter,
		Subcode: subcode, IsTransient: boolPtr(false), UserTitle: title,
		UserMsg: fmt.Sprintf("%s (event at index %d, $['data'][%d])", msg, index, index),
	}
}

func unknownObjectError(method, id string) *graphError {
	return &graphError{status: http.StatusBadRequest, Type: "GraphMethodException", Code: CodeParameter,
		Subcode: SubcodeUnknownObject,
		Message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to "+
			"missing permissions, or does not support this operation. Please read the Graph API documentation at "+
			"https://developers.facebook.com/docs/graph-api", method, id)}
}

func unknownPathError(path string) *graphError {
	return &graphError{status: http.StatusBadRequest, Type: "OAuthException", Code: CodeUnknownPath,
		Message: "Unknown path components: " + path}
}

func tokenRequiredError() *graphError {
	return &graphError{status: http.StatusBadRequest, Type: "OAuthException", Code: CodeTokenRequired,
		Message: "An access token is required to request this resource.",
		headers: map[string]string{"WWW-Authenticate": `OAuth "Facebook Platform" "invalid_request" ` +
			`"An access token is required to request this resource."`}}
}

func invalidTokenError() *graphError {
	return &graphError{status: http.StatusBadRequest, Type: "OAuthException", Code: CodeAccessToken,
		Message: "Invalid OAuth access token - Cannot parse access token",
		headers: map[string]string{"WWW-Authenticate": `OAuth "Facebook Platform" "invalid_token" ` +
			`"Invalid OAuth access token - Cannot parse access token"`}}
}

// expiredTokenError says the session ended an hour before now, in Meta's wording and date format.
func expiredTokenError(now time.Time) *graphError {
	const layout = "Monday, 02-Jan-06 15:04:05 MST"
	now = now.UTC()
	msg := "Error validating access token: Session has expired on " + now.Truncate(time.Hour).Add(-time.Hour).Format(layout) +
		". The current time is " + now.Format(layout) + "."
	return &graphError{status: http.StatusBadRequest, Type: "OAuthException", Code: CodeAccessToken,
		Subcode: SubcodeTokenExpired, Message: msg,
		headers: map[string]string{"WWW-Authenticate": `OAuth "Facebook Platform" "invalid_token" "` + msg + `"`}}
}

func appSecretProofError(missing bool) *graphError {
	msg := "Invalid appsecret_proof provided in the API argument"
	if missing {
		msg = "API calls from the server require an appsecret_proof argument"
	}
	return &graphError{status: http.StatusBadRequest, Type: "GraphMethodException", Code: CodeParameter, Message: msg}
}

// writeJSON writes a Graph-style JSON answer with the headers the real API always sets.
func writeJSON(w http.ResponseWriter, status int, traceID, version string, body any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("x-fb-trace-id", traceID)
	h.Set("x-fb-rev", "1000000001")
	if version != "" {
		h.Set("facebook-api-version", version)
	}
	h.Set("Cache-Control", "no-store")
	b, err := json.Marshal(body)
	if err != nil { // cannot happen: every body is a plain struct or map of JSON-safe values
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeGraphError(w http.ResponseWriter, e *graphError, version string) {
	for k, v := range e.headers {
		w.Header().Set(k, v)
	}
	writeJSON(w, e.status, e.TraceID, version, struct {
		Error *graphError `json:"error"`
	}{e})
}
