// Package capi is the Graph API client of the Conversions API. It delivers a batch of already-encoded server events
// to one destination (pixel) and decides, for every event, its final outcome: delivered, rejected by Facebook (the
// runtime sends it to the DLQ with Facebook's error), or too old to retry (DLQ event_too_old).
//
// Transient failures never reach the caller: they are retried inside Send with exponential backoff and full jitter,
// throttling waits as long as Facebook asks, and a circuit breaker per destination stops hammering a failing API
// (the runtime pauses fetching through Options.OnStateChange meanwhile). Send returns an error only when it cannot
// finish: the context was cancelled, or the destination is misconfigured (*MisconfiguredError).
//
// Secrets: the access token and the appsecret_proof travel in the query string of the request URL. That URL is never
// logged nor put in an error; errors name the request path (/{version}/{pixel}/events) only, and Facebook's own
// messages are scrubbed of the token before they are kept.
package capi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/sony/gobreaker/v2"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// Limits and the defaults of what the configuration does not set. The values the configuration holds (Graph URL
// and API version, request timeout, retry and breaker settings) have their one default in config.Default; New
// requires them.
const (
	// MaxBatch is the Graph API's cap on events per request. Send splits longer inputs into requests of this size.
	MaxBatch = 1000

	// DefaultMaxThrottleBackoff caps the wait a throttling hint asks for (Options.MaxThrottleBackoff).
	DefaultMaxThrottleBackoff = 15 * time.Minute
)

// ErrInvalidDestination is wrapped by New when a Destination cannot be used (missing pixel or token, bad URL).
var ErrInvalidDestination = errors.New("capi: invalid destination")

// Destination is one pixel and the credentials to post to it.
type Destination struct {
	// Name identifies the destination in logs, metrics and OnStateChange. Defaults to PixelID.
	Name string
	// PixelID is the dataset (pixel) the events are posted to. Required.
	PixelID string
	// AccessToken is the system-user token. Required; never logged, never in an error.
	AccessToken string
	// AppSecret, when set, adds appsecret_proof = hex(HMAC-SHA256(AppSecret, AccessToken)) to every request. Apps that
	// enforce "Require App Secret" refuse calls without it (a misconfiguration, not a transient error).
	AppSecret string
	// TestEventCode routes events to the Test Events tool instead of production. Leave empty in production.
	TestEventCode string
	// PartnerAgent identifies the integration to Meta (partner_agent).
	PartnerAgent string
	// BaseURL is the Graph API root (required: graph.url); tests and the demo point it at the simulator.
	BaseURL string
	// APIVersion is the Graph API version path segment (required: graph.api_version). A version Meta retired answers
	// a misconfiguration error, so bump it before Meta's deprecation date.
	APIVersion string
}

// BreakerSettings configures the per-destination circuit breaker.
type BreakerSettings struct {
	// ConsecutiveFailures transient or throttled answers in a row open the breaker (default 5). Lower values pause
	// the stream sooner on a flaky network; higher values hammer a failing API longer.
	ConsecutiveFailures uint32
	// OpenTimeout is how long the breaker stays open before one probe is let through (default 30s).
	OpenTimeout time.Duration
	// HalfOpenMaxRequests probes must succeed in half-open state to close the breaker (default 1); other calls wait.
	HalfOpenMaxRequests uint32
}

// Observer receives metrics events. Implementations must be safe for concurrent use and fast (they run on the
// request path). A nil Observer in Options disables them.
type Observer interface {
	// Request reports one HTTP call: outcome is "ok" or a Class string, httpStatus is 0 when no response arrived,
	// code is Facebook's error code (0 on success or without a Graph error body), events is the number of events
	// in the request.
	Request(dest, outcome string, httpStatus, code int, dur time.Duration, events int)
	// Retry reports one wait before resending: class is a Class string or "breaker_open".
	Retry(dest, class string)
}

