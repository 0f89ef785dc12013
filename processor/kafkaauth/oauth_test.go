package kafkaauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/capi-connector/capi-connector/config"
)

const clientSecret = "s3cret-never-logged"

// idp is a token endpoint recording what it was sent. It accepts the client by HTTP Basic only.
type idp struct {
	mu       sync.Mutex
	secret   string
	status   int // non-zero: answer this status with an OAuth error
	requests int
	issued   int
	lastForm map[string][]string
	ttl      int
}

func (p *idp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	_ = r.ParseForm()
	p.lastForm = r.PostForm
	w.Header().Set("Content-Type", "application/json")
	id, secret, ok := r.BasicAuth()
	switch {
	case p.status != 0:
		w.WriteHeader(p.status)
		_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"down for maintenance"}`))
		return
	case !ok || id != "capi" || secret != p.secret || r.PostForm.Get("client_secret") != "":
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"bad client"}`))
		return
	}
	p.issued++
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("tok-%d", p.issued),
		"token_type": "Bearer", "expires_in": p.ttl})
}

func (p *idp) set(f func(p *idp)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *idp) counts() (requests, issued int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests, p.issued
}

func newIDP(t *testing.T) (*idp, string) {
	t.Helper()
	p := &idp{secret: clientSecret, ttl: 30}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL + "/token"
}

func oauthConfig(url string) config.SASL {
	return config.SASL{Mechanism: config.SASLOAuthBearer, OAuth: config.OAuth{
		TokenURL: url, ClientID: "capi", ClientSecret: clientSecret, Scope: "kafka.read kafka.write",
		Extensions: map[string]string{"logicalCluster": "lkc-1", "identityPoolId": "pool-2"},
	}}
}

// fakeClock is a settable now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newOAuth(t *testing.T, s config.SASL, logs *bytes.Buffer) (*Auth, *fakeClock) {
	t.Helper()
	a, err := New(context.Background(), s, zerolog.New(logs).Level(zerolog.DebugLevel), Options{})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	a.tokens.now = clock.now
	return a, clock
}

// initial authenticates once and returns the client's first OAUTHBEARER message.
func initial(t *testing.T, a *Auth) string {
	t.Helper()
	_, first, err := a.Mechanism().Authenticate(context.Background(), "127.0.0.1:9092")
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return string(first)
}

func TestOAuthTokenFetchedOnceByBasicAuthAndPresentedWithExtensions(t *testing.T) {
	p, url := newIDP(t)
	var logs bytes.Buffer
	a, _ := newOAuth(t, oauthConfig(url), &logs)
	if err := a.Prepare(context.Background()); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	msg := initial(t, a)
	_ = initial(t, a)
	if want := "n,,\x01auth=Bearer tok-1\x01identityPoolId=pool-2\x01logicalCluster=lkc-1\x01\x01"; msg != want {
		t.Errorf("initial message = %q, want %q", msg, want)
	}
	if req, issued := p.counts(); req != 1 || issued != 1 {
		t.Errorf("token requests = %d (issued %d), want 1: the token is cached between connections", req, issued)
	}
	if got := p.lastForm["grant_type"]; len(got) != 1 || got[0] != "client_credentials" {
		t.Errorf("grant_type = %v", got)
	}
	if got := p.lastForm["scope"]; len(got) != 1 || got[0] != "kafka.read kafka.write" {
		t.Errorf("scope = %v", got)
	}
	if a.TokensFetched() != 1 || a.Health() != nil {
		t.Errorf("TokensFetched = %d, Health = %v", a.TokensFetched(), a.Health())
	}
	if strings.Contains(logs.String(), clientSecret) || strings.Contains(logs.String(), "tok-1") {
		t.Errorf("the secret or the token reached the log: %s", logs.String())
	}
}

func TestOAuthTokenRefreshedBeforeExpiry(t *testing.T) {
	p, url := newIDP(t)
	var logs bytes.Buffer
	a, clock := newOAuth(t, oauthConfig(url), &logs)
	for i, tc := range []struct {
		advance time.Duration
		want    string
	}{
		{0, "tok-1"},
		{19 * time.Second, "tok-1"}, // 30 s token: kept for two thirds of its life
		{2 * time.Second, "tok-2"},  // 21 s: refreshed, 9 s before it expires
		{15 * time.Second, "tok-2"},
		{6 * time.Second, "tok-3"},
	} {
		clock.add(tc.advance)
		if msg := initial(t, a); !strings.Contains(msg, "Bearer "+tc.want+"\x01") {
			t.Errorf("step %d: presented %q, want %s", i, msg, tc.want)
		}
	}
	if _, issued := p.counts(); issued != 3 {
		t.Errorf("issued %d tokens, want 3", issued)
	}
}

