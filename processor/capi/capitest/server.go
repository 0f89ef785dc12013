package capitest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults applied by New to a zero Config field.
const (
	DefaultMaxBodyBytes      = 16 << 20
	DefaultMaxRecordedEvents = 100_000
)

// maxPooledBody is the largest body buffer kept for reuse: a full 1000-event batch fits, rare giants do not
// stay in memory.
const maxPooledBody = 4 << 20

// DefaultVersions returns the API versions accepted when Config.Versions is empty: v18.0 to v25.0.
func DefaultVersions() []string {
	return []string{"v18.0", "v19.0", "v20.0", "v21.0", "v22.0", "v23.0", "v24.0", "v25.0"}
}

// Config is the simulated Graph API's fixed setup. Faults can change later (SetFaults, /_sim/faults); the rest
// cannot.
type Config struct {
	// AccessTokens maps each existing pixel ID to the only access token allowed to post to it. A pixel absent
	// from the map does not exist (100/33) unless AcceptAnyPixel; a token that is none of these values is invalid
	// (190) unless AcceptAnyPixel.
	AccessTokens map[string]string
	// AcceptAnyPixel makes every numeric pixel ID outside AccessTokens exist and accept any non-empty token: the
	// demo mode, where nobody configured the simulator. Pixels listed in AccessTokens keep their own token.
	AcceptAnyPixel bool
	// AppSecret, when set, makes appsecret_proof (hex HMAC-SHA256 of the access token keyed by the secret)
	// mandatory on every request, as an app with "Require App Secret" does.
	AppSecret string
	// Versions are the accepted API versions ("v24.0"). An older version is answered 2635 (deprecated), a newer
	// or malformed one 2500 (unknown path). Empty means DefaultVersions().
	Versions []string
	// Now is the clock the 7-day window and the future tolerance are measured against; nil means time.Now.
	Now func() time.Time
	// TraceID makes fbtrace_id values; nil means random 11-character IDs. Tests set it for golden answers.
	TraceID func() string
	// Faults injected from the start.
	Faults Faults
	// MaxBodyBytes caps a request body (413 beyond it); 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxRecordedEvents bounds memory in long runs: beyond it the oldest recorded events are forgotten and the
	// event_id counts restart once they hold ten times as many IDs (Stats keeps counting). 0 means
	// DefaultMaxRecordedEvents; negative records no event (counts only).
	MaxRecordedEvents int
}

// ErrInvalidConfig is wrapped by the error New returns for an unusable Config.
var ErrInvalidConfig = errors.New("invalid graph simulator config")

// ReceivedEvent is one event the simulator accepted, in arrival order.
type ReceivedEvent struct {
	PixelID       string          `json:"pixel_id"`
	EventID       string          `json:"event_id,omitempty"`
	EventName     string          `json:"event_name"`
	EventTime     int64           `json:"event_time"`
	ActionSource  string          `json:"action_source"`
	TestEventCode string          `json:"test_event_code,omitempty"`
	ReceivedAt    time.Time       `json:"received_at"`
	Raw           json.RawMessage `json:"event"` // the event object as sent (compact JSON)
}

// Stats counts Graph requests since New or the last Reset. Control endpoints are not counted.
type Stats struct {
	Requests         int64 `json:"requests"`
	AcceptedRequests int64 `json:"accepted_requests"`
	AcceptedEvents   int64 `json:"accepted_events"`
	// DuplicateEvents counts accepted events whose event_id had already been accepted (what Facebook's
	// deduplication would drop): the at-least-once redeliveries.
	DuplicateEvents  int64 `json:"duplicate_events"`
	RejectedRequests int64 `json:"rejected_requests"`
	// Rejected counts answered errors by "code" or "code/subcode" ("100/2804003", "190/463", "2").
	Rejected map[string]int64 `json:"rejected"`
	// Disconnected counts requests whose connection was dropped by the Disconnect fault.
	Disconnected int64 `json:"disconnected"`
	// Abandoned counts requests whose client went away during the injected latency.
	Abandoned int64 `json:"abandoned"`
}