// Options tunes a Client. Zero values mean the documented default.
type Options struct {
	// HTTPClient is shared by every destination when the caller wants one connection pool; it must allow as many
	// idle connections per host as requests in flight, or every batch pays a TLS handshake. Default NewHTTPClient(64).
	// Its Timeout should be 0: RequestTimeout bounds each call.
	HTTPClient *http.Client
	// RequestTimeout bounds one HTTP call (required). A timed-out call is retried (it may have landed: Facebook
	// deduplicates on event_id, so the resend is harmless).
	RequestTimeout time.Duration
	// InitialBackoff and MaxBackoff bound the wait before resending after a transient failure: the ceiling doubles
	// per consecutive failure from InitialBackoff up to MaxBackoff and the wait is drawn uniformly below it (full
	// jitter), so concurrent senders spread out. Required.
	InitialBackoff, MaxBackoff time.Duration
	// ThrottleBackoff is the wait after a throttling answer that carries no usable hint (required). When Facebook
	// says how long (X-Business-Use-Case-Usage estimated_time_to_regain_access, X-Ad-Account-Usage
	// reset_time_duration, Retry-After) that wait is used instead, capped by MaxThrottleBackoff (default DefaultMaxThrottleBackoff).
	// While throttled, every Send of this Client holds its requests, not only the one that was refused.
	ThrottleBackoff, MaxThrottleBackoff time.Duration
	// Breaker configures the circuit breaker.
	Breaker BreakerSettings
	// OnStateChange is called on every breaker transition, in order, outside the breaker's lock (it may call
	// Client.State). The runtime pauses fetching on open and resumes on half-open/closed. It runs on the goroutine
	// that observed the transition: keep it short.
	OnStateChange func(dest string, from, to gobreaker.State)
	// TooOld reports whether an event can no longer land inside Facebook's window (eligibility.Rules.TooOld). It is
	// checked before every attempt, so events that aged while waiting are reported in Result.TooOld instead of
	// failing a whole request with 2804003. Nil: never too old.
	TooOld func(eventTime int64, actionSource string, now time.Time) bool
	// Now is the clock given to TooOld (default time.Now). Waits use real timers.
	Now func() time.Time
	// Logger receives retries, throttling, breaker transitions and misconfiguration (nil: no logs). Entries carry
	// destination names, codes and Facebook's messages, never tokens or event contents.
	Logger *zerolog.Logger
	// Observer receives metrics events (nil: none).
	Observer Observer
}

// Item is one encoded event. JSON must be one complete JSON object (fbevent.AppendJSON output); it is copied into
// the request verbatim. EventTime and ActionSource feed Options.TooOld.
type Item struct {
	JSON         []byte
	EventID      string
	EventTime    int64
	ActionSource string
}

// Result is the final outcome of every decided item of one Send, as indices into its items, each sorted ascending.
// Every index appears in at most one list.
type Result struct {
	Delivered []int      // acknowledged by Facebook (events_received matched)
	Rejected  []Rejected // refused by Facebook individually (isolated by bisection)
	TooOld    []int      // dropped before a (re)send because they could no longer land inside the window
}

// Rejected is one event Facebook refused, with Facebook's error for that event alone.
type Rejected struct {
	Index int
	Err   *GraphError
}

// Client posts events to one destination. It is safe for concurrent use: concurrent Sends share the connection
// pool, the circuit breaker and the throttling state.
type Client struct {
	name     string
	endpoint string   // full URL with credentials: never logged, never in an error
	path     string   // /{version}/{pixel}/events, what errors and logs name
	secrets  []string // strings scrubbed from Facebook's messages
	tail     []byte   // the body after the last event: ],"test_event_code":…,"partner_agent":…}

	opt  Options
	http *http.Client
	log  zerolog.Logger
	obs  Observer

	cb             *gobreaker.TwoStepCircuitBreaker[struct{}]
	notify         notifier
	openUntil      atomic.Int64 // unix nanos when the open breaker lets a probe through
	throttledUntil atomic.Int64 // unix nanos before which no request is sent

	bufs sync.Pool // *[]byte request bodies
}

