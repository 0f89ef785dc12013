package schema

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

// RegistryConfig says how to reach a Confluent-compatible schema registry (Confluent, Redpanda, Karapace, Apicurio's
// ccompat API). The config package maps its YAML/env keys onto it.
type RegistryConfig struct {
	// URL is the registry base URL, e.g. https://registry:8081 (for Apicurio: …/apis/ccompat/v7). Required.
	URL string
	// Username and Password enable HTTP basic auth (Confluent Cloud: API key and secret). Never logged.
	Username string
	Password string
	// TLS is the client TLS configuration for an https URL (config.TLS.ClientConfig builds it from
	// kafka.schema_registry.tls: CA bundle, client certificate, server name); nil: the system roots.
	TLS *tls.Config
	// Timeout bounds one registry request (default 10s). Too short turns a slow registry into endless retries;
	// too long delays the retry of a hung connection.
	Timeout time.Duration
	// FailureTTL is how long a schema id that failed for good (not found, not Avro, an unresolvable reference) is
	// remembered, its records dead-lettered without asking the registry again (default DefaultFailureTTL).
	FailureTTL time.Duration
}

// DefaultRegistryTimeout is the per-request timeout when RegistryConfig.Timeout is zero.
const DefaultRegistryTimeout = 10 * time.Second

// RegistryError is a registry answer that is not a schema (an HTTP error status). It wraps ErrSchema when the
// registry says the schema, or a subject/version it references, does not exist (Confluent error_code 40403, 40401
// or 40402), ErrRegistryUnavailable otherwise.
type RegistryError struct {
	SchemaID int // the record's schema id
	// Reference, Subject and Version name the schema reference whose fetch failed; all empty when the schema id
	// itself failed.
	Reference  string
	Subject    string
	Version    int
	StatusCode int // HTTP status
	Code       int // Confluent error_code, 0 when the body had none
	Message    string
	kind       error
}