// Server is the simulated Graph API. It is an http.Handler safe for concurrent use.
type Server struct {
	cfg         Config
	tokens      map[string]bool
	versions    map[string]bool
	maxVersion  [2]int
	latest      string
	docs        sync.Pool // of *jsonDoc
	batches     sync.Pool // of *eventBatch
	bodies      sync.Pool // of *bytes.Buffer, request bodies up to maxPooledBody
	recordLimit int

	fmu      sync.Mutex
	faults   Faults
	poisoned map[string]bool

	mu     sync.Mutex
	events []ReceivedEvent
	ids    map[string]int
	stats  Stats
}

// New builds a Server from cfg after checking it.
func New(cfg Config) (*Server, error) {
	if len(cfg.Versions) == 0 {
		cfg.Versions = DefaultVersions()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TraceID == nil {
		cfg.TraceID = randomTraceID
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("%w: MaxBodyBytes must be positive", ErrInvalidConfig)
	}
	s := &Server{cfg: cfg, tokens: map[string]bool{}, versions: map[string]bool{}, ids: map[string]int{}}
	switch {
	case cfg.MaxRecordedEvents == 0:
		s.recordLimit = DefaultMaxRecordedEvents
	case cfg.MaxRecordedEvents > 0:
		s.recordLimit = cfg.MaxRecordedEvents
	}
	for pixel, token := range cfg.AccessTokens {
		if !numericID(pixel) {
			return nil, fmt.Errorf("%w: pixel ID %q must be numeric", ErrInvalidConfig, pixel)
		}
		if token == "" {
			return nil, fmt.Errorf("%w: pixel %s has an empty access token", ErrInvalidConfig, pixel)
		}
		s.tokens[token] = true
	}
	if len(cfg.AccessTokens) == 0 && !cfg.AcceptAnyPixel {
		return nil, fmt.Errorf("%w: no pixel exists: set AccessTokens or AcceptAnyPixel", ErrInvalidConfig)
	}
	for _, v := range cfg.Versions {
		n, ok := parseVersion(v)
		if !ok {
			return nil, fmt.Errorf("%w: version %q is not of the form v<major>.<minor>", ErrInvalidConfig, v)
		}
		s.versions[v] = true
		if n[0] > s.maxVersion[0] || n[0] == s.maxVersion[0] && n[1] > s.maxVersion[1] {
			s.maxVersion, s.latest = n, v
		}
	}
	if err := s.SetFaults(cfg.Faults); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return s, nil
}

// TB is the part of testing.TB that NewTestServer uses. It is declared here rather than taken from package
// testing so that the service binary, which serves the simulator (graph-simulator, demo), does not link testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// NewTestServer starts the simulator on a local httptest.Server closed by t.Cleanup. Requests go to
// ts.URL + "/v24.0/<pixel>/events".
func NewTestServer(t TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("capitest.New: %v", err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// SetFaults replaces the injected faults; in-flight requests keep the ones they started with.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	f.PoisonedEventIDs = append([]string(nil), f.PoisonedEventIDs...)
	poisoned := make(map[string]bool, len(f.PoisonedEventIDs))
	for _, id := range f.PoisonedEventIDs {
		poisoned[id] = true
	}
	s.fmu.Lock()
	s.faults, s.poisoned = f, poisoned
	s.fmu.Unlock()
	return nil
}

// Faults returns the faults in force (FailNext as counted down so far).
func (s *Server) Faults() Faults {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	f := s.faults
	f.PoisonedEventIDs = append([]string(nil), f.PoisonedEventIDs...)
	return f
}

// Events returns a copy of the accepted events in arrival order (within the MaxRecordedEvents bound).
func (s *Server) Events() []ReceivedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReceivedEvent(nil), s.events...)
}

