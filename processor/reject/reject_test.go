package reject

import (
	"fmt"
	"testing"
)

// TestNewDetail checks that New skips fmt only when that cannot change the text.
func TestNewDetail(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		format string
		args   []any
	}{
		{"Purchase requires em or ph, neither present", nil},
		{"", nil},
		{"100%% sure", nil},
		{"%d present", []any{3}},
		{"%s", []any{"x"}},
		{"no verb", []any{"extra"}},
	} {
		got := New(InsufficientUserData, StageEligibility, tt.format, tt.args...)
		if want := fmt.Sprintf(tt.format, tt.args...); got.Detail != want {
			t.Errorf("New(%q, %v).Detail = %q, want %q", tt.format, tt.args, got.Detail, want)
		}
		if got.Reason != InsufficientUserData || got.Stage != StageEligibility {
			t.Errorf("New(%q) = %+v", tt.format, got)
		}
	}
	if r := NewDetail(NoConsent, StageConsent, "as is %d"); r.Detail != "as is %d" || r.Reason != NoConsent {
		t.Errorf("NewDetail = %+v", r)
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	r := &Rejection{Reason: NoConsent, Stage: StageConsent, Detail: `consent category "3" not granted`}
	if got, want := r.Error(), fmt.Sprintf("%s at %s: %s", r.Reason, r.Stage, r.Detail); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := (&Rejection{}).Error(); got != " at : " {
		t.Errorf("zero Error() = %q", got)
	}
}
