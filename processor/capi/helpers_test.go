package capi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

const (
	testToken  = "EAAGtesttoken123"
	testSecret = "shhh-app-secret"
	// printf '%s' EAAGtesttoken123 | openssl dgst -sha256 -hmac shhh-app-secret
	testProof = "754ee311cf78d9189e3e965f1f07783799a0cf9ff1c283ef6f894cd916b08960"
	testPixel = "1234567890"
)

// graphRequest is what the fake Graph API saw in one call.
type graphRequest struct {
	N             int // 1-based call number
	At            time.Time
	IDs           []string // event_id of each event in data
	Query         map[string][]string
	TestEventCode string
	PartnerAgent  string
	Body          []byte
}

// fakeGraph is a small Graph API stand-in: it decodes each request like Facebook would and lets the test answer.
type fakeGraph struct {
	srv    *httptest.Server
	calls  atomic.Int64
	mu     sync.Mutex
	seen   []graphRequest
	answer func(w http.ResponseWriter, r *http.Request, req graphRequest)
}

func newFakeGraph(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, req graphRequest)) *fakeGraph {
	t.Helper()
	g := &fakeGraph{answer: answer}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/v24.0/"+testPixel+"/events" {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		}
		var payload struct {
			Data []struct {
				EventID string `json:"event_id"`
			} `json:"data"`
			TestEventCode string `json:"test_event_code"`
			PartnerAgent  string `json:"partner_agent"`
		}
		if err := json.Unmarshal(body, &payload); err != nil {
			t.Errorf("request body is not JSON: %v", err)
			writeBody(w, 400, `{"error":{"message":"(#100) Invalid JSON","type":"OAuthException","code":100,"fbtrace_id":"Ax"}}`)
			return
		}
		req := graphRequest{N: int(g.calls.Add(1)), At: time.Now(), Query: r.URL.Query(), Body: body,
			TestEventCode: payload.TestEventCode, PartnerAgent: payload.PartnerAgent}
		for _, e := range payload.Data {
			req.IDs = append(req.IDs, e.EventID)
		}
		g.mu.Lock()
		g.seen = append(g.seen, req)
		g.mu.Unlock()
		g.answer(w, r, req)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) requests() []graphRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]graphRequest(nil), g.seen...)
}

func writeOK(w http.ResponseWriter, n int) {
	writeBody(w, 200, fmt.Sprintf(`{"events_received":%d,"messages":[],"fbtrace_id":"AbCdEfGhIjK"}`, n))
}

func writeBody(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// Realistic Graph API error bodies.
const (
	bodyInsufficient = `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2804050,` +
		`"is_transient":false,"error_user_title":"Insufficient customer information","error_user_msg":"The event ` +
		`doesn't have enough customer information parameters to be matched.","fbtrace_id":"A1b2C3d4E5"}}`
	bodyTooOld = `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2804003,` +
		`"is_transient":false,"error_user_title":"Event Timestamp Too Old","error_user_msg":"The timestamp for this ` +
		`event is too far in the past.","fbtrace_id":"AtooOld"}}`
	bodyUnknownPixel = `{"error":{"message":"Unsupported post request. Object with ID '1234567890' does not exist, ` +
		`cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API ` +
		`documentation at https://developers.facebook.com/docs/graph-api","type":"GraphMethodException","code":100,` +
		`"error_subcode":33,"fbtrace_id":"AunknownPx"}}`
	bodyTokenExpired = `{"error":{"message":"Error validating access token: Session has expired on Friday, ` +
		`28-Nov-25 09:00:00 PST. The current time is Saturday, 29-Nov-25 03:12:10 PST.","type":"OAuthException",` +
		`"code":190,"error_subcode":463,"fbtrace_id":"Aexpired"}}`
	bodyServiceUnavailable = `{"error":{"message":"Service temporarily unavailable","type":"OAuthException",` +
		`"is_transient":true,"code":2,"fbtrace_id":"Atemp"}}`
	bodyUnknownError = `{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1,` +
		`"error_subcode":99,"is_transient":false,"fbtrace_id":"Aunknown"}}`
	bodyAdAccountThrottle = `{"error":{"message":"There have been too many calls to this ad-account. Wait a bit ` +
		`and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",` +
		`"type":"OAuthException","code":80004,"error_subcode":2446079,"is_transient":true,"fbtrace_id":"Athrottle"}}`
	bodyBadProof = `{"error":{"message":"Invalid appsecret_proof provided in the API argument","type":"GraphMethodException",` +
		`"code":100,"fbtrace_id":"Aproof"}}`
)

// testItems builds n encoded events with event_id ev-<i>.
func testItems(n int, eventTime int64) []Item {
	items := make([]Item, n)
	for i := range items {
		id := fmt.Sprintf("ev-%d", i)
		items[i] = Item{
			JSON: fmt.Appendf(nil, `{"event_name":"Purchase","event_time":%d,"event_id":%q,"action_source":"website",`+
				`"user_data":{"em":["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"]},`+
				`"custom_data":{"value":12.5,"currency":"EUR"}}`, eventTime, id),
			EventID: id, EventTime: eventTime, ActionSource: "website",
		}
	}
	return items
}

// testAPIVersion is the version path segment of every test client (config.Default's graph.api_version).
const testAPIVersion = "v24.0"

// configOptions are the options config.Default gives a destination (request timeout, retry, breaker).
func configOptions() Options {
	return Options{
		RequestTimeout: 30 * time.Second, InitialBackoff: 500 * time.Millisecond, MaxBackoff: time.Minute,
		ThrottleBackoff: time.Minute, Breaker: BreakerSettings{ConsecutiveFailures: 5, OpenTimeout: 30 * time.Second},
	}
}

// fastOptions shrinks every wait so tests run in milliseconds.
func fastOptions() Options {
	return Options{
		RequestTimeout:     2 * time.Second,
		InitialBackoff:     time.Millisecond,
		MaxBackoff:         4 * time.Millisecond,
		ThrottleBackoff:    2 * time.Millisecond,
		MaxThrottleBackoff: 100 * time.Millisecond,
		Breaker:            BreakerSettings{ConsecutiveFailures: 100, OpenTimeout: 20 * time.Millisecond},
	}
}

func newTestClient(t *testing.T, baseURL string, opt Options) *Client {
	t.Helper()
	c, err := New(Destination{Name: "shop-fr", PixelID: testPixel, AccessToken: testToken, AppSecret: testSecret,
		BaseURL: baseURL, APIVersion: testAPIVersion}, opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// recorder is an Observer and an OnStateChange sink.
type recorder struct {
	mu          sync.Mutex
	retries     []string
	outcomes    []string
	transitions []string
}

func (r *recorder) Request(_, outcome string, _, _ int, _ time.Duration, _ int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, outcome)
}

func (r *recorder) Retry(_, class string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, class)
}

func (r *recorder) stateChange(_ string, from, to gobreaker.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.transitions = append(r.transitions, from.String()+"→"+to.String())
}

func (r *recorder) snapshot() (retries, outcomes, transitions []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.retries...), append([]string(nil), r.outcomes...),
		append([]string(nil), r.transitions...)
}

func allIndices(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