// EventIDs returns how many times each event_id was accepted; more than once means a redelivery.
func (s *Server) EventIDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.ids))
	for k, v := range s.ids {
		out[k] = v
	}
	return out
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Rejected = make(map[string]int64, len(s.stats.Rejected))
	for k, v := range s.stats.Rejected {
		st.Rejected[k] = v
	}
	return st
}

// Reset forgets recorded events, event_id counts and stats. Faults are left as they are.
func (s *Server) Reset() {
	s.mu.Lock()
	s.events, s.ids, s.stats = nil, map[string]int{}, Stats{}
	s.mu.Unlock()
}

// ServeHTTP answers the Graph API route POST /{version}/{pixel_id}/events and the /_sim/ control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveControl(w, r)
		return
	}
	s.serveGraph(w, r)
}

// takeFaults snapshots the faults for one request and counts FailNext down.
func (s *Server) takeFaults() (f Faults, poisoned map[string]bool, failNow bool) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	f, poisoned = s.faults, s.poisoned
	if s.faults.FailNext > 0 {
		s.faults.FailNext--
		failNow = true
	}
	return f, poisoned, failNow
}

func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	traceID := s.cfg.TraceID()
	f, poisoned, failNow := s.takeFaults()
	buf, _ := s.bodies.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		// Nothing keeps the body once handled: the answer and the recorded events are copies.
		if buf.Cap() <= maxPooledBody {
			s.bodies.Put(buf)
		}
	}()
	body, bodyErr := readBody(w, r, s.cfg.MaxBodyBytes, buf)

	// The answer is computed first and held until Latency has passed since arrival, so the latency a client
	// sees is Latency (not Latency plus the simulator's own validation time) whenever validation is faster.
	var (
		version  string
		accepted acceptedBatch
		gerr     *graphError
	)
	if !f.Disconnect {
		version, accepted, gerr = s.handle(r, body, bodyErr, f, poisoned, failNow)
	}
	if wait := f.Latency - time.Since(arrived); f.Latency > 0 && wait > 0 && !sleep(r.Context(), wait) {
		s.mu.Lock()
		s.stats.Requests++
		s.stats.Abandoned++
		s.mu.Unlock()
		return
	}
	if f.Disconnect {
		s.mu.Lock()
		s.stats.Requests++
		s.stats.Disconnected++
		s.mu.Unlock()
		disconnect(w)
		return
	}
	if gerr != nil {
		gerr.TraceID = traceID
		s.countRejected(gerr)
		writeGraphError(w, gerr, version)
		return
	}
	if accepted.node != nil {
		s.mu.Lock()
		s.stats.Requests++
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, traceID, version, accepted.node)
		return
	}
	s.record(accepted)
	writeJSON(w, http.StatusOK, traceID, version, struct {
		EventsReceived int      `json:"events_received"`
		Messages       []string `json:"messages"`
		TraceID        string   `json:"fbtrace_id"`
	}{len(accepted.ids), []string{}, traceID})
}

// acceptedBatch is what a valid request leaves: the event_id of each event ("" when absent) and, only when
// events are recorded, the events themselves.
type acceptedBatch struct {
	ids    []string
	events []ReceivedEvent
	node   map[string]any // the answer to a read of the pixel node (GET /{version}/{pixel_id}) instead of events
}

