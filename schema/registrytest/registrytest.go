// Package registrytest is an in-process Confluent schema registry for tests: a real HTTP (or HTTPS) server
// implementing the endpoints the connector and producers call (schema references included), with the answers and
// errors a Confluent registry gives (Content-Type application/vnd.schemaregistry.v1+json, {"error_code", "message"}
// bodies, 40401/40402/40403, 42201, 401), optional basic auth and mutual TLS, request counting, and fault switches
// (down, any status, slow, wrong content type, closed).
//
// It imports nothing of this module, so package schema's own tests can use it. Its behaviour follows Confluent's
// API reference, which Redpanda, Karapace and Apicurio's ccompat API also implement; the end-to-end suite also
// runs against a real registry (test/registry).
package registrytest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ContentType is what a Confluent registry declares on every JSON answer.
const ContentType = "application/vnd.schemaregistry.v1+json"

// DefaultSubject is the subject Add registers under (TopicNameStrategy for a topic named "events").
const DefaultSubject = "events-value"

// Confluent error codes the server answers with.
const (
	CodeSubjectNotFound   = 40401
	CodeVersionNotFound   = 40402
	CodeSchemaNotFound    = 40403
	CodeInvalidSchema     = 42201
	CodeUnauthorized      = 401
	CodeBackendStoreError = 50001
)

// Option configures New.
type Option func(*config)

type config struct {
	user, pass string
	tls        bool
	clientCAs  *x509.CertPool
}

// WithBasicAuth makes every request require HTTP basic auth with user and pass (else 401, error_code 401).
func WithBasicAuth(user, pass string) Option {
	return func(c *config) { c.user, c.pass = user, pass }
}

// WithTLS serves HTTPS with httptest's self-signed certificate (see Certificate). With clientCAs non-nil, a client
// certificate signed by one of them is required (mutual TLS).
func WithTLS(clientCAs *x509.CertPool) Option {
	return func(c *config) { c.tls, c.clientCAs = true, clientCAs }
}

// Server is a fake Confluent schema registry. All methods are safe for concurrent use, also while requests are
// being served.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	user     string
	pass     string
	schemas  map[int]string
	refs     map[int][]Reference // schema id → the references it was registered with
	versions map[string]int      // "subject/version" → GET /subjects/{subject}/versions/{version} requests
	subjects map[string][]int    // subject → schema id per version (version = index+1); deleted subjects are removed
	compat   map[string]string
	nextID   int
	fetches  map[int]int
	requests int
	authFail int

	status      atomic.Int32 // non-zero: every request answers this status (FailWith)
	down        atomic.Bool  // every request answers 503 from "the load balancer" (SetDown)
	delay       atomic.Int64 // nanoseconds held before answering a schema fetch by id
	contentType atomic.Value // string overriding ContentType on successful answers
}

// New starts a registry that t closes at cleanup.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	s := &Server{
		user: c.user, pass: c.pass,
		schemas: map[int]string{}, refs: map[int][]Reference{}, versions: map[string]int{}, subjects: map[string][]int{}, compat: map[string]string{},
		nextID: 1, fetches: map[int]int{},
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if c.tls {
		if c.clientCAs != nil {
			s.srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: c.clientCAs}
		}
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the registry base URL (http:// or https://).
func (s *Server) URL() string { return s.srv.URL }

// Certificate is the server certificate of a WithTLS server (nil otherwise): trust it as the registry CA.
func (s *Server) Certificate() *x509.Certificate {
	if s.srv.TLS == nil {
		return nil
	}
	return s.srv.Certificate()
}

// Close stops the server: every later request fails to connect, as with a registry that is gone.
func (s *Server) Close() { s.srv.Close() }

// SetBasicAuth changes the credentials required from now on ("" and "" turn auth off).
func (s *Server) SetBasicAuth(user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.pass = user, pass
}

// BasicAuth returns the credentials the server requires ("" when none).
func (s *Server) BasicAuth() (user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user, s.pass
}

// Add registers schema under id and subject DefaultSubject, as its next version. Tests use it to control ids
// (records naming an id never added get 40403).
func (s *Server) Add(id int, schema string) { s.AddToSubject(DefaultSubject, id, schema) }

// Reference is a Confluent schema reference: the schema registered as version Version of Subject defines the
// named type Name, which the referring schema uses without defining it.
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// AddToSubject registers schema under id as the next version of subject. refs are the schemas it references
// (answered in the "references" member of its schema and version lookups).
func (s *Server) AddToSubject(subject string, id int, schema string, refs ...Reference) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemas[id] = schema
	if len(refs) > 0 {
		s.refs[id] = slices.Clone(refs)
	}
	s.subjects[subject] = append(s.subjects[subject], id)
	s.nextID = max(s.nextID, id+1)
}