// A failing endpoint: while the cached token is valid it is still presented (and Health reports the failure);
// once it has expired authentication fails with the endpoint's reason; when the endpoint is back, everything
// recovers without intervention.
func TestOAuthEndpointFailureThenRecovery(t *testing.T) {
	p, url := newIDP(t)
	var logs bytes.Buffer
	a, clock := newOAuth(t, oauthConfig(url), &logs)
	_ = initial(t, a)
	p.set(func(p *idp) { p.status = http.StatusServiceUnavailable })
	clock.add(25 * time.Second)
	if msg := initial(t, a); !strings.Contains(msg, "Bearer tok-1\x01") {
		t.Errorf("with a failing endpoint and a valid token, presented %q", msg)
	}
	err := a.Health()
	var te *TokenError
	if !errors.As(err, &te) || te.Status != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "down for maintenance") {
		t.Fatalf("Health = %v, want the endpoint's 503 and its description", err)
	}
	if errors.Is(err, ErrRefused) {
		t.Errorf("a 503 is not a refusal: %v", err)
	}
	clock.add(10 * time.Second) // the token has expired
	if _, _, err := a.Mechanism().Authenticate(context.Background(), "b:9092"); !errors.As(err, &te) {
		t.Fatalf("Authenticate with an expired token and a failing endpoint = %v, want a *TokenError", err)
	}
	p.set(func(p *idp) { p.status = 0 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for a.Health() != nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := a.Health(); err != nil {
		t.Fatalf("Health after the endpoint recovered = %v; Run should have fetched a token", err)
	}
	cancel()
	<-done
	if msg := initial(t, a); !strings.Contains(msg, "Bearer tok-2\x01") {
		t.Errorf("after recovery presented %q, want tok-2", msg)
	}
}

// A wrong client secret is a refusal; a rotated secret file is read again at the next request.
func TestOAuthRefusedThenRotatedSecretFile(t *testing.T) {
	p, url := newIDP(t)
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("old-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := oauthConfig(url)
	s.OAuth.ClientSecret, s.OAuth.ClientSecretFile = "old-secret", file
	var logs bytes.Buffer
	a, _ := newOAuth(t, s, &logs)
	err := a.Prepare(context.Background())
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("Prepare with a wrong secret = %v, want ErrRefused", err)
	}
	hint := Refusal(err, a)
	for _, want := range []string{"SASL authentication failed", `client_id "capi"`, "OAUTHBEARER"} {
		if !strings.Contains(hint, want) {
			t.Errorf("Refusal = %q, want it to contain %q", hint, want)
		}
	}
	if err := os.WriteFile(file, []byte(clientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Prepare(context.Background()); err != nil {
		t.Fatalf("Prepare after the secret file was rotated = %v", err)
	}
	if _, issued := p.counts(); issued != 1 {
		t.Errorf("issued %d, want 1", issued)
	}
	for _, secret := range []string{"old-secret", clientSecret} {
		if strings.Contains(logs.String(), secret) || strings.Contains(hint, secret) {
			t.Errorf("a client secret reached the log or the message")
		}
	}
}

// A token the broker answers with an error challenge (RFC 7628) is dropped: the next connection fetches another.
func TestOAuthRefusedTokenIsDropped(t *testing.T) {
	p, url := newIDP(t)
	var logs bytes.Buffer
	a, _ := newOAuth(t, oauthConfig(url), &logs)
	sess, _, err := a.Mechanism().Authenticate(context.Background(), "b:9092")
	if err != nil {
		t.Fatal(err)
	}
	done, reply, err := sess.Challenge([]byte(`{"status":"invalid_token"}`))
	if done || err != nil || string(reply) != "\x01" {
		t.Fatalf("Challenge(error) = %v %q %v, want the RFC 7628 %%x01 reply", done, reply, err)
	}
	if msg := initial(t, a); !strings.Contains(msg, "Bearer tok-2\x01") {
		t.Errorf("after a refused token presented %q, want a new one", msg)
	}
	if _, issued := p.counts(); issued != 2 {
		t.Errorf("issued %d, want 2", issued)
	}
}

func TestRefreshTime(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		life, want time.Duration
	}{
		{30 * time.Second, 20 * time.Second},
		{3 * time.Second, 2 * time.Second},
		{time.Hour, 59 * time.Minute},
	} {
		if got := refreshTime(start, start.Add(tc.life)).Sub(start); got != tc.want {
			t.Errorf("life %s: refresh after %s, want %s", tc.life, got, tc.want)
		}
	}
}

func TestJWTExpiry(t *testing.T) {
	// header.payload.signature with payload {"sub":"x","exp":1800000000}
	tok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjoxODAwMDAwMDAwfQ.c2ln"
	if got := jwtExpiry(tok); !got.Equal(time.Unix(1800000000, 0)) {
		t.Errorf("jwtExpiry = %v", got)
	}
	for _, bad := range []string{"", "opaque-token", "a.!!!.c", "a.e30.c"} {
		if got := jwtExpiry(bad); !got.IsZero() {
			t.Errorf("jwtExpiry(%q) = %v, want zero", bad, got)
		}
	}
}
