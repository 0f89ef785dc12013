package capi

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/sony/gobreaker/v2"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

const eventTime = 1_764_400_000

func TestSendDeliversBodyAndCredentials(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req graphRequest) {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		writeOK(w, len(req.IDs))
	})
	c, err := New(Destination{Name: "shop-fr", PixelID: testPixel, AccessToken: testToken, AppSecret: testSecret,
		TestEventCode: "TEST4242", PartnerAgent: "capi-connector", BaseURL: g.srv.URL + "/", APIVersion: testAPIVersion}, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	items := testItems(3, eventTime)
	res, err := c.Send(context.Background(), items)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !slices.Equal(res.Delivered, []int{0, 1, 2}) || len(res.Rejected) != 0 || len(res.TooOld) != 0 {
		t.Fatalf("result = %+v", res)
	}
	reqs := g.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.TestEventCode != "TEST4242" || r.PartnerAgent != "capi-connector" {
		t.Errorf("test_event_code=%q partner_agent=%q", r.TestEventCode, r.PartnerAgent)
	}
	events := [][]byte{items[0].JSON, items[1].JSON, items[2].JSON}
	if want := fbevent.AppendBatch(nil, events, "TEST4242", "capi-connector"); !bytes.Equal(r.Body, want) {
		t.Errorf("body differs from fbevent.AppendBatch:\n got %s\nwant %s", r.Body, want)
	}
	if got := r.Query["access_token"]; !slices.Equal(got, []string{testToken}) {
		t.Errorf("access_token = %v", got)
	}
}

// TestBodyGolden pins the exact bytes of a request body: items verbatim, optional keys escaped.
func TestBodyGolden(t *testing.T) {
	t.Parallel()
	c, err := New(Destination{PixelID: testPixel, AccessToken: testToken, TestEventCode: `TEST"1`, BaseURL: "https://graph.facebook.com",
		PartnerAgent: "capi-connector/1.0", APIVersion: testAPIVersion}, configOptions())
	if err != nil {
		t.Fatal(err)
	}
	items := testItems(3, eventTime)
	got := appendBody(nil, items, []int{2, 0}, c.tail)
	want, err := os.ReadFile("testdata/body.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.TrimRight(want, "\n")) {
		t.Errorf("body:\n got %s\nwant %s", got, want)
	}
}

