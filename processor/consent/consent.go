// Package consent is the consent stage (PRODUCT.md §5): a destination configured with a TRUST Commander
// consent category only receives events whose user granted that category.
package consent

import (
	"strings"

	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/schema"
)

// Check returns nil when ev may go to a destination whose consent category is category, else a NoConsent
// rejection. An empty category means the customer filters consent upstream: every event passes.
//
// The category is looked up in the root consent_categories and in user.consent_categories; both are compared
// trimmed, so a configured "3" matches a JSON 3 (decoders keep numbers as their decimal text) and " 3".
func Check(category string, ev *schema.Event) *reject.Rejection {
	category = strings.TrimSpace(category)
	if category == "" {
		return nil
	}
	if contains(ev.ConsentCategories, category) || contains(ev.User.ConsentCategories, category) {
		return nil
	}
	// The category is configuration, not personal data: it may appear in the detail.
	return reject.New(reject.NoConsent, reject.StageConsent, "consent category %q not granted", category)
}

func contains(granted []string, category string) bool {
	for _, g := range granted {
		if strings.TrimSpace(g) == category {
			return true
		}
	}
	return false
}
