package kafkaauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/capi-connector/capi-connector/config"
)

const (
	// tokenRequestTimeout bounds one token request: franz-go authenticates with the client's own context, which
	// has no deadline, and a hung identity provider must not hang the connection for ever.
	tokenRequestTimeout = 15 * time.Second
	// maxRefreshLead is the most a token is refreshed ahead of its expiry (a third of its lifetime otherwise).
	maxRefreshLead = time.Minute
	// expirySkew: a token this close to its expiry is not presented any more (clocks differ; the broker may
	// receive it a little later).
	expirySkew = 2 * time.Second
	minRetry   = time.Second
	maxRetry   = 10 * time.Second
)

// TokenError is a failed token request: which endpoint, which client, what it answered. It never holds the client
// secret or a token; the response body is reduced to the OAuth error code and description.
type TokenError struct {
	URL         string // scheme://host/path, without query or user info
	ClientID    string
	Status      int    // HTTP status, 0 when there was no answer
	Code        string // OAuth error code (invalid_client…), when given
	Description string // OAuth error_description, shortened
	Err         error  // the underlying error (network, or *oauth2.RetrieveError)
}

func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "OAuth token endpoint %s, client_id %q: ", e.URL, e.ClientID)
	switch {
	case e.Status != 0:
		fmt.Fprintf(&b, "HTTP %d %s", e.Status, http.StatusText(e.Status))
		if e.Code != "" {
			b.WriteString(": " + e.Code)
		}
		if e.Description != "" {
			b.WriteString(" (" + e.Description + ")")
		}
	default:
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *TokenError) Unwrap() error { return e.Err }

// refused reports whether the identity provider refused the client itself: retrying with the same credentials
// cannot succeed.
func (e *TokenError) refused() bool {
	switch e.Code {
	case "invalid_client", "unauthorized_client", "invalid_grant", "invalid_scope", "unsupported_grant_type":
		return true
	}
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// tokenSource fetches and caches OAuth access tokens by the client credentials grant (client_secret_basic). One
// token serves every connection until it nears expiry; requests are serialised, so concurrent connections wait for
// one fetch instead of each asking the identity provider.
type tokenSource struct {
	cfg    config.OAuth
	url    string // for messages
	scopes []string
	client *http.Client
	log    zerolog.Logger
	now    func() time.Time
	secret *passwordFile // the client secret, read again from its file at every request

	mu        sync.Mutex
	tok       string
	expiry    time.Time // zero: unknown (no expires_in, no JWT exp)
	refreshAt time.Time
	lastErr   error
	fetched   int
	wake      chan struct{} // poked when the token is invalidated, so run refetches at once
}

func newTokenSource(c config.OAuth, log zerolog.Logger) *tokenSource {
	display := c.TokenURL
	if u, err := url.Parse(c.TokenURL); err == nil {
		display = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	}
	return &tokenSource{
		cfg:    c,
		url:    display,
		scopes: strings.FieldsFunc(c.Scope, func(r rune) bool { return r == ' ' || r == ',' }),
		client: &http.Client{Timeout: tokenRequestTimeout},
		log:    log,
		now:    time.Now,
		secret: &passwordFile{value: c.ClientSecret, file: c.ClientSecretFile, log: log},
		wake:   make(chan struct{}, 1),
	}
}

// mechanism is OAUTHBEARER presenting the cached token (and the configured extensions). A token the broker
// refuses is dropped from the cache, so the next attempt presents a fresh one.
func (s *tokenSource) mechanism() sasl.Mechanism {
	return &invalidating{tokens: s, Mechanism: oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
		tok, err := s.token(ctx)
		if err != nil {
			return oauth.Auth{}, err
		}
		return oauth.Auth{Token: tok, Extensions: s.cfg.Extensions}, nil
	})}
}

// token returns a token valid for a while: the cached one, or a new one once the cached one is due for refresh.
// When a refresh fails but the cached token is still valid, the cached token is returned (and the failure kept
// for Health).
func (s *tokenSource) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.tok != "" && now.Before(s.refreshAt) {
		return s.tok, nil
	}
	err := s.fetchLocked(ctx)
	if err == nil {
		return s.tok, nil
	}
	if s.tok != "" && (s.expiry.IsZero() || now.Before(s.expiry.Add(-expirySkew))) {
		return s.tok, nil
	}
	return "", err
}