// Register does what a producer's POST /subjects/{subject}/versions does: it returns the id of schema, reusing the
// id of an identical schema text already registered (ids are global, as in Confluent), and adds it as a new version
// of subject unless it is already one.
// refs are the schemas it references.
func (s *Server) Register(subject, schema string, refs ...Reference) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registerLocked(subject, schema, refs)
}

func (s *Server) registerLocked(subject, schema string, refs []Reference) int {
	id := 0
	for i, text := range s.schemas {
		if text == schema && slices.Equal(s.refs[i], refs) && (id == 0 || i < id) {
			id = i
		}
	}
	if id == 0 {
		id = s.nextID
		s.nextID++
		s.schemas[id] = schema
		if len(refs) > 0 {
			s.refs[id] = slices.Clone(refs)
		}
	}
	if !slices.Contains(s.subjects[subject], id) {
		s.subjects[subject] = append(s.subjects[subject], id)
	}
	return id
}

// Fetches is the number of GET /schemas/ids/{id} requests for id that passed authentication (answered or not).
func (s *Server) Fetches(id int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[id]
}

// VersionFetches is the number of GET /subjects/{subject}/versions/{version} requests for that subject and
// version that passed authentication (answered or not).
func (s *Server) VersionFetches(subject string, version int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[subject+"/"+strconv.Itoa(version)]
}

// Requests is the number of requests received, all endpoints and outcomes (faults and auth failures included).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// AuthFailures is the number of requests refused with 401.
func (s *Server) AuthFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authFail
}

// SetDown switches the "registry down" fault: while on, every request gets 503 with a plain-text body, as a load
// balancer in front of a registry with no healthy instance answers. Off restores normal service.
func (s *Server) SetDown(down bool) { s.down.Store(down) }

// FailWith makes every request answer status with a Confluent error body (error_code status×100+1, or the code
// Confluent uses for that status). 0 restores normal service.
func (s *Server) FailWith(status int) { s.status.Store(int32(status)) }

// SetDelay holds every schema fetch by id for d before answering (0: none), so concurrent decodes pile up on one
// fetch or a client timeout fires.
func (s *Server) SetDelay(d time.Duration) { s.delay.Store(int64(d)) }

// SetContentType overrides the Content-Type of successful answers ("" restores ContentType), e.g. text/html for
// a proxy or captive portal answering 200 in the registry's place.
func (s *Server) SetContentType(ct string) { s.contentType.Store(ct) }

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	ct := ContentType
	if c, ok := s.contentType.Load().(string); ok && c != "" && status < 300 {
		ct = c
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) fail(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error_code": code, "message": msg})
}

// injected answers the status set by FailWith the way Confluent would.
func (s *Server) injected(w http.ResponseWriter, status int) {
	code, msg := status*100+1, http.StatusText(status)
	switch status {
	case http.StatusInternalServerError:
		code, msg = CodeBackendStoreError, "Error in the backend data store"
	case http.StatusGatewayTimeout:
		code, msg = 50002, "Operation timed out"
	case http.StatusTooManyRequests:
		code, msg = 42901, "Rate limit exceeded"
	case http.StatusUnauthorized:
		code, msg = CodeUnauthorized, "Unauthorized"
	}
	s.fail(w, status, code, msg)
}

