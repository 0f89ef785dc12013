package capitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Faults are the misbehaviours the simulator injects on demand. The zero value injects nothing. Faults apply in
// this order, the first that fires answers the request: Latency (always added), Disconnect, FailNext, ErrorRate,
// then — after the access token is found valid — TokenExpired, Throttle, and finally PoisonedEventIDs once the
// payload itself is valid. A request answered by a fault records nothing.
type Faults struct {
	// Latency is added before every Graph request is answered (control endpoints excluded). The wait ends early
	// when the client gives up, like a real slow server whose client timed out.
	Latency time.Duration `json:"latency"`

	// Disconnect closes the connection without any answer: the client sees a network error (EOF / reset).
	Disconnect bool `json:"disconnect,omitempty"`

	// FailNext makes the next FailNext requests fail like ErrorRate does, deterministically; it counts down.
	FailNext int `json:"fail_next,omitempty"`

	// ErrorRate is the fraction (0..1) of requests answered with a transient server error: HTTP ErrorStatus,
	// code ErrorCode, is_transient true.
	ErrorRate float64 `json:"error_rate,omitempty"`
	// ErrorStatus is the HTTP status of injected server errors: 500 (default), 502, 503 or 504.
	ErrorStatus int `json:"error_status,omitempty"`
	// ErrorCode is the Graph code of injected server errors: 2 "An unexpected error has occurred" (default) or
	// 1 "An unknown error occurred".
	ErrorCode int `json:"error_code,omitempty"`

	// Throttle answers every authenticated request with a rate-limit error (is_transient true) and an
	// X-Business-Use-Case-Usage header (X-App-Usage for code 4) saying when access comes back.
	Throttle bool `json:"throttle,omitempty"`
	// ThrottleCode is 80004 (default, ad-account throttling, HTTP 400), 613 (HTTP 400), 17 or 4 (HTTP 403).
	ThrottleCode int `json:"throttle_code,omitempty"`
	// ThrottleRegainMinutes is the estimated_time_to_regain_access advertised (default 1).
	ThrottleRegainMinutes int `json:"throttle_regain_minutes,omitempty"`

	// TokenExpired answers every request carrying an otherwise valid token with 190/463 "Session has expired".
	TokenExpired bool `json:"token_expired,omitempty"`

	// PoisonedEventIDs are event_id values Facebook "rejects": a request containing one, otherwise valid, fails
	// whole with 100/2804019 naming the index of the first poisoned event. Senders must isolate it (bisect).
	PoisonedEventIDs []string `json:"poisoned_event_ids,omitempty"`
}

// faultsJSON is Faults on the wire: Latency as a Go duration string ("250ms"); a plain number is read as
// milliseconds so shell users can write {"latency":250}.
type faultsJSON struct {
	Latency json.RawMessage `json:"latency,omitempty"`
	faultsAlias
}

type faultsAlias Faults

// MarshalJSON writes Latency as a duration string.
func (f Faults) MarshalJSON() ([]byte, error) {
	lat, _ := json.Marshal(f.Latency.String())
	a := faultsAlias(f)
	a.Latency = 0
	return json.Marshal(struct {
		Latency json.RawMessage `json:"latency"`
		faultsAlias
	}{lat, a})
}

// UnmarshalJSON reads Latency as a duration string or a number of milliseconds and refuses unknown keys.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt fault must not silently inject nothing
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*f = Faults(j.faultsAlias)
	f.Latency = 0
	if len(j.Latency) == 0 || string(j.Latency) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(j.Latency, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		f.Latency = d
		return nil
	}
	ms, err := strconv.ParseFloat(string(j.Latency), 64)
	if err != nil {
		return fmt.Errorf("latency: want a duration string or milliseconds, got %s", j.Latency)
	}
	f.Latency = time.Duration(ms * float64(time.Millisecond))
	return nil
}

// ErrInvalidFaults is wrapped by the error Faults.Validate returns.
var ErrInvalidFaults = errors.New("invalid faults")

// Validate rejects fault settings the simulator cannot honour, naming the field and the accepted values.
func (f Faults) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidFaults, fmt.Sprintf(format, args...))
	}
	switch {
	case f.Latency < 0:
		return bad("latency must not be negative")
	case f.FailNext < 0:
		return bad("fail_next must not be negative")
	case f.ErrorRate < 0 || f.ErrorRate > 1:
		return bad("error_rate must be between 0 and 1")
	case f.ErrorStatus != 0 && f.ErrorStatus != 500 && f.ErrorStatus != 502 && f.ErrorStatus != 503 &&
		f.ErrorStatus != 504:
		return bad("error_status must be 500, 502, 503 or 504")
	case f.ErrorCode != 0 && f.ErrorCode != CodeUnknownError && f.ErrorCode != CodeServiceUnavailable:
		return bad("error_code must be 1 or 2")
	case f.ThrottleCode != 0 && f.ThrottleCode != CodeAppRateLimit && f.ThrottleCode != CodeUserRateLimit &&
		f.ThrottleCode != CodeAPIRateLimit && f.ThrottleCode != CodeAdAccountThrottle:
		return bad("throttle_code must be 4, 17, 613 or 80004")
	case f.ThrottleRegainMinutes < 0:
		return bad("throttle_regain_minutes must not be negative")
	}
	return nil
}

// serverError is the injected transient 5xx answer.
func (f Faults) serverError() *graphError {
	status := f.ErrorStatus
	if status == 0 {
		status = http.StatusInternalServerError
	}
	e := &graphError{status: status, Type: "OAuthException", Code: CodeServiceUnavailable, IsTransient: boolPtr(true),
		Message: "An unexpected error has occurred. Please retry your request later."}
	if f.ErrorCode == CodeUnknownError {
		e.Code, e.Message = CodeUnknownError, "An unknown error occurred"
	}
	return e
}

// throttleError is the injected rate-limit answer with its usage header.
func (f Faults) throttleError(pixelID string) *graphError {
	regain := f.ThrottleRegainMinutes
	if regain == 0 {
		regain = 1
	}
	code := f.ThrottleCode
	if code == 0 {
		code = CodeAdAccountThrottle
	}
	e := &graphError{status: http.StatusBadRequest, Type: "OAuthException", Code: code, IsTransient: boolPtr(true)}
	usage := fmt.Sprintf(`{%q:[{"type":"ads_management","call_count":100,"total_cputime":100,"total_time":100,`+
		`"estimated_time_to_regain_access":%d}]}`, pixelID, regain)
	e.headers = map[string]string{"X-Business-Use-Case-Usage": usage}
	switch code {
	case CodeAdAccountThrottle:
		e.Subcode = SubcodeThrottled
		e.Message = "(#80004) There have been too many calls to this ad-account. Wait a bit and try again. " +
			"For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
	case CodeAPIRateLimit:
		e.Message = "(#613) Calls to this api have exceeded the rate limit."
	case CodeUserRateLimit:
		e.status, e.Subcode = http.StatusForbidden, SubcodeThrottled
		e.Message = "(#17) User request limit reached"
	case CodeAppRateLimit:
		e.status = http.StatusForbidden
		e.Message = "(#4) Application request limit reached"
		e.headers = map[string]string{"X-App-Usage": `{"call_count":100,"total_cputime":100,"total_time":100}`}
	}
	return e
}