// handle decides the answer: the accepted events, or the first error in the order Graph checks them (route,
// version, token, app secret proof, object, method, throttling, payload, events).
func (s *Server) handle(r *http.Request, body []byte, bodyErr error, f Faults, poisoned map[string]bool, failNow bool,
) (version string, accepted acceptedBatch, gerr *graphError) {
	if failNow || (f.ErrorRate > 0 && rand.Float64() < f.ErrorRate) {
		return "", accepted, f.serverError()
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if gerr := s.checkVersion(parts[0], r.URL.Path); gerr != nil {
		return "", accepted, gerr
	}
	version = parts[0]
	if len(parts) == 2 && r.Method == http.MethodGet {
		node, gerr := s.readPixel(r, parts[1], f)
		accepted.node = node
		return version, accepted, gerr
	}
	if len(parts) != 3 || parts[2] != "events" {
		return version, accepted, unknownPathError(r.URL.Path)
	}
	pixel := parts[1]

	// The events of a JSON body are checked while the body is parsed (see jsonDoc.stream), but their first
	// error is held: a syntax error anywhere in the body, a parameter or authorization error come before it.
	batch := s.getBatch(s.cfg.Now())
	defer s.putBatch(batch)
	doc := s.getDoc()
	defer s.putDoc(doc)
	doc.stream = batch.add
	p, gerr := readParams(r, body, bodyErr, doc)
	if gerr != nil {
		return version, accepted, gerr
	}
	if gerr := s.authorize(r, p, pixel, f); gerr != nil {
		return version, accepted, gerr
	}
	if r.Method != http.MethodPost {
		return version, accepted, unknownObjectError(strings.ToLower(r.Method), pixel)
	}
	if f.Throttle {
		return version, accepted, f.throttleError(pixel)
	}

	data := p.jsonData
	if _, streamed := data.streamedArray(); !streamed {
		// data given as a string (or, in a refused body, not the array streamed): its events are checked now.
		batch.reset(batch.checker.now)
		if !data.present() {
			if !p.hasData {
				return version, accepted, paramError("The parameter data is required")
			}
			dataDoc := s.getDoc()
			defer s.putDoc(dataDoc)
			if !dataDoc.parse([]byte(p.data)) || dataDoc.root().kind() != jsonArray {
				return version, accepted, paramError("Param data must be a JSON array")
			}
			data = dataDoc.root()
		}
		for ev := range data.elems() {
			batch.add(ev)
		}
	}
	count := batch.count
	switch {
	case count == 0:
		return version, accepted, paramError("Param data must be a non-empty array of events")
	case count > MaxEventsPerRequest:
		return version, accepted, paramError("Param data must contain at most %d events, got %d",
			MaxEventsPerRequest, count)
	case batch.err != nil:
		return version, accepted, batch.err
	}
	now := batch.checker.now
	summaries := batch.summaries
	for i, sum := range summaries {
		if len(sum.id) != 0 && poisoned[string(sum.id)] {
			return version, accepted, eventError(SubcodeInvalidParameter, i, "Event Rejected",
				"This event was rejected (poisoned event_id in the Graph API simulator).")
		}
	}

	// The names and ids are copied into one string and the recorded raw events into one buffer: a handful of
	// allocations per request rather than several per event.
	n := 0
	for _, sum := range summaries {
		n += len(sum.name) + len(sum.id)
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, sum := range summaries {
		sb.Write(sum.name)
		sb.Write(sum.id)
	}
	texts := sb.String()
	var raw []byte
	if s.recordLimit != 0 { // raw events are only kept when recorded
		raw = make([]byte, 0, len(body))
	}
	accepted.ids = make([]string, count)
	if s.recordLimit != 0 {
		accepted.events = make([]ReceivedEvent, count)
	}
	testCode := p.values["test_event_code"]
	at := 0
	for i, sum := range summaries {
		name := texts[at : at+len(sum.name)]
		at += len(sum.name)
		id := texts[at : at+len(sum.id)]
		at += len(sum.id)
		accepted.ids[i] = id
		if s.recordLimit == 0 {
			continue
		}
		start := len(raw)
		raw = appendCompact(raw, sum.raw)
		accepted.events[i] = ReceivedEvent{
			PixelID: pixel, EventID: id, EventName: name, EventTime: sum.time, ActionSource: sum.actionSource,
			TestEventCode: testCode, ReceivedAt: now, Raw: raw[start:len(raw):len(raw)],
		}
	}
	return version, accepted, nil
}

// eventBatch checks the events of a request one at a time, in order, as they are parsed. It keeps the summary of
// each valid event until the first invalid one, whose error it holds; it counts them all.
type eventBatch struct {
	checker   eventChecker
	count     int
	summaries []acceptedEvent
	err       *graphError
}

// reset readies b for a new request, keeping its memory.
func (b *eventBatch) reset(now time.Time) {
	clear(b.summaries) // drop the views of the last request's memory
	b.checker.now, b.count, b.summaries, b.err = now, 0, b.summaries[:0], nil
}

// getBatch takes an event batch from the pool; putBatch returns it.
func (s *Server) getBatch(now time.Time) *eventBatch {
	b, _ := s.batches.Get().(*eventBatch)
	if b == nil {
		b = new(eventBatch)
	}
	b.reset(now)
	return b
}

func (s *Server) putBatch(b *eventBatch) {
	b.reset(time.Time{})
	s.batches.Put(b)
}

// add checks the next event. Nothing is checked after the first error, nor beyond MaxEventsPerRequest events
// (the request is then refused for its size, an error that comes first).
func (b *eventBatch) add(ev jval) {
	b.count++
	if b.err != nil || b.count > MaxEventsPerRequest {
		return
	}
	b.checker.index = b.count - 1
	sum, gerr := b.checker.check(ev)
	if gerr != nil {
		b.err = gerr
		return
	}
	sum.raw = ev.raw()
	b.summaries = append(b.summaries, sum)
}

// getDoc takes a JSON document from the pool; putDoc returns it unless it grew too big to keep.
func (s *Server) getDoc() *jsonDoc {
	if d, ok := s.docs.Get().(*jsonDoc); ok {
		return d
	}
	return new(jsonDoc)
}

func (s *Server) putDoc(d *jsonDoc) {
	d.src, d.stream = nil, nil // the body goes back to its own pool
	if cap(d.nodes) <= maxPooledBody/8 && cap(d.buf) <= maxPooledBody {
		s.docs.Put(d)
	}
}

func (s *Server) checkVersion(v, path string) *graphError {
	if s.versions[v] {
		return nil
	}
	n, ok := parseVersion(v)
	if !ok || n[0] > s.maxVersion[0] || n[0] == s.maxVersion[0] && n[1] > s.maxVersion[1] {
		return unknownPathError(path)
	}
	return &graphError{status: http.StatusBadRequest, Type: "OAuthException", Code: CodeDeprecatedVersion,
		Message: "(#2635) You are calling a deprecated version of the Ads API. Please update to the latest " +
			"version: " + s.latest + "."}
}

// authorize checks the token, the app secret proof, token expiry (fault) and the pixel, in Graph's order: an
// invalid token is reported before an unknown object.
func (s *Server) authorize(r *http.Request, p *params, pixel string, f Faults) *graphError {
	token := accessToken(r, p)
	if token == "" {
		return tokenRequiredError()
	}
	if !s.cfg.AcceptAnyPixel && !s.tokens[token] {
		return invalidTokenError()
	}
	if s.cfg.AppSecret != "" {
		proof, ok := p.values["appsecret_proof"]
		if !ok || proof == "" {
			return appSecretProofError(true)
		}
		mac := hmac.New(sha256.New, []byte(s.cfg.AppSecret))
		mac.Write([]byte(token))
		got, err := hex.DecodeString(proof)
		if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
			return appSecretProofError(false)
		}
	}
	if f.TokenExpired {
		return expiredTokenError(s.cfg.Now())
	}
	if !numericID(pixel) {
		return &graphError{status: http.StatusNotFound, Type: "OAuthException", Code: CodeAlias,
			Message: "(#803) Some of the aliases you requested do not exist: " + pixel}
	}
	want, known := s.cfg.AccessTokens[pixel]
	if (known && want != token) || (!known && !s.cfg.AcceptAnyPixel) {
		return unknownObjectError(strings.ToLower(r.Method), pixel)
	}
	return nil
}

// pixelFields are the fields of the pixel (AdsPixel) node the simulator serves; Graph answers any other with 100.
var pixelFields = []string{"id", "name", "creation_time", "is_unavailable"}

// readPixel answers GET /{version}/{pixel_id}?fields=…: reading the dataset node, which is how a sender checks that
// its token is valid for the pixel without sending an event. The token, app secret proof, expiry fault and pixel are
// checked exactly as for an events request; only id is returned unless fields asks for more.
func (s *Server) readPixel(r *http.Request, pixel string, f Faults) (map[string]any, *graphError) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, paramError("The query string is malformed")
	}
	p := &params{values: map[string]string{}}
	for k, vs := range query {
		switch {
		case k != "fields" && k != "access_token" && k != "appsecret_proof":
			return nil, paramError("Param %s is not a valid parameter of this endpoint", k)
		case len(vs) != 1:
			return nil, paramError("Param %s is given more than once", k)
		}
		p.values[k] = vs[0]
	}
	if gerr := s.authorize(r, p, pixel, f); gerr != nil {
		return nil, gerr
	}
	if f.Throttle {
		return nil, f.throttleError(pixel)
	}
	node := map[string]any{"id": pixel}
	for field := range strings.SplitSeq(p.values["fields"], ",") {
		switch field = strings.TrimSpace(field); field {
		case "", "id":
		case "name":
			node["name"] = "Simulated dataset " + pixel
		case "creation_time":
			node["creation_time"] = "2024-01-01T00:00:00+0000"
		case "is_unavailable":
			node["is_unavailable"] = false
		default:
			return nil, paramError("Tried accessing nonexisting field (%s) on node type (AdsPixel)", field)
		}
	}
	return node, nil
}