func TestAppSecretProof(t *testing.T) {
	t.Parallel()
	if got := AppSecretProof(testSecret, testToken); got != testProof {
		t.Fatalf("AppSecretProof = %s, want %s", got, testProof)
	}
	tests := []struct {
		name   string
		secret string
		want   []string
	}{
		{"with app secret", testSecret, []string{testProof}},
		{"without app secret", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) { writeOK(w, len(req.IDs)) })
			c, err := New(Destination{PixelID: testPixel, AccessToken: testToken, AppSecret: tt.secret, BaseURL: g.srv.URL, APIVersion: testAPIVersion}, fastOptions())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Send(context.Background(), testItems(1, eventTime)); err != nil {
				t.Fatal(err)
			}
			if got := g.requests()[0].Query["appsecret_proof"]; !slices.Equal(got, tt.want) {
				t.Errorf("appsecret_proof = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dest Destination
	}{
		{"no pixel", Destination{AccessToken: testToken}},
		{"no token", Destination{PixelID: testPixel}},
		{"bad scheme", Destination{PixelID: testPixel, AccessToken: testToken, BaseURL: "ftp://graph.facebook.com", APIVersion: testAPIVersion}},
		{"query in base", Destination{PixelID: testPixel, AccessToken: testToken, BaseURL: "https://graph.facebook.com?x=1", APIVersion: testAPIVersion}},
		{"no base URL", Destination{PixelID: testPixel, AccessToken: testToken, APIVersion: testAPIVersion}},
		{"no API version", Destination{PixelID: testPixel, AccessToken: testToken, BaseURL: "https://graph.facebook.com"}},
		{"version with slash", Destination{PixelID: testPixel, AccessToken: testToken, BaseURL: "https://graph.facebook.com", APIVersion: "v24.0/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.dest, configOptions())
			if !errors.Is(err, ErrInvalidDestination) {
				t.Fatalf("err = %v, want ErrInvalidDestination", err)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

// TestRetryThenSuccess: every transient failure is retried with the same events until Facebook accepts them.
func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fail      func(w http.ResponseWriter, req graphRequest)
		wantClass string
	}{
		{"500 code 1", func(w http.ResponseWriter, _ graphRequest) { writeBody(w, 500, bodyUnknownError) }, "transient"},
		{"503 code 2 is_transient", func(w http.ResponseWriter, _ graphRequest) { writeBody(w, 503, bodyServiceUnavailable) }, "transient"},
		{"502 html", func(w http.ResponseWriter, _ graphRequest) { writeBody(w, 502, "<html>Bad Gateway</html>") }, "transient"},
		{"429", func(w http.ResponseWriter, _ graphRequest) { writeBody(w, 429, "") }, "throttled"},
		{"80004 throttled", func(w http.ResponseWriter, _ graphRequest) { writeBody(w, 400, bodyAdAccountThrottle) }, "throttled"},
		{"200 with short count", func(w http.ResponseWriter, req graphRequest) { writeOK(w, len(req.IDs)-1) }, "transient"},
		{"connection dropped", func(w http.ResponseWriter, _ graphRequest) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, "transient"},
		{"timeout", func(w http.ResponseWriter, _ graphRequest) { time.Sleep(150 * time.Millisecond) }, "transient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) {
				if req.N == 1 {
					tt.fail(w, req)
					return
				}
				writeOK(w, len(req.IDs))
			})
			rec := &recorder{}
			opt := fastOptions()
			opt.RequestTimeout = 50 * time.Millisecond
			opt.Observer = rec
			c := newTestClient(t, g.srv.URL, opt)
			res, err := c.Send(context.Background(), testItems(5, eventTime))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if !slices.Equal(res.Delivered, allIndices(5)) {
				t.Fatalf("delivered %v", res.Delivered)
			}
			reqs := g.requests()
			if len(reqs) != 2 || !slices.Equal(reqs[0].IDs, reqs[1].IDs) {
				t.Fatalf("requests: %d, want the same 5 events twice", len(reqs))
			}
			retries, outcomes, _ := rec.snapshot()
			if !slices.Equal(retries, []string{tt.wantClass}) {
				t.Errorf("retries = %v, want [%s]", retries, tt.wantClass)
			}
			if outcomes[len(outcomes)-1] != "ok" {
				t.Errorf("outcomes = %v", outcomes)
			}
		})
	}
}

// TestThrottleHonoursBusinessUseCaseHeader: the wait follows estimated_time_to_regain_access (1 minute here),
// capped by MaxThrottleBackoff, instead of the tiny ThrottleBackoff.
func TestThrottleHonoursBusinessUseCaseHeader(t *testing.T) {
	t.Parallel()
	const cap = 120 * time.Millisecond
	g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) {
		if req.N == 1 {
			w.Header().Set("X-Business-Use-Case-Usage",
				`{"112233445566":[{"type":"ads_management","call_count":100,"total_cputime":34,"total_time":41,"estimated_time_to_regain_access":1}]}`)
			writeBody(w, 400, bodyAdAccountThrottle)
			return
		}
		writeOK(w, len(req.IDs))
	})
	opt := fastOptions()
	opt.ThrottleBackoff = time.Millisecond
	opt.MaxThrottleBackoff = cap
	c := newTestClient(t, g.srv.URL, opt)
	res, err := c.Send(context.Background(), testItems(2, eventTime))
	if err != nil || len(res.Delivered) != 2 {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	reqs := g.requests()
	if gap := reqs[1].At.Sub(reqs[0].At); gap < cap {
		t.Errorf("resent after %v, want ≥ %v (header honoured, capped)", gap, cap)
	}
}

