package capi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
)

// CheckPixel against the strict simulator: the same token, app secret proof, pixel and version a delivery uses,
// no event sent, and an answer that says what to do.
func TestCheckPixel(t *testing.T) {
	t.Parallel()
	sim, ts := capitest.NewTestServer(t, capitest.Config{
		AccessTokens: map[string]string{testPixel: testToken}, AppSecret: testSecret,
	})
	ctx := context.Background()
	c := newTestClient(t, ts.URL, fastOptions())
	p, err := c.CheckPixel(ctx)
	if err != nil || p.ID != testPixel || p.Name == "" {
		t.Fatalf("CheckPixel = %+v, %v", p, err)
	}

	tests := []struct {
		name          string
		dest          Destination
		fault         capitest.Faults
		code, subcode int
		advice        string
	}{
		{name: "expired token", fault: capitest.Faults{TokenExpired: true}, code: 190, subcode: 463,
			advice: "the access token expired or was revoked: create a new one in Events Manager → Settings → Conversions API"},
		{name: "wrong token", dest: Destination{AccessToken: "EAAGother"}, code: 190, advice: "not valid"},
		{name: "unknown pixel", dest: Destination{PixelID: "42"}, code: 100, subcode: 33, advice: "check pixel_id"},
		{name: "wrong app secret", dest: Destination{AppSecret: "other"}, code: 100, advice: "set app_secret"},
		{name: "retired version", dest: Destination{APIVersion: "v10.0"}, code: 2635, advice: "graph.api_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := sim.SetFaults(tt.fault); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = sim.SetFaults(capitest.Faults{}) })
			d := Destination{Name: "shop", PixelID: testPixel, AccessToken: testToken, AppSecret: testSecret, BaseURL: ts.URL}
			if tt.dest.AccessToken != "" {
				d.AccessToken = tt.dest.AccessToken
			}
			if tt.dest.PixelID != "" {
				d.PixelID = tt.dest.PixelID
			}
			if tt.dest.AppSecret != "" {
				d.AppSecret = tt.dest.AppSecret
			}
			d.APIVersion = testAPIVersion
			if tt.dest.APIVersion != "" {
				d.APIVersion = tt.dest.APIVersion
			}
			c, err := New(d, fastOptions())
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CheckPixel(ctx)
			var ge *GraphError
			if !errors.As(err, &ge) || ge.Code != tt.code || ge.Subcode != tt.subcode {
				t.Fatalf("err = %v, want Graph code %d/%d", err, tt.code, tt.subcode)
			}
			if ge.Class() != Misconfigured || !strings.Contains(ge.Advice(), tt.advice) {
				t.Errorf("class %s advice %q, want misconfigured and %q", ge.Class(), ge.Advice(), tt.advice)
			}
			for _, secret := range []string{testToken, d.AccessToken, testSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error contains a secret: %v", err)
				}
			}
		})
	}
	if st := sim.Stats(); st.AcceptedEvents != 0 {
		t.Errorf("checking sent events: %+v", st)
	}
}

func TestAdviceAndMisconfiguredError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		e    GraphError
		want string
	}{
		{GraphError{HTTPStatus: 400, Code: 190, Subcode: 463}, "the access token expired or was revoked: create a new one in Events Manager → Settings → Conversions API"},
		{GraphError{HTTPStatus: 400, Code: 190, Subcode: 460}, "expired or was revoked"},
		{GraphError{HTTPStatus: 400, Code: 200}, "lacks a permission"},
		{GraphError{HTTPStatus: 404}, "graph.url"},
		{GraphError{HTTPStatus: 400, Code: 100, Subcode: 2804003}, ""},
		{GraphError{HTTPStatus: 500, Code: 2}, ""},
	} {
		if got := tt.e.Advice(); (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: Advice() = %q, want %q", tt.e.Summary(), got, tt.want)
		}
	}
	err := &MisconfiguredError{Destination: "shop", Err: &GraphError{HTTPStatus: 400, Code: 190, Subcode: 463, Message: "token text"}}
	if s := err.Error(); !strings.Contains(s, "code 190/463") || !strings.Contains(s, "create a new one in Events Manager") || strings.Contains(s, "token text") {
		t.Errorf("MisconfiguredError = %q: want the code and the advice, not Facebook's text", s)
	}
}
