// Package consent is the consent stage (docs/mapping.md): a destination configured with a TRUST Commander
// consent category only receives events whose user granted that category.
package consent

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/schema"
)

// Check returns nil when ev may go to a destination whose consent category is category, else a NoConsent
// rejection. An empty category means the customer filters consent upstream: every event passes.
//
// The category is looked up in the root consent_categories and in user.consent_categories; both are compared
// trimmed, so a configured "3" matches a JSON 3 (decoders keep numbers as their decimal text) and " 3".
func Check(category string, ev *schema.Event) *reject.Rejection {
	category = trimSpace(category)
	if category == "" {
		return nil
	}
	if contains(ev.ConsentCategories, category) || contains(ev.User.ConsentCategories, category) {
		return nil
	}
	// The category is configuration, not personal data: it may appear in the detail.
	return reject.NewDetail(reject.NoConsent, reject.StageConsent, notGranted(category))
}

// notGranted is fmt.Sprintf("consent category %q not granted", category) without fmt (TestNotGrantedMatchesFmt):
// a good share of events are refused consent, and fmt cost more than the rest of the check.
func notGranted(category string) string {
	const prefix, suffix = "consent category ", " not granted"
	var buf [128]byte
	b := append(buf[:0], prefix...)
	b = strconv.AppendQuote(b, category)
	return string(append(b, suffix...))
}

// contains reports whether granted holds category (trimmed, not empty) once trimmed.
func contains(granted []string, category string) bool {
	for _, g := range granted {
		// Trimming only shortens: a value not longer than category matches only when equal, untrimmed.
		if g == category || len(g) > len(category) && strings.TrimSpace(g) == category {
			return true
		}
	}
	return false
}

// trimSpace is strings.TrimSpace with a shortcut for the usual category, which has nothing to trim: one that
// begins and ends with a printable ASCII byte (every Unicode space is either at most ' ' or not ASCII).
func trimSpace(s string) string {
	if len(s) > 0 && ' ' < s[0] && s[0] < utf8.RuneSelf && ' ' < s[len(s)-1] && s[len(s)-1] < utf8.RuneSelf {
		return s
	}
	return strings.TrimSpace(s)
}