// fetchLocked requests a new token. s.mu is held: concurrent callers wait for this one request.
func (s *tokenSource) fetchLocked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, tokenRequestTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	cc := clientcredentials.Config{
		ClientID:     s.cfg.ClientID,
		ClientSecret: s.secret.get().Reveal(),
		TokenURL:     s.cfg.TokenURL,
		Scopes:       s.scopes,
		AuthStyle:    oauth2.AuthStyleInHeader, // client_secret_basic
	}
	start := s.now()
	t, err := cc.Token(ctx)
	if err == nil && t.AccessToken == "" {
		err = errors.New("the token endpoint answered without an access_token")
	}
	if err != nil {
		terr := s.tokenError(err)
		s.lastErr = terr
		if terr.refused() {
			s.lastErr = &RefusedError{Identity: fmt.Sprintf("client_id %q", s.cfg.ClientID), Err: terr}
		}
		s.log.Warn().Err(s.lastErr).Msg("cannot get an OAuth token for Kafka")
		return s.lastErr
	}
	// oauth2 turns expires_in into an Expiry on the wall clock just now; carry it over to s.now's clock.
	var expiry time.Time
	if !t.Expiry.IsZero() {
		expiry = start.Add(time.Until(t.Expiry))
	} else {
		expiry = jwtExpiry(t.AccessToken)
	}
	s.tok, s.expiry, s.lastErr = t.AccessToken, expiry, nil
	s.fetched++
	s.refreshAt = refreshTime(start, expiry)
	ev := s.log.Debug().Int("tokens_fetched", s.fetched)
	if !expiry.IsZero() {
		ev = ev.Dur("expires_in", expiry.Sub(start).Round(time.Second))
	}
	ev.Msg("OAuth token fetched for Kafka")
	return nil
}

// refreshTime is when a token obtained at start and expiring at expiry is replaced: a third of its lifetime
// before expiry, at most a minute before. A token of unknown lifetime is kept until the broker refuses it.
func refreshTime(start, expiry time.Time) time.Time {
	if expiry.IsZero() {
		return start.Add(100 * 365 * 24 * time.Hour)
	}
	life := expiry.Sub(start)
	if life <= 0 {
		return start
	}
	return expiry.Add(-min(life/3, maxRefreshLead))
}

func (s *tokenSource) tokenError(err error) *TokenError {
	e := &TokenError{URL: s.url, ClientID: s.cfg.ClientID, Err: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			e.Status = re.Response.StatusCode
		}
		e.Code = re.ErrorCode
		e.Description = shorten(re.ErrorDescription, 200)
		e.Err = fmt.Errorf("HTTP %d", e.Status) // RetrieveError's text carries the whole response body
	}
	return e
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// jwtExpiry reads the exp claim of a JWT access token without verifying it (the broker verifies; this only tells
// when to refresh), or returns zero.
func jwtExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return time.Time{}
	}
	exp, err := claims.Exp.Int64()
	if err != nil || exp <= 0 {
		return time.Time{}
	}
	return time.Unix(exp, 0)
}

// invalidate drops tok if it is still the cached token (the broker refused it).
func (s *tokenSource) invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != tok || tok == "" {
		return
	}
	s.tok, s.refreshAt = "", time.Time{}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run refreshes the token ahead of expiry until ctx ends, and retries a failing endpoint (1 s doubling to 10 s),
// so that Health recovers by itself even when no connection needs a token at that moment.
func (s *tokenSource) run(ctx context.Context) {
	retry := minRetry
	for {
		s.mu.Lock()
		var wait time.Duration
		switch {
		case s.lastErr != nil || s.tok == "":
			wait = retry
			retry = min(retry*2, maxRetry)
		default:
			wait = s.refreshAt.Sub(s.now())
			retry = minRetry
		}
		s.mu.Unlock()
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
			t.Stop()
		case <-t.C:
		}
		s.mu.Lock()
		if s.tok == "" || s.lastErr != nil || !s.now().Before(s.refreshAt) {
			_ = s.fetchLocked(ctx)
		}
		s.mu.Unlock()
	}
}

func (s *tokenSource) health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

func (s *tokenSource) fetchedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetched
}

// invalidating wraps OAUTHBEARER: RFC 7628 has the server answer a refused token with an error challenge, which
// we take as the signal to drop the token.
type invalidating struct {
	sasl.Mechanism
	tokens *tokenSource
}

func (m *invalidating) Authenticate(ctx context.Context, host string) (sasl.Session, []byte, error) {
	sess, first, err := m.Mechanism.Authenticate(ctx, host)
	if err != nil {
		return nil, nil, err
	}
	m.tokens.mu.Lock()
	tok := m.tokens.tok
	m.tokens.mu.Unlock()
	return &invalidatingSession{Session: sess, drop: func() { m.tokens.invalidate(tok) }}, first, nil
}

type invalidatingSession struct {
	sasl.Session
	drop func()
}

func (s *invalidatingSession) Challenge(resp []byte) (bool, []byte, error) {
	if len(resp) > 0 {
		s.drop()
	}
	return s.Session.Challenge(resp)
}
