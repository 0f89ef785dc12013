package processor

import (
	"testing"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// TestMatchKeys sets every combination of the five match keys and checks that each bit is the key MatchKeyNames
// names at its position.
func TestMatchKeys(t *testing.T) {
	for set := range 1 << len(MatchKeyNames) {
		var u fbevent.UserData
		fields := map[string]*string{"em": &u.Em, "ph": &u.Ph, "external_id": &u.ExternalID, "fbp": &u.FBP, "fbc": &u.FBC}
		for i, name := range MatchKeyNames {
			if set&(1<<i) != 0 {
				*fields[name] = "x"
			}
		}
		u.Fn, u.ClientIPAddress = "y", "z" // not match keys
		if got := matchKeys(&u); got != MatchKeys(set) {
			t.Errorf("matchKeys with %05b = %05b", set, got)
		}
	}
}
