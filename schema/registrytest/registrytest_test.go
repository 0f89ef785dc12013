package registrytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2/registry"
)

const (
	schemaV1 = `{"type":"record","name":"Event","namespace":"t","fields":[{"name":"event_name","type":"string"}]}`
	schemaV2 = `{"type":"record","name":"Event","namespace":"t","fields":[{"name":"event_name","type":"string"},{"name":"id","type":["null","string"],"default":null}]}`
)

func client(t *testing.T, s *Server, opts ...registry.ClientFunc) *registry.Client {
	t.Helper()
	c, err := registry.NewClient(s.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// registryErr returns the Confluent error hamba's client decoded from the answer.
func registryErr(t *testing.T, err error) registry.Error {
	t.Helper()
	var re registry.Error
	if !errors.As(err, &re) {
		t.Fatalf("err = %v (%T), want a registry.Error", err, err)
	}
	return re
}

// TestHambaClientEndpoints drives every endpoint hamba's registry client calls, as a producer and the connector
// would, and checks the answers and Confluent error codes.
func TestHambaClientEndpoints(t *testing.T) {
	s := New(t)
	c := client(t, s)
	ctx := context.Background()

	id1, _, err := c.CreateSchema(ctx, "events-value", schemaV1)
	if err != nil {
		t.Fatalf("CreateSchema: %v", err)
	}
	id2, _, err := c.CreateSchema(ctx, "events-value", schemaV2)
	if err != nil || id2 == id1 {
		t.Fatalf("CreateSchema v2: id %d (v1 %d), %v", id2, id1, err)
	}
	if again, _, err := c.CreateSchema(ctx, "other-value", schemaV1); err != nil || again != id1 {
		t.Fatalf("same schema under another subject: id %d, want the global id %d (%v)", again, id1, err)
	}

	got, err := c.GetSchema(ctx, id2)
	if err != nil || !strings.Contains(got.String(), `"id"`) {
		t.Fatalf("GetSchema(%d) = %v, %v", id2, got, err)
	}
	if n := s.Fetches(id2); n != 1 {
		t.Fatalf("Fetches(%d) = %d, want 1", id2, n)
	}
	subjects, err := c.GetSubjects(ctx)
	if err != nil || strings.Join(subjects, ",") != "events-value,other-value" {
		t.Fatalf("GetSubjects = %v, %v", subjects, err)
	}
	versions, err := c.GetVersions(ctx, "events-value")
	if err != nil || len(versions) != 2 || versions[1] != 2 {
		t.Fatalf("GetVersions = %v, %v", versions, err)
	}
	info, err := c.GetLatestSchemaInfo(ctx, "events-value")
	if err != nil || info.ID != id2 || info.Version != 2 {
		t.Fatalf("GetLatestSchemaInfo = %+v, %v", info, err)
	}
	info, err = c.GetSchemaInfo(ctx, "events-value", 1)
	if err != nil || info.ID != id1 || info.Version != 1 {
		t.Fatalf("GetSchemaInfo v1 = %+v, %v", info, err)
	}
	if id, _, err := c.IsRegistered(ctx, "events-value", schemaV2); err != nil || id != id2 {
		t.Fatalf("IsRegistered = %d, %v", id, err)
	}
	if ok, err := c.IsCompatible(ctx, "events-value", schemaV2); err != nil || !ok {
		t.Fatalf("IsCompatible = %v, %v", ok, err)
	}
	if err := c.SetCompatibilityLevel(ctx, "events-value", "FULL"); err != nil {
		t.Fatal(err)
	}
	if lvl, err := c.GetCompatibilityLevel(ctx, "events-value"); err != nil || lvl != "FULL" {
		t.Fatalf("GetCompatibilityLevel = %q, %v", lvl, err)
	}
	if lvl, err := c.GetGlobalCompatibilityLevel(ctx); err != nil || lvl != "BACKWARD" {
		t.Fatalf("GetGlobalCompatibilityLevel = %q, %v", lvl, err)
	}
	if vs, err := c.DeleteSubject(ctx, "other-value"); err != nil || len(vs) != 1 {
		t.Fatalf("DeleteSubject = %v, %v", vs, err)
	}

	errorCases := []struct {
		name       string
		call       func() error
		status     int
		code       int
		msgContain string
	}{
		{"unknown schema id", func() error { _, err := c.GetSchema(ctx, 999); return err }, 404, CodeSchemaNotFound, "Schema 999 not found"},
		{"unknown subject", func() error { _, err := c.GetVersions(ctx, "nope"); return err }, 404, CodeSubjectNotFound, "Subject 'nope' not found."},
		{"unknown version", func() error { _, err := c.GetSchemaInfo(ctx, "events-value", 9); return err }, 404, CodeVersionNotFound, "Version 9 not found."},
		{"schema not registered", func() error { _, _, err := c.IsRegistered(ctx, "events-value", `"string"`); return err }, 404, CodeSchemaNotFound, "Schema not found"},
		{"invalid schema", func() error { _, _, err := c.CreateSchema(ctx, "events-value", `{not json`); return err }, 422, CodeInvalidSchema, "Invalid schema"},
		{"deleted subject", func() error { _, err := c.GetLatestSchema(ctx, "other-value"); return err }, 404, CodeSubjectNotFound, "not found"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			re := registryErr(t, tc.call())
			if re.StatusCode != tc.status || re.Code != tc.code || !strings.Contains(re.Message, tc.msgContain) {
				t.Fatalf("got %d/%d %q, want %d/%d containing %q", re.StatusCode, re.Code, re.Message, tc.status, tc.code, tc.msgContain)
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	s := New(t, WithBasicAuth("svc", "s3cret"))
	s.Add(3, schemaV1)
	ctx := context.Background()
	if _, err := client(t, s, registry.WithBasicAuth("svc", "s3cret")).GetSchema(ctx, 3); err != nil {
		t.Fatalf("right credentials: %v", err)
	}
	for name, c := range map[string]*registry.Client{
		"wrong password": client(t, s, registry.WithBasicAuth("svc", "nope")),
		"no credentials": client(t, s),
	} {
		t.Run(name, func(t *testing.T) {
			re := registryErr(t, func() error { _, err := c.GetSchema(ctx, 3); return err }())
			if re.StatusCode != http.StatusUnauthorized || re.Code != CodeUnauthorized {
				t.Fatalf("got %d/%d, want 401/401", re.StatusCode, re.Code)
			}
		})
	}
	if n := s.AuthFailures(); n != 2 {
		t.Fatalf("AuthFailures = %d, want 2", n)
	}
	if n := s.Fetches(3); n != 1 {
		t.Fatalf("Fetches(3) = %d, want 1 (refused requests do not count as fetches)", n)
	}
}

func TestFaults(t *testing.T) {
	s := New(t)
	s.Add(1, schemaV1)
	get := func() (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(s.URL() + "/schemas/ids/1")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	s.SetDown(true)
	resp, body := get()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("down: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	s.SetDown(false)

	for status, code := range map[int]string{500: `"error_code":50001`, 429: `"error_code":42901`, 503: `"error_code":50301`} {
		s.FailWith(status)
		resp, body = get()
		if resp.StatusCode != status || !strings.Contains(body, code) || resp.Header.Get("Content-Type") != ContentType {
			t.Fatalf("FailWith(%d): %d %s %q", status, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	s.FailWith(0)

	s.SetContentType("text/html")
	if resp, _ = get(); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html" {
		t.Fatalf("content type override: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s.SetContentType("")

	s.SetDelay(100 * time.Millisecond)
	start := time.Now()
	if resp, body = get(); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"schema"`) || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("delay: %d %q after %s", resp.StatusCode, body, time.Since(start))
	}
	s.SetDelay(0)

	if resp, body = get(); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ContentType {
		t.Fatalf("restored: %d %q", resp.StatusCode, body)
	}
	if r, f := s.Requests(), s.Fetches(1); r != 7 || f != 3 {
		t.Fatalf("Requests = %d, Fetches = %d; want 7 (every request) and 3 (answered fetches past the faults)", r, f)
	}

	s.Close()
	if _, err := http.Get(s.URL() + "/schemas/ids/1"); err == nil {
		t.Fatal("closed server still answers")
	}
}

func TestTLS(t *testing.T) {
	s := New(t, WithTLS(nil))
	s.Add(1, schemaV1)
	if !strings.HasPrefix(s.URL(), "https://") || s.Certificate() == nil {
		t.Fatalf("URL %s, certificate %v", s.URL(), s.Certificate())
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	if _, err := client(t, s, registry.WithHTTPClient(hc)).GetSchema(context.Background(), 1); err != nil {
		t.Fatalf("trusted certificate: %v", err)
	}
	if _, err := client(t, s).GetSchema(context.Background(), 1); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	if New(t).Certificate() != nil {
		t.Fatal("plain HTTP server has a certificate")
	}
}
