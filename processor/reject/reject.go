// Package reject defines the typed rejection every pipeline stage returns when an event cannot go to Facebook:
// a stable machine reason code (the capi-reason DLQ header), the stage that decided it, and a human detail that
// never contains personal data in clear.
package reject

import (
	"errors"
	"fmt"
	"strings"
)

// Reason is a stable machine code. Values are contracts (DLQ header capi-reason, metrics labels, replay filters):
// never rename one.
type Reason string

// Reason codes (docs/dlq.md#reasons).
const (
	NoConsent             Reason = "no_consent"
	InsufficientUserData  Reason = "insufficient_user_data"
	MissingPIIForPurchase Reason = "missing_pii_for_purchase"
	InvalidPayload        Reason = "invalid_payload"
	SchemaError           Reason = "schema_error"
	EventTooOld           Reason = "event_too_old"
	EventInFuture         Reason = "event_in_future"
	FacebookRejected      Reason = "facebook_rejected"
	MissingEventName      Reason = "missing_event_name"
	MissingWebsiteData    Reason = "missing_website_data"
	BaselineCombination   Reason = "baseline_combination_invalid"
	InvalidEvent          Reason = "invalid_event" // the final payload would not pass Graph API validation
)

// All returns every reason code, in declaration order: the values the capi-reason header of a DLQ record can hold,
// and so the values replay's --reason and --exclude-reason accept.
func All() []Reason {
	return []Reason{NoConsent, InsufficientUserData, MissingPIIForPurchase, InvalidPayload, SchemaError, EventTooOld,
		EventInFuture, FacebookRejected, MissingEventName, MissingWebsiteData, BaselineCombination, InvalidEvent}
}

// Known reports whether r is one of All.
func Known(r Reason) bool {
	for _, k := range All() {
		if k == r {
			return true
		}
	}
	return false
}

// Stage names (DLQ header capi-stage).
const (
	StageDecode      = "decode"
	StageConsent     = "consent"
	StageMapping     = "mapping"
	StageNormalize   = "normalize"
	StageEligibility = "eligibility"
	StageValidate    = "validate"
	StageDelivery    = "delivery"
)

// Rejection is why one event for one destination cannot be delivered. It is an error so it can travel through
// error returns; use errors.As to get it back.
type Rejection struct {
	Reason Reason
	Stage  string
	// Detail is for humans. It must never contain personal data in clear: name fields, not values.
	Detail string
}

// New returns a rejection with a formatted detail. Callers must not format personal data into it.
func New(reason Reason, stage, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Stage: stage, Detail: detail(format, args)}
}

// NewDetail returns a rejection whose detail is already built. It suits the rejections a good share of events
// get (no_consent, insufficient_user_data): building their detail with append and strconv costs a fraction of
// fmt. The detail must not contain personal data either.
func NewDetail(reason Reason, stage, detail string) *Rejection {
	return &Rejection{Reason: reason, Stage: stage, Detail: detail}
}

// detail formats a detail; a format without verbs and without arguments is its own text, with no fmt call (a
// constant detail like "Purchase requires em or ph, neither present" is common).
func detail(format string, args []any) string {
	if len(args) == 0 && strings.IndexByte(format, '%') < 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

func (r *Rejection) Error() string {
	return string(r.Reason) + " at " + r.Stage + ": " + r.Detail // "%s at %s: %s" without fmt
}

// As returns the rejection carried by err, if any.
func As(err error) (*Rejection, bool) {
	var r *Rejection
	ok := errors.As(err, &r)
	return r, ok
}