// New validates dest, applies the defaults of opt and returns a Client.
func New(dest Destination, opt Options) (*Client, error) {
	if strings.TrimSpace(dest.PixelID) == "" {
		return nil, fmt.Errorf("%w %q: pixel ID is required", ErrInvalidDestination, dest.Name)
	}
	if dest.Name == "" {
		dest.Name = dest.PixelID
	}
	if dest.AccessToken == "" {
		return nil, fmt.Errorf("%w %q: access token is required", ErrInvalidDestination, dest.Name)
	}
	if dest.BaseURL == "" || dest.APIVersion == "" {
		return nil, fmt.Errorf("%w %q: base URL and API version are required (graph.url, graph.api_version)", ErrInvalidDestination, dest.Name)
	}
	base, err := url.Parse(strings.TrimRight(dest.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" {
		return nil, fmt.Errorf("%w %q: base URL must be http(s)://host[/path] without a query", ErrInvalidDestination, dest.Name)
	}
	if strings.ContainsAny(dest.APIVersion, "/?#") {
		return nil, fmt.Errorf("%w %q: API version %q must be one path segment such as v24.0", ErrInvalidDestination, dest.Name, dest.APIVersion)
	}

	c := &Client{name: dest.Name, opt: opt}
	c.path = base.Path + "/" + dest.APIVersion + "/" + url.PathEscape(dest.PixelID) + "/events"
	q := url.Values{"access_token": {dest.AccessToken}}
	c.secrets = []string{dest.AccessToken}
	if dest.AppSecret != "" {
		proof := AppSecretProof(dest.AppSecret, dest.AccessToken)
		q.Set("appsecret_proof", proof)
		c.secrets = append(c.secrets, dest.AppSecret, proof)
	}
	c.endpoint = base.Scheme + "://" + base.Host + c.path + "?" + q.Encode()
	// fbevent.AppendBatch owns the body format; with no events it yields {"data":[]…}, whose part after the
	// opening bracket is the tail of every body.
	empty := fbevent.AppendBatch(nil, nil, dest.TestEventCode, dest.PartnerAgent)
	c.tail = empty[len(bodyHead):]

	if err := c.applyDefaults(); err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidDestination, dest.Name, err)
	}
	c.http = c.opt.HTTPClient
	c.obs = c.opt.Observer
	if c.opt.Logger != nil {
		c.log = c.opt.Logger.With().Str("destination", c.name).Logger()
	} else {
		c.log = zerolog.Nop()
	}
	threshold := c.opt.Breaker.ConsecutiveFailures
	c.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:          c.name,
		MaxRequests:   c.opt.Breaker.HalfOpenMaxRequests,
		Timeout:       c.opt.Breaker.OpenTimeout,
		ReadyToTrip:   func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= threshold },
		OnStateChange: c.onBreakerChange,
		IsExcluded:    func(err error) bool { return errors.Is(err, errNotCounted) },
	})
	return c, nil
}

// applyDefaults requires the settings the configuration provides and fills in the others.
func (c *Client) applyDefaults() error {
	o := &c.opt
	if o.RequestTimeout <= 0 || o.InitialBackoff <= 0 || o.MaxBackoff <= 0 || o.ThrottleBackoff <= 0 ||
		o.Breaker.ConsecutiveFailures == 0 || o.Breaker.OpenTimeout <= 0 {
		return errors.New("RequestTimeout, InitialBackoff, MaxBackoff, ThrottleBackoff and the breaker's ConsecutiveFailures " +
			"and OpenTimeout must be > 0 (graph.request_timeout, retry.*, breaker.*)")
	}
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient(64)
	}
	o.MaxBackoff = max(o.MaxBackoff, o.InitialBackoff)
	setDefault(&o.MaxThrottleBackoff, DefaultMaxThrottleBackoff)
	o.MaxThrottleBackoff = max(o.MaxThrottleBackoff, o.ThrottleBackoff)
	if o.Breaker.HalfOpenMaxRequests == 0 {
		o.Breaker.HalfOpenMaxRequests = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// NewHTTPClient returns a client tuned for many concurrent posts to one host: keep-alive with maxConnsPerHost idle
// connections kept per host (size it to the requests in flight), HTTP/2 when the server offers it, bounded dial and
// TLS handshake times, proxy from the environment. It sets no overall Timeout: each call has its own.
func NewHTTPClient(maxConnsPerHost int) *http.Client {
	maxConnsPerHost = max(maxConnsPerHost, 64)
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * maxConnsPerHost,
		MaxIdleConnsPerHost:   maxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// AppSecretProof is hex(HMAC-SHA256(appSecret, accessToken)), the appsecret_proof parameter.
func AppSecretProof(appSecret, accessToken string) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte(accessToken))
	return hex.EncodeToString(m.Sum(nil))
}

// Name is the destination name used in logs, metrics and OnStateChange.
func (c *Client) Name() string { return c.name }

// State is the breaker's current state. Asking may move an open breaker whose timeout elapsed to half-open (and
// report that transition through OnStateChange).
func (c *Client) State() gobreaker.State {
	s := c.cb.State()
	c.flushTransitions()
	return s
}