// TestThrottleHoldsOtherSends: once throttled, a concurrent Send of the same client waits too.
func TestThrottleHoldsOtherSends(t *testing.T) {
	t.Parallel()
	const hold = 100 * time.Millisecond
	g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) {
		if req.N == 1 {
			w.Header().Set("Retry-After", "1")
			writeBody(w, 429, "")
			return
		}
		writeOK(w, len(req.IDs))
	})
	opt := fastOptions()
	opt.MaxThrottleBackoff = hold
	c := newTestClient(t, g.srv.URL, opt)
	if _, err := c.Send(context.Background(), testItems(1, eventTime)); err != nil {
		t.Fatal(err)
	}
	// The hold set by request 1 is over by now; set a fresh one and check an unrelated Send respects it.
	c.holdThrottled(hold)
	start := time.Now()
	if _, err := c.Send(context.Background(), testItems(1, eventTime)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < hold-5*time.Millisecond {
		t.Errorf("second Send went out after %v, want ≥ %v", d, hold)
	}
}

func TestMisconfiguredStopsWithoutRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		code   int
	}{
		{"190 token expired", 400, bodyTokenExpired, 190},
		{"100/33 unknown pixel", 400, bodyUnknownPixel, 100},
		{"10 permission", 403, graphBody(10, 0, false, "(#10) Permission denied"), 10},
		{"200 permissions", 403, graphBody(200, 0, false, "(#200) Permissions error"), 200},
		{"102 session", 400, graphBody(102, 0, false, "Session key invalid"), 102},
		{"3 capability", 400, graphBody(3, 0, false, "(#3) capability"), 3},
		{"2500", 400, graphBody(2500, 0, false, "An active access token must be used to query information about the current user."), 2500},
		{"appsecret_proof", 400, bodyBadProof, 100},
		{"404 not graph", 404, "<html>Not Found</html>", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, _ graphRequest) { writeBody(w, tt.status, tt.body) })
			rec := &recorder{}
			opt := fastOptions()
			opt.OnStateChange = rec.stateChange
			opt.Breaker.ConsecutiveFailures = 1
			c := newTestClient(t, g.srv.URL, opt)
			res, err := c.Send(context.Background(), testItems(10, eventTime))
			var me *MisconfiguredError
			if !errors.As(err, &me) || !errors.Is(err, ErrMisconfigured) {
				t.Fatalf("err = %v, want *MisconfiguredError", err)
			}
			if me.Err.Code != tt.code || me.Err.HTTPStatus != tt.status || me.Destination != "shop-fr" {
				t.Errorf("graph error = %+v", me.Err)
			}
			if n := g.calls.Load(); n != 1 {
				t.Errorf("%d requests, want 1 (no retry, no bisection)", n)
			}
			if len(res.Delivered)+len(res.Rejected)+len(res.TooOld) != 0 {
				t.Errorf("result = %+v, want nothing decided", res)
			}
			if _, _, tr := rec.snapshot(); len(tr) != 0 {
				t.Errorf("breaker moved %v on a misconfiguration", tr)
			}
		})
	}
}

// poisonedGraph rejects any request containing one of the poisoned event IDs, like Facebook does.
func poisonedGraph(t *testing.T, poisoned ...string) *fakeGraph {
	return newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) {
		for _, id := range req.IDs {
			if slices.Contains(poisoned, id) {
				writeBody(w, 400, bodyInsufficient)
				return
			}
		}
		writeOK(w, len(req.IDs))
	})
}

