package schema

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/registry"
)

// RegistryConfig says how to reach a Confluent-compatible schema registry (Confluent, Redpanda, Karapace, Apicurio's
// ccompat API). The config package maps its YAML/env keys onto it.
type RegistryConfig struct {
	// URL is the registry base URL, e.g. https://registry:8081 (for Apicurio: …/apis/ccompat/v7). Required.
	URL string
	// Username and Password enable HTTP basic auth (Confluent Cloud: API key and secret). Never logged.
	Username string
	Password string
	// CAFile is a PEM bundle trusted instead of the system roots; empty: the system roots.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and key for mutual TLS; both or neither.
	CertFile string
	KeyFile  string
	// InsecureSkipVerify disables server certificate verification. For local tests only: it lets anyone on the path
	// impersonate the registry and serve schemas that misdecode every record.
	InsecureSkipVerify bool
	// Timeout bounds one registry request (default 10s). Too short turns a slow registry into endless retries;
	// too long delays the retry of a hung connection.
	Timeout time.Duration
}

// DefaultRegistryTimeout is the per-request timeout when RegistryConfig.Timeout is zero.
const DefaultRegistryTimeout = 10 * time.Second

// RegistryError is a registry answer that is not a schema (an HTTP error status). It wraps ErrSchema when the
// registry says the id does not exist (error_code 40403), ErrRegistryUnavailable otherwise.
type RegistryError struct {
	SchemaID   int
	StatusCode int // HTTP status
	Code       int // Confluent error_code, 0 when the body had none
	Message    string
	kind       error
}

func (e *RegistryError) Error() string {
	msg := fmt.Sprintf("%v: schema id %d: registry answered HTTP %d", e.kind, e.SchemaID, e.StatusCode)
	if e.Code != 0 {
		msg += fmt.Sprintf(" (error_code %d)", e.Code)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func (e *RegistryError) Unwrap() error { return e.kind }

// confluentSchemaNotFound is the Confluent error_code for an unknown schema id (also used by Redpanda, Karapace
// and Apicurio's ccompat API).
const confluentSchemaNotFound = 40403

// schemaFetcher fetches a writer schema by id. The production one is hamba's registry client; tests may count.
type schemaFetcher interface {
	GetSchema(ctx context.Context, id int) (avro.Schema, error)
}

func (c RegistryConfig) validate() error {
	if c.URL == "" {
		return errors.New("schema registry: url is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("schema registry: url must be an absolute http:// or https:// URL")
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return errors.New("schema registry: cert_file and key_file go together (set both for mutual TLS, or neither)")
	}
	if c.Timeout < 0 {
		return errors.New("schema registry: timeout must not be negative (0 selects the default)")
	}
	return nil
}

// newRegistryClient builds hamba's registry client over an HTTP client configured from c.
//
// hamba's client caches schemas by id after a successful fetch but does not deduplicate concurrent misses, and
// parses into hamba's process-wide schema cache; AvroConfluentDecoder adds the per-id single flight on top.
func newRegistryClient(c RegistryConfig) (*registry.Client, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in, documented
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("schema registry: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("schema registry: ca_file %s holds no PEM certificate", c.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("schema registry: cert_file/key_file: %w", err)
		}
		tlsCfg.Certificates = []tls.Certificate{cert}
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultRegistryTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	httpClient := &http.Client{Transport: jsonOnlyTransport{tr}, Timeout: timeout}

	opts := []registry.ClientFunc{registry.WithHTTPClient(httpClient)}
	if c.Username != "" || c.Password != "" {
		opts = append(opts, registry.WithBasicAuth(c.Username, c.Password))
	}
	return registry.NewClient(c.URL, opts...)
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

// classifyFetchError decides whether a failed schema fetch is about the record (ErrSchema: the id does not exist,
// or the registry holds a schema under it that is not Avro) or about the registry (ErrRegistryUnavailable:
// network, timeout, 5xx, 429, refused credentials, a 404 without Confluent's error code, i.e. a wrong URL).
func classifyFetchError(ctx context.Context, id int, err error) error {
	var re registry.Error
	if errors.As(err, &re) {
		kind := ErrRegistryUnavailable
		if re.Code == confluentSchemaNotFound {
			kind = ErrSchema
		}
		return &RegistryError{SchemaID: id, StatusCode: re.StatusCode, Code: re.Code, Message: re.Message, kind: kind}
	}
	var (
		ue *url.Error
		ne net.Error
	)
	if errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || ctx.Err() != nil {
		return fmt.Errorf("%w: schema id %d: %w", ErrRegistryUnavailable, id, err)
	}
	// What is left is a 2xx JSON answer whose schema does not parse as Avro (a Protobuf or JSON Schema
	// registered under this id, or schema references, which hamba's client does not follow).
	return fmt.Errorf("%w: schema id %d: registry schema is not usable Avro: %w", ErrSchema, id, err)
}