func (s *Server) serve(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	s.requests++
	user, pass := s.user, s.pass
	s.mu.Unlock()

	if s.down.Load() {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("no healthy upstream"))
		return
	}
	if st := int(s.status.Load()); st != 0 {
		s.injected(w, st)
		return
	}
	if user != "" || pass != "" {
		u, p, ok := req.BasicAuth()
		if !ok || u != user || p != pass {
			s.mu.Lock()
			s.authFail++
			s.mu.Unlock()
			w.Header().Set("WWW-Authenticate", `Basic realm="SchemaRegistry"`)
			s.fail(w, http.StatusUnauthorized, CodeUnauthorized, "Unauthorized")
			return
		}
	}

	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	route := func(method string, pattern ...string) bool {
		if req.Method != method || len(parts) != len(pattern) {
			return false
		}
		for i, p := range pattern {
			if p != "*" && p != parts[i] {
				return false
			}
		}
		return true
	}
	switch {
	case route(http.MethodGet, "schemas", "ids", "*"):
		s.getSchemaByID(w, parts[2])
	case route(http.MethodGet, "subjects"):
		s.mu.Lock()
		list := make([]string, 0, len(s.subjects))
		for subj := range s.subjects {
			list = append(list, subj)
		}
		s.mu.Unlock()
		slices.Sort(list)
		s.writeJSON(w, http.StatusOK, list)
	case route(http.MethodGet, "subjects", "*", "versions"):
		if ids, ok := s.subject(w, parts[1]); ok {
			versions := make([]int, len(ids))
			for i := range ids {
				versions[i] = i + 1
			}
			s.writeJSON(w, http.StatusOK, versions)
		}
	case route(http.MethodGet, "subjects", "*", "versions", "*"):
		s.getVersion(w, parts[1], parts[3])
	case route(http.MethodPost, "subjects", "*", "versions"):
		if schema, refs, ok := s.readSchema(w, req); ok {
			s.mu.Lock()
			id := s.registerLocked(parts[1], schema, refs)
			s.mu.Unlock()
			s.writeJSON(w, http.StatusOK, map[string]any{"id": id})
		}
	case route(http.MethodPost, "subjects", "*"):
		s.lookup(w, req, parts[1])
	case route(http.MethodDelete, "subjects", "*"):
		if ids, ok := s.subject(w, parts[1]); ok {
			s.mu.Lock()
			delete(s.subjects, parts[1])
			s.mu.Unlock()
			versions := make([]int, len(ids))
			for i := range ids {
				versions[i] = i + 1
			}
			s.writeJSON(w, http.StatusOK, versions)
		}
	case route(http.MethodGet, "config"), route(http.MethodGet, "config", "*"):
		s.mu.Lock()
		lvl, ok := s.compat[strings.Join(parts[1:], "")]
		s.mu.Unlock()
		if !ok {
			lvl = "BACKWARD"
		}
		// Confluent answers compatibilityLevel; some clients read compatibility. Both are sent so each
		// side sees what it expects.
		s.writeJSON(w, http.StatusOK, map[string]any{"compatibilityLevel": lvl, "compatibility": lvl})
	case route(http.MethodPut, "config"), route(http.MethodPut, "config", "*"):
		var body struct {
			Compatibility string `json:"compatibility"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil || body.Compatibility == "" {
			s.fail(w, http.StatusUnprocessableEntity, 42203, "Invalid compatibility level")
			return
		}
		s.mu.Lock()
		s.compat[strings.Join(parts[1:], "")] = body.Compatibility
		s.mu.Unlock()
		s.writeJSON(w, http.StatusOK, map[string]any{"compatibility": body.Compatibility})
	case route(http.MethodPost, "compatibility", "subjects", "*", "versions"),
		route(http.MethodPost, "compatibility", "subjects", "*", "versions", "*"):
		// Compatibility is not checked: the server accepts every schema, like a registry set to NONE.
		if _, _, ok := s.readSchema(w, req); ok {
			s.writeJSON(w, http.StatusOK, map[string]any{"is_compatible": true})
		}
	default:
		// What a wrong base URL hits on a real server: a plain 404 without Confluent's error body.
		http.NotFound(w, req)
	}
}

func (s *Server) getSchemaByID(w http.ResponseWriter, raw string) {
	id, err := strconv.Atoi(raw)
	if err != nil {
		// Confluent's routing rejects a non-numeric id before reaching the resource.
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	s.fetches[id]++
	schema, ok := s.schemas[id]
	refs := s.refs[id]
	s.mu.Unlock()
	if d := time.Duration(s.delay.Load()); d > 0 {
		time.Sleep(d)
	}
	if !ok {
		s.fail(w, http.StatusNotFound, CodeSchemaNotFound, fmt.Sprintf("Schema %d not found", id))
		return
	}
	answer := map[string]any{"schema": schema}
	if len(refs) > 0 {
		answer["references"] = refs
	}
	s.writeJSON(w, http.StatusOK, answer)
}

// subject returns the schema ids of subject's versions, or answers 40401.
func (s *Server) subject(w http.ResponseWriter, subject string) ([]int, bool) {
	s.mu.Lock()
	ids, ok := s.subjects[subject]
	ids = slices.Clone(ids)
	s.mu.Unlock()
	if !ok {
		s.fail(w, http.StatusNotFound, CodeSubjectNotFound, fmt.Sprintf("Subject '%s' not found.", subject))
	}
	return ids, ok
}

func (s *Server) getVersion(w http.ResponseWriter, subject, raw string) {
	s.mu.Lock()
	s.versions[subject+"/"+raw]++
	s.mu.Unlock()
	ids, ok := s.subject(w, subject)
	if !ok {
		return
	}
	v := len(ids)
	if raw != "latest" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			s.fail(w, http.StatusUnprocessableEntity, 42202,
				"The specified version '"+raw+"' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")
			return
		}
		v = n
	}
	if v > len(ids) {
		s.fail(w, http.StatusNotFound, CodeVersionNotFound, fmt.Sprintf("Version %s not found.", raw))
		return
	}
	s.mu.Lock()
	schema, refs := s.schemas[ids[v-1]], s.refs[ids[v-1]]
	s.mu.Unlock()
	answer := map[string]any{"subject": subject, "version": v, "id": ids[v-1], "schema": schema}
	if len(refs) > 0 {
		answer["references"] = refs
	}
	s.writeJSON(w, http.StatusOK, answer)
}

// lookup answers POST /subjects/{subject}: is this schema text registered under subject, and as which version.
func (s *Server) lookup(w http.ResponseWriter, req *http.Request, subject string) {
	schema, refs, ok := s.readSchema(w, req)
	if !ok {
		return
	}
	ids, ok := s.subject(w, subject)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, id := range ids {
		if s.schemas[id] == schema && slices.Equal(s.refs[id], refs) {
			s.writeJSON(w, http.StatusOK, map[string]any{"subject": subject, "version": i + 1, "id": id, "schema": schema})
			return
		}
	}
	s.fail(w, http.StatusNotFound, CodeSchemaNotFound, "Schema not found")
}

// readSchema reads a {"schema": "...", "references": [...]} request body; the schema text must at least be JSON
// (every Avro schema is).
func (s *Server) readSchema(w http.ResponseWriter, req *http.Request) (string, []Reference, bool) {
	var body struct {
		Schema     string      `json:"schema"`
		SchemaType string      `json:"schemaType"`
		References []Reference `json:"references"`
	}
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		s.fail(w, http.StatusBadRequest, 400, "Unexpected character in the request body")
		return "", nil, false
	}
	if body.SchemaType != "" && body.SchemaType != "AVRO" {
		s.fail(w, http.StatusUnprocessableEntity, CodeInvalidSchema, "Invalid schema: unsupported schema type "+body.SchemaType)
		return "", nil, false
	}
	if body.Schema == "" || !json.Valid([]byte(body.Schema)) {
		s.fail(w, http.StatusUnprocessableEntity, CodeInvalidSchema, "Invalid schema")
		return "", nil, false
	}
	return body.Schema, body.References, true
}
