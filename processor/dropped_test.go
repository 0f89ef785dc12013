package processor_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/normalize"
	"github.com/capi-connector/capi-connector/processor/reject"
)

// Fields dropped by normalization are reported on the outcome (preview's "dropped"), counted by destination,
// field and reason (capi_user_data_dropped_total), and named in the detail of an eligibility rejection they
// caused; their values never appear anywhere.
func TestDroppedUserData(t *testing.T) {
	d := shop()
	d.Placeholders = []string{"n/a", "null", "unknown"}
	p := newPipeline(t, d)
	in := readTestdata(t, "golden/purchase.json")
	process := func(b []byte) processor.Outcome {
		t.Helper()
		outs, err := p.Process(context.Background(), processor.Record{Value: b, Timestamp: now}, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		return outs[0]
	}

	// Accepted: the phone is not a valid number, the first name a placeholder, the birth date not a date.
	accepted := bytes.Replace(in, []byte(`"phone":"06 12 34 56 78"`), []byte(`"phone":"0000000000"`), 1)
	accepted = bytes.Replace(accepted, []byte(`"firstname":"Jean"`), []byte(`"firstname":"N/A"`), 1)
	accepted = bytes.Replace(accepted, []byte(`"birthdate":"1984-03-09"`), []byte(`"birthdate":"soon"`), 1)
	o := process(accepted)
	if o.JSON == nil {
		t.Fatalf("rejected: %+v", o.Rejection)
	}
	if got, want := string(o.Dropped.AppendJSON(nil)), `{"ph":"invalid_phone","fn":"placeholder","db":"unparseable_date"}`; got != want {
		t.Errorf("dropped = %s, want %s", got, want)
	}
	for _, k := range []string{`"ph"`, `"fn"`, `"db"`} {
		if bytes.Contains(o.JSON, []byte(k)) {
			t.Errorf("dropped field %s still in the event: %s", k, o.JSON)
		}
	}

	// Rejected because of the drops: the detail names them, not their values.
	rejected := bytes.Replace(in, []byte(`"email":" Jean.Dupont@Example.FR "`), []byte(`"email":"jean.dupont(at)example"`), 1)
	rejected = bytes.Replace(rejected, []byte(`"phone":"06 12 34 56 78"`), []byte(`"phone":"12"`), 1)
	o = process(rejected)
	if o.Rejection == nil || o.Rejection.Reason != reject.MissingPIIForPurchase {
		t.Fatalf("want missing_pii_for_purchase, got %+v", o)
	}
	if !strings.Contains(o.Rejection.Detail, "dropped: em invalid_email, ph invalid_phone") {
		t.Errorf("detail %q does not name the dropped fields", o.Rejection.Detail)
	}
	if strings.Contains(o.Rejection.Detail, "jean.dupont") {
		t.Errorf("detail %q contains personal data", o.Rejection.Detail)
	}
	if o.Dropped.Get("em") != normalize.ReasonInvalidEmail || o.Dropped.Get("ph") != normalize.ReasonInvalidPhone {
		t.Errorf("dropped = %s", o.Dropped.AppendJSON(nil))
	}

	counts := map[string]uint64{}
	p.DroppedUserData(func(dest, field, reason string, n uint64) { counts[dest+"/"+field+"/"+reason] = n })
	want := map[string]uint64{
		"shop/ph/invalid_phone": 2, "shop/fn/placeholder": 1, "shop/db/unparseable_date": 1, "shop/em/invalid_email": 1,
	}
	if len(counts) != len(want) {
		t.Errorf("counts = %v, want %v", counts, want)
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s = %d, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
}
