package schema

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeRegistry serves the Confluent schema registry endpoints hamba's client uses, over real HTTP:
// GET /schemas/ids/{id}, GET /subjects, POST /subjects/{subject}/versions. It counts fetches per id and can fail
// on demand, so tests see what the decoder really asks.
type fakeRegistry struct {
	t   testing.TB
	srv *httptest.Server

	user, pass string // basic auth required when user != ""

	mu      sync.Mutex
	schemas map[int]string
	fetches map[int]int

	status      atomic.Int32 // when non-zero, every request answers this status
	delay       atomic.Int64 // nanoseconds to hold each schema fetch (lets concurrent decodes pile up)
	contentType atomic.Value // string; overrides the answer's content type when set
}

const registryContentType = "application/vnd.schemaregistry.v1+json"

func newFakeRegistry(t testing.TB) *fakeRegistry {
	t.Helper()
	r := &fakeRegistry{t: t, schemas: map[int]string{}, fetches: map[int]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *fakeRegistry) add(id int, schema string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.schemas[id] = schema
}

func (r *fakeRegistry) fetchCount(id int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches[id]
}

func (r *fakeRegistry) config() RegistryConfig {
	return RegistryConfig{URL: r.srv.URL, Username: r.user, Password: r.pass, Timeout: 2 * time.Second}
}

func (r *fakeRegistry) writeJSON(w http.ResponseWriter, status int, v any) {
	ct := registryContentType
	if s, ok := r.contentType.Load().(string); ok && s != "" {
		ct = s
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (r *fakeRegistry) fail(w http.ResponseWriter, status, code int, msg string) {
	r.writeJSON(w, status, map[string]any{"error_code": code, "message": msg})
}

func (r *fakeRegistry) serve(w http.ResponseWriter, req *http.Request) {
	if s := int(r.status.Load()); s != 0 {
		r.fail(w, s, s*100, "injected failure")
		return
	}
	if r.user != "" {
		u, p, ok := req.BasicAuth()
		if !ok || u != r.user || p != r.pass {
			r.fail(w, http.StatusUnauthorized, 40101, "Unauthorized")
			return
		}
	}
	path := strings.Trim(req.URL.Path, "/")
	switch {
	case req.Method == http.MethodGet && strings.HasPrefix(path, "schemas/ids/"):
		id, err := strconv.Atoi(strings.TrimPrefix(path, "schemas/ids/"))
		if err != nil {
			r.fail(w, http.StatusNotFound, 404, "HTTP 404 Not Found")
			return
		}
		r.mu.Lock()
		r.fetches[id]++
		schema, ok := r.schemas[id]
		r.mu.Unlock()
		if d := time.Duration(r.delay.Load()); d > 0 {
			time.Sleep(d)
		}
		if !ok {
			r.fail(w, http.StatusNotFound, 40403, fmt.Sprintf("Schema %d not found", id))
			return
		}
		r.writeJSON(w, http.StatusOK, map[string]any{"schema": schema})
	case req.Method == http.MethodGet && path == "subjects":
		r.writeJSON(w, http.StatusOK, []string{"events-value"})
	case req.Method == http.MethodPost && strings.HasPrefix(path, "subjects/") && strings.HasSuffix(path, "/versions"):
		var body struct {
			Schema string `json:"schema"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
			r.fail(w, http.StatusUnprocessableEntity, 42201, "Invalid schema")
			return
		}
		r.mu.Lock()
		id := len(r.schemas) + 1
		r.schemas[id] = body.Schema
		r.mu.Unlock()
		r.writeJSON(w, http.StatusOK, map[string]any{"id": id})
	default:
		// What a wrong base URL would hit: a plain 404 without Confluent's error body.
		http.NotFound(w, req)
	}
}

func TestRegistryConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  RegistryConfig
		ok   bool
	}{
		{"minimal", RegistryConfig{URL: "http://registry:8081"}, true},
		{"https with path", RegistryConfig{URL: "https://r.example.com/apis/ccompat/v7"}, true},
		{"missing url", RegistryConfig{}, false},
		{"relative url", RegistryConfig{URL: "registry:8081"}, false},
		{"ftp url", RegistryConfig{URL: "ftp://registry"}, false},
		{"cert without key", RegistryConfig{URL: "https://r", CertFile: "c.pem"}, false},
		{"key without cert", RegistryConfig{URL: "https://r", KeyFile: "k.pem"}, false},
		{"negative timeout", RegistryConfig{URL: "https://r", Timeout: -time.Second}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewAvroConfluent(tc.cfg, Limits{})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestRegistryConfigFiles(t *testing.T) {
	dir := t.TempDir()
	notPEM := dir + "/not.pem"
	if err := writeFile(notPEM, "hello"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  RegistryConfig
	}{
		{"missing ca file", RegistryConfig{URL: "https://r", CAFile: dir + "/nope.pem"}},
		{"ca file without certificate", RegistryConfig{URL: "https://r", CAFile: notPEM}},
		{"bad client cert", RegistryConfig{URL: "https://r", CertFile: notPEM, KeyFile: notPEM}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewAvroConfluent(tc.cfg, Limits{}); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