func (s *Server) countRejected(e *graphError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	s.stats.RejectedRequests++
	if s.stats.Rejected == nil {
		s.stats.Rejected = map[string]int64{}
	}
	s.stats.Rejected[e.statKey()]++
}

func (s *Server) record(accepted acceptedBatch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	s.stats.AcceptedRequests++
	s.stats.AcceptedEvents += int64(len(accepted.ids))
	// One map operation an id: the duplicates are the ids counted that did not add a key.
	before, counted := len(s.ids), 0
	for _, id := range accepted.ids {
		if id != "" {
			s.ids[id]++
			counted++
		}
	}
	s.stats.DuplicateEvents += int64(counted - (len(s.ids) - before))
	if s.recordLimit == 0 {
		return
	}
	if len(s.ids) > 10*s.recordLimit {
		s.ids = map[string]int{}
	}
	s.events = append(s.events, accepted.events...)
	if over := len(s.events) - s.recordLimit; over > 0 {
		// Drop a quarter more than needed so trimming (a copy) happens rarely.
		drop := min(len(s.events), over+s.recordLimit/4)
		s.events = append(s.events[:0:0], s.events[drop:]...)
	}
}

// sleep waits d or until ctx is done; it reports whether the full wait elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// disconnect drops the connection without an answer. http.ErrAbortHandler is net/http's sanctioned way when the
// connection cannot be hijacked (HTTP/2).
func disconnect(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func numericID(s string) bool { return allDigits(s) }

func parseVersion(v string) ([2]int, bool) {
	major, minor, ok := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if !ok || !strings.HasPrefix(v, "v") || !allDigits(major) || !allDigits(minor) {
		return [2]int{}, false
	}
	a, err1 := strconv.Atoi(major)
	b, err2 := strconv.Atoi(minor)
	return [2]int{a, b}, err1 == nil && err2 == nil
}

const traceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

func randomTraceID() string {
	var b [11]byte
	for i := range b {
		b[i] = traceAlphabet[rand.IntN(len(traceAlphabet))]
	}
	return string(b[:])
}