func (e *RegistryError) Error() string {
	msg := fmt.Sprintf("%v: schema id %d", e.kind, e.SchemaID)
	if e.Subject != "" {
		msg += fmt.Sprintf(": reference %s (subject %q version %d)", e.Reference, e.Subject, e.Version)
	}
	msg += fmt.Sprintf(": registry answered HTTP %d", e.StatusCode)
	if e.Code != 0 {
		msg += fmt.Sprintf(" (error_code %d)", e.Code)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func (e *RegistryError) Unwrap() error { return e.kind }

// Confluent error codes meaning "this does not exist" (also used by Redpanda, Karapace and Apicurio's ccompat API).
// A 404 without one of them is a wrong URL, i.e. a registry problem.
const (
	confluentSubjectNotFound = 40401
	confluentVersionNotFound = 40402
	confluentSchemaNotFound  = 40403
)

// registrySchema is a registry's answer for a schema id (GET /schemas/ids/{id}) or a subject's version
// (GET /subjects/{subject}/versions/{version}): the schema text, its type ("" or AVRO for Avro) and the schemas it
// references. The type is kept as text so that a type this program does not know is a schema that is not Avro,
// not an answer that fails to decode.
type registrySchema struct {
	Schema     string               `json:"schema"`
	SchemaType string               `json:"schemaType"`
	References []sr.SchemaReference `json:"references"`
}

// schemaSource is what the decoder needs of a registry. The production one is srSource; tests may wrap it.
type schemaSource interface {
	schemaByID(ctx context.Context, id int) (registrySchema, error)
	schemaByVersion(ctx context.Context, subject string, version int) (registrySchema, error)
}

// srSource asks the registry through franz-go's client, which brings the base URL handling, basic auth, the
// Confluent headers and typed error answers (*sr.ResponseError).
type srSource struct{ cl *sr.Client }

func (s srSource) schemaByID(ctx context.Context, id int) (registrySchema, error) {
	var out registrySchema
	err := s.cl.Do(ctx, http.MethodGet, fmt.Sprintf("/schemas/ids/%d", id), nil, &out)
	return out, err
}

func (s srSource) schemaByVersion(ctx context.Context, subject string, version int) (registrySchema, error) {
	var out registrySchema
	v := strconv.Itoa(version)
	if version == -1 {
		v = "latest"
	}
	err := s.cl.Do(ctx, http.MethodGet, "/subjects/"+url.PathEscape(subject)+"/versions/"+v, nil, &out)
	return out, err
}

func (c RegistryConfig) validate() error {
	if c.URL == "" {
		return errors.New("schema registry: url is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("schema registry: url must be an absolute http:// or https:// URL")
	}
	if c.Timeout < 0 {
		return errors.New("schema registry: timeout must not be negative (0 selects the default)")
	}
	return nil
}

// newRegistryClient builds franz-go's registry client over an HTTP client configured from c.
//
// Why franz-go's sr and not hamba's registry client: hamba's GetSchema parses the answer itself with avro.Parse,
// i.e. into hamba's process-wide DefaultSchemaCache (one writer schema resolving names another defined: records
// decoded with the wrong field order), and drops the answer's references. sr returns the schema text, its type
// and its references as the registry sent them, so the decoder parses each writer schema, references first, into
// a cache of its own. sr neither caches nor deduplicates nor retries: AvroConfluentDecoder does the per-id single
// flight and caching, the runtime retries.
func newRegistryClient(c RegistryConfig) (srSource, error) {
	if err := c.validate(); err != nil {
		return srSource{}, err
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultRegistryTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.TLS != nil {
		tr.TLSClientConfig = c.TLS.Clone()
	}
	httpClient := &http.Client{Transport: jsonOnlyTransport{tr}, Timeout: timeout}

	opts := []sr.ClientOpt{sr.URLs(c.URL), sr.HTTPClient(httpClient), sr.UserAgent("capi-connector")}
	if c.Username != "" || c.Password != "" {
		opts = append(opts, sr.BasicAuth(c.Username, c.Password))
	}
	cl, err := sr.NewClient(opts...)
	return srSource{cl}, err
}

// errNotJSON marks a successful HTTP answer whose body is not JSON.
var errNotJSON = errors.New("registry answer is not JSON")

// jsonOnlyTransport fails a 2xx answer that declares a non-JSON content type. A registry always answers JSON; an
// HTML page with status 200 means a wrong URL or an intercepting proxy. Failing in the transport makes that a
// transport error (ErrRegistryUnavailable, retried) instead of a schema that does not parse (ErrSchema, which
// would send every record to the DLQ because of a configuration mistake).
type jsonOnlyTransport struct{ next http.RoundTripper }

func (t jsonOnlyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode >= 300 {
		return resp, err
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			_ = resp.Body.Close()
			return nil, fmt.Errorf("%w (content type %q)", errNotJSON, mt)
		}
	}
	return resp, nil
}

// classifyFetchError decides whether a failed registry request is about the record (ErrSchema: the id, or a
// subject/version it references, does not exist) or about the registry (ErrRegistryUnavailable: network, timeout,
// 5xx, 429, refused credentials, a 404 without Confluent's error code, i.e. a wrong URL, an answer that is not
// JSON). ref is the zero reference when the schema id itself was fetched.
func classifyFetchError(id int, ref sr.SchemaReference, err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		kind := ErrRegistryUnavailable
		if re.StatusCode == http.StatusNotFound {
			switch re.ErrorCode {
			case confluentSchemaNotFound, confluentSubjectNotFound, confluentVersionNotFound:
				kind = ErrSchema
			}
		}
		msg := re.Message
		if re.ErrorCode == 0 {
			msg = "" // not the registry's own answer (a load balancer's page, a plain 404): its body says nothing useful
		}
		return &RegistryError{SchemaID: id, Reference: ref.Name, Subject: ref.Subject, Version: ref.Version,
			StatusCode: re.StatusCode, Code: re.ErrorCode, Message: msg, kind: kind}
	}
	// Everything else is the registry not answering usefully: transport errors (*url.Error, net.Error, the
	// jsonOnlyTransport refusal), timeouts, cancellation, a body that is not the JSON it announced.
	if ref.Subject != "" {
		return fmt.Errorf("%w: schema id %d: reference %s (subject %q version %d): %w",
			ErrRegistryUnavailable, id, ref.Name, ref.Subject, ref.Version, err)
	}
	return fmt.Errorf("%w: schema id %d: %w", ErrRegistryUnavailable, id, err)
}
