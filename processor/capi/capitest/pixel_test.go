package capitest

import (
	"encoding/json"
	"net/http"
	"testing"
)

// GET /{version}/{pixel_id} reads the pixel node with the same checks as an events request, and records nothing.
func TestReadPixel(t *testing.T) {
	cfg := testConfig()
	cfg.AppSecret = "s3cret"
	srv, ts := NewTestServer(t, cfg)
	auth := "access_token=" + testToken + "&appsecret_proof=" + proof("s3cret", testToken)
	node := "/v24.0/" + testPixel

	a := do(t, newReq(t, http.MethodGet, ts.URL+node+"?fields=id,name&"+auth, "", nil))
	var got map[string]any
	if a.status != 200 || json.Unmarshal(a.raw, &got) != nil || got["id"] != testPixel || got["name"] == "" || len(got) != 2 {
		t.Fatalf("read with fields=id,name: %d %s", a.status, a.raw)
	}
	a = do(t, newReq(t, http.MethodGet, ts.URL+node+"?"+auth, "", nil))
	if got = nil; a.status != 200 || json.Unmarshal(a.raw, &got) != nil || len(got) != 1 || got["id"] != testPixel {
		t.Fatalf("read without fields returns only id: %d %s", a.status, a.raw)
	}

	for _, tc := range []struct {
		name          string
		url           string
		status        int
		code, subcode int
	}{
		{"no token", node + "?fields=id", 400, 104, 0},
		{"invalid token", node + "?fields=id&access_token=EAAwrong&appsecret_proof=" + proof("s3cret", "EAAwrong"), 400, 190, 0},
		{"missing appsecret_proof", node + "?fields=id&access_token=" + testToken, 400, 100, 0},
		{"unknown pixel", "/v24.0/999?fields=id&" + auth, 400, 100, 33},
		{"pixel not numeric", "/v24.0/shop?fields=id&" + auth, 404, 803, 0},
		{"unknown field", node + "?fields=id,owner&" + auth, 400, 100, 0},
		{"unknown parameter", node + "?fields=id&limit=1&" + auth, 400, 100, 0},
		{"retired version", "/v10.0/" + testPixel + "?fields=id&" + auth, 400, CodeDeprecatedVersion, 0},
		{"events edge is POST only", node + "/events?" + auth, 400, 100, 33},
	} {
		t.Run(tc.name, func(t *testing.T) {
			do(t, newReq(t, http.MethodGet, ts.URL+tc.url, "", nil)).wantErr(t, tc.status, tc.code, tc.subcode)
		})
	}

	if err := srv.SetFaults(Faults{TokenExpired: true}); err != nil {
		t.Fatal(err)
	}
	do(t, newReq(t, http.MethodGet, ts.URL+node+"?fields=id&"+auth, "", nil)).wantErr(t, 400, 190, 463)
	if st := srv.Stats(); st.AcceptedEvents != 0 || st.AcceptedRequests != 0 || len(srv.Events()) != 0 {
		t.Errorf("a read recorded events: %+v", st)
	}
}