func TestBisection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		n        int
		poisoned []int
	}{
		{"one of 500", 500, []int{137}},
		{"first of 500", 500, []int{0}},
		{"last of 1000", 1000, []int{999}},
		{"two of 500", 500, []int{3, 400}},
		{"two adjacent", 500, []int{250, 251}},
		{"single event", 1, []int{0}},
		{"all of 4", 4, []int{0, 1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			for _, i := range tt.poisoned {
				ids = append(ids, testItems(tt.n, eventTime)[i].EventID)
			}
			g := poisonedGraph(t, ids...)
			rec := &recorder{}
			opt := fastOptions()
			opt.Breaker.ConsecutiveFailures = 2 // event rejections must not trip it
			opt.OnStateChange = rec.stateChange
			c := newTestClient(t, g.srv.URL, opt)
			res, err := c.Send(context.Background(), testItems(tt.n, eventTime))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			var rejected []int
			for _, r := range res.Rejected {
				rejected = append(rejected, r.Index)
				if r.Err.Code != 100 || r.Err.Subcode != 2804050 || r.Err.UserTitle != "Insufficient customer information" {
					t.Errorf("rejection %d carries %+v", r.Index, r.Err)
				}
			}
			if !slices.Equal(rejected, tt.poisoned) {
				t.Errorf("rejected %v, want %v", rejected, tt.poisoned)
			}
			want := slices.DeleteFunc(allIndices(tt.n), func(i int) bool { return slices.Contains(tt.poisoned, i) })
			if !slices.Equal(res.Delivered, want) {
				t.Errorf("delivered %d events, want %d", len(res.Delivered), len(want))
			}
			// Each poisoned event costs at most two requests per level of the bisection tree.
			levels := int(math.Ceil(math.Log2(float64(tt.n))))
			if limit := 1 + 2*levels*len(tt.poisoned); int(g.calls.Load()) > limit {
				t.Errorf("%d requests, want ≤ %d", g.calls.Load(), limit)
			}
			t.Logf("%d requests for %d events, %d poisoned", g.calls.Load(), tt.n, len(tt.poisoned))
			if _, _, tr := rec.snapshot(); len(tr) != 0 {
				t.Errorf("breaker moved %v on event rejections", tr)
			}
		})
	}
}

func TestSendSplitsAtMaxBatch(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) {
		if len(req.IDs) > MaxBatch {
			writeBody(w, 400, graphBody(100, 0, false, "(#100) data can contain at most 1000 events"))
			return
		}
		writeOK(w, len(req.IDs))
	})
	c := newTestClient(t, g.srv.URL, fastOptions())
	res, err := c.Send(context.Background(), testItems(2500, eventTime))
	if err != nil || len(res.Delivered) != 2500 {
		t.Fatalf("delivered %d, err %v", len(res.Delivered), err)
	}
	var sizes []int
	for _, r := range g.requests() {
		sizes = append(sizes, len(r.IDs))
	}
	if !slices.Equal(sizes, []int{1000, 1000, 500}) {
		t.Errorf("request sizes %v", sizes)
	}
}

func TestBreaker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		failFirst int
		want      []string
	}{
		{"opens then half-open probe recovers", 3, []string{"closed→open", "open→half-open", "half-open→closed"}},
		{"failed probe re-opens", 4, []string{"closed→open", "open→half-open", "half-open→open", "open→half-open", "half-open→closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) {
				if req.N <= tt.failFirst {
					writeBody(w, 500, bodyUnknownError)
					return
				}
				writeOK(w, len(req.IDs))
			})
			rec := &recorder{}
			opt := fastOptions()
			opt.Breaker = BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: 40 * time.Millisecond}
			opt.OnStateChange = rec.stateChange
			opt.Observer = rec
			c := newTestClient(t, g.srv.URL, opt)
			res, err := c.Send(context.Background(), testItems(4, eventTime))
			if err != nil || len(res.Delivered) != 4 {
				t.Fatalf("Send = %+v, %v", res, err)
			}
			if n := int(g.calls.Load()); n != tt.failFirst+1 {
				t.Errorf("%d requests, want %d (none while open)", n, tt.failFirst+1)
			}
			reqs := g.requests()
			if gap := reqs[3].At.Sub(reqs[2].At); gap < opt.Breaker.OpenTimeout {
				t.Errorf("probe after %v, want ≥ open timeout %v", gap, opt.Breaker.OpenTimeout)
			}
			retries, _, transitions := rec.snapshot()
			if !slices.Equal(transitions, tt.want) {
				t.Errorf("transitions %v, want %v", transitions, tt.want)
			}
			if !slices.Contains(retries, "breaker_open") {
				t.Errorf("retries %v: no wait on the open breaker recorded", retries)
			}
			if s := c.State().String(); s != "closed" {
				t.Errorf("State() = %s", s)
			}
		})
	}
}

// TestBreakerHalfOpensWithoutSend: the runtime learns the open timeout elapsed even when no Send is waiting
// (its batches were abandoned), so it can resume fetching.
func TestBreakerHalfOpensWithoutSend(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, _ graphRequest) { writeBody(w, 503, "") })
	halfOpen := make(chan struct{})
	var once atomic.Bool
	opt := fastOptions()
	opt.Breaker = BreakerSettings{ConsecutiveFailures: 1, OpenTimeout: 30 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	opt.OnStateChange = func(_ string, _, to gobreaker.State) {
		switch to.String() {
		case "open":
			cancel()
		case "half-open":
			if once.CompareAndSwap(false, true) {
				close(halfOpen)
			}
		}
	}
	c := newTestClient(t, g.srv.URL, opt)
	if _, err := c.Send(ctx, testItems(1, eventTime)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	select {
	case <-halfOpen:
	case <-time.After(2 * time.Second):
		t.Fatal("no half-open notification after the open timeout")
	}
}

func TestCancelReturnsPromptly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		opt    func(*Options)
	}{
		{"waiting in backoff", func(w http.ResponseWriter, _ *http.Request) { writeBody(w, 503, bodyServiceUnavailable) },
			func(o *Options) { o.InitialBackoff, o.MaxBackoff = time.Hour, time.Hour }},
		{"waiting on throttling", func(w http.ResponseWriter, _ *http.Request) { writeBody(w, 400, bodyAdAccountThrottle) },
			func(o *Options) { o.ThrottleBackoff, o.MaxThrottleBackoff = time.Hour, time.Hour }},
		{"waiting on open breaker", func(w http.ResponseWriter, _ *http.Request) { writeBody(w, 500, bodyUnknownError) },
			func(o *Options) { o.Breaker = BreakerSettings{ConsecutiveFailures: 1, OpenTimeout: time.Hour} }},
		{"request in flight", func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			func(o *Options) { o.RequestTimeout = time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ graphRequest) { tt.answer(w, r) })
			opt := fastOptions()
			tt.opt(&opt)
			c := newTestClient(t, g.srv.URL, opt)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			res, err := c.Send(ctx, testItems(3, eventTime))
			if d := time.Since(start); d > time.Second {
				t.Errorf("Send returned after %v", d)
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if len(res.Delivered)+len(res.Rejected)+len(res.TooOld) != 0 {
				t.Errorf("result = %+v, want nothing decided", res)
			}
		})
	}
}

// TestCancelKeepsDecided: items decided before the cancellation are reported, the others are not.
func TestCancelKeepsDecided(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) {
		if req.N == 1 {
			writeOK(w, len(req.IDs))
			return
		}
		cancel()
		writeBody(w, 503, "")
	})
	c := newTestClient(t, g.srv.URL, fastOptions())
	res, err := c.Send(ctx, testItems(MaxBatch+10, eventTime))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if !slices.Equal(res.Delivered, allIndices(MaxBatch)) || len(res.Rejected)+len(res.TooOld) != 0 {
		t.Errorf("delivered %d, rejected %d, too old %d", len(res.Delivered), len(res.Rejected), len(res.TooOld))
	}
}

func TestTooOldOnRetry(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(eventTime)
	g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) {
		if req.N == 1 {
			clock.Add(1000) // the retry happens 1000 s later: item 2 has aged out meanwhile
			writeBody(w, 503, bodyServiceUnavailable)
			return
		}
		writeOK(w, len(req.IDs))
	})
	items := testItems(4, eventTime)
	items[2].EventTime = eventTime - 3000
	items[2].ActionSource = "physical_store"
	var sources atomic.Value
	opt := fastOptions()
	opt.Now = func() time.Time { return time.Unix(clock.Load(), 0) }
	opt.TooOld = func(et int64, src string, now time.Time) bool {
		if et == eventTime-3000 {
			sources.Store(src)
		}
		return now.Unix()-et > 3600
	}
	c := newTestClient(t, g.srv.URL, opt)
	res, err := c.Send(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Delivered, []int{0, 1, 3}) || !slices.Equal(res.TooOld, []int{2}) {
		t.Errorf("result = %+v", res)
	}
	reqs := g.requests()
	if len(reqs) != 2 || len(reqs[0].IDs) != 4 || !slices.Equal(reqs[1].IDs, []string{"ev-0", "ev-1", "ev-3"}) {
		t.Errorf("requests = %v", reqs)
	}
	if sources.Load() != "physical_store" {
		t.Errorf("TooOld got action source %v", sources.Load())
	}
}

func TestAllTooOldSendsNothing(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) { writeOK(w, len(req.IDs)) })
	opt := fastOptions()
	opt.TooOld = func(int64, string, time.Time) bool { return true }
	c := newTestClient(t, g.srv.URL, opt)
	res, err := c.Send(context.Background(), testItems(3, eventTime))
	if err != nil || !slices.Equal(res.TooOld, []int{0, 1, 2}) || g.calls.Load() != 0 {
		t.Fatalf("result %+v, err %v, %d requests", res, err, g.calls.Load())
	}
}

// TestSecretsNeverLeak drives failures whose natural error text would carry the URL (network errors) or the
// token (Facebook echoing it) and checks neither errors nor logs contain a secret.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	dead := newFakeGraph(t, nil)
	deadURL := dead.srv.URL
	dead.srv.Close()
	tests := []struct {
		name    string
		baseURL func(t *testing.T) string
		wantErr func(error) bool
		// wantPath: the failure produced no Graph answer, so the error names the request path (and only the path).
		wantPath bool
	}{
		{"connection refused", func(*testing.T) string { return deadURL },
			func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }, true},
		{"token echoed in a 190", func(t *testing.T) string {
			g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, _ graphRequest) {
				writeBody(w, 400, graphBody(190, 0, false, "Malformed access token "+testToken+" (proof "+testProof+")"))
			})
			return g.srv.URL
		}, func(err error) bool { return errors.Is(err, ErrMisconfigured) }, false},
		{"token echoed in a retried 500", func(t *testing.T) string {
			g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, _ graphRequest) {
				writeBody(w, 500, graphBody(1, 0, true, "unknown error for "+testToken))
			})
			return g.srv.URL
		}, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }, false},
		{"request timeout", func(t *testing.T) string {
			g := newFakeGraph(t, func(_ http.ResponseWriter, r *http.Request, _ graphRequest) {
				select {
				case <-r.Context().Done():
				case <-time.After(time.Second):
				}
			})
			return g.srv.URL
		}, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := zerolog.New(&logs).Level(zerolog.DebugLevel)
			opt := fastOptions()
			opt.Logger = &logger
			opt.RequestTimeout = 20 * time.Millisecond
			c := newTestClient(t, tt.baseURL(t), opt)
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			_, err := c.Send(ctx, testItems(2, eventTime))
			if err == nil || !tt.wantErr(err) {
				t.Fatalf("err = %v", err)
			}
			for what, text := range map[string]string{"error": err.Error(), "logs": logs.String()} {
				for _, secret := range []string{testToken, testSecret, testProof, "access_token="} {
					if strings.Contains(text, secret) {
						t.Errorf("%s contain %q: %s", what, secret, text)
					}
				}
			}
			if tt.wantPath && !strings.Contains(err.Error(), "POST /v24.0/"+testPixel+"/events") {
				t.Errorf("error does not name the request path: %v", err)
			}
			if logs.Len() == 0 {
				t.Error("nothing logged")
			}
		})
	}
}

func TestEmptySend(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://graph.invalid", fastOptions())
	res, err := c.Send(context.Background(), nil)
	if err != nil || res.Delivered != nil {
		t.Fatalf("Send(nil) = %+v, %v", res, err)
	}
}
