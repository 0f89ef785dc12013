package registrytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

const (
	schemaV1 = `{"type":"record","name":"Event","namespace":"t","fields":[{"name":"event_name","type":"string"}]}`
	schemaV2 = `{"type":"record","name":"Event","namespace":"t","fields":[{"name":"event_name","type":"string"},{"name":"id","type":["null","string"],"default":null}]}`
	// schemaRef uses t.Product without defining it: the schema registered under subject "product" does.
	schemaRef     = `{"type":"record","name":"Order","namespace":"t","fields":[{"name":"product","type":"t.Product"}]}`
	schemaProduct = `{"type":"record","name":"Product","namespace":"t","fields":[{"name":"name","type":"string"},{"name":"id","type":"string"}]}`
)

func client(t *testing.T, s *Server, opts ...sr.ClientOpt) *sr.Client {
	t.Helper()
	c, err := sr.NewClient(append([]sr.ClientOpt{sr.URLs(s.URL())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// registryErr returns the Confluent error franz-go's client decoded from the answer.
func registryErr(t *testing.T, err error) *sr.ResponseError {
	t.Helper()
	var re *sr.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v (%T), want an *sr.ResponseError", err, err)
	}
	return re
}

// TestClientEndpoints drives the endpoints a producer and the connector call, with franz-go's registry client,
// and checks the answers and Confluent error codes.
func TestClientEndpoints(t *testing.T) {
	s := New(t)
	c := client(t, s)
	ctx := context.Background()

	id1, err := c.RegisterSchema(ctx, "events-value", sr.Schema{Schema: schemaV1}, -1, -1)
	if err != nil {
		t.Fatalf("RegisterSchema: %v", err)
	}
	id2, err := c.RegisterSchema(ctx, "events-value", sr.Schema{Schema: schemaV2}, -1, -1)
	if err != nil || id2 == id1 {
		t.Fatalf("RegisterSchema v2: id %d (v1 %d), %v", id2, id1, err)
	}
	if again, err := c.RegisterSchema(ctx, "other-value", sr.Schema{Schema: schemaV1}, -1, -1); err != nil || again != id1 {
		t.Fatalf("same schema under another subject: id %d, want the global id %d (%v)", again, id1, err)
	}

	got, err := c.SchemaByID(ctx, id2)
	if err != nil || got.Schema != schemaV2 || len(got.References) != 0 {
		t.Fatalf("SchemaByID(%d) = %+v, %v", id2, got, err)
	}
	if n := s.Fetches(id2); n != 1 {
		t.Fatalf("Fetches(%d) = %d, want 1", id2, n)
	}
	subjects, err := c.Subjects(ctx)
	if err != nil || strings.Join(subjects, ",") != "events-value,other-value" {
		t.Fatalf("Subjects = %v, %v", subjects, err)
	}
	versions, err := c.SubjectVersions(ctx, "events-value")
	if err != nil || len(versions) != 2 || versions[1] != 2 {
		t.Fatalf("SubjectVersions = %v, %v", versions, err)
	}
	ss, err := c.SchemaByVersion(ctx, "events-value", -1)
	if err != nil || ss.ID != id2 || ss.Version != 2 {
		t.Fatalf("SchemaByVersion latest = %+v, %v", ss, err)
	}
	ss, err = c.SchemaByVersion(ctx, "events-value", 1)
	if err != nil || ss.ID != id1 || ss.Version != 1 || ss.Schema.Schema != schemaV1 {
		t.Fatalf("SchemaByVersion 1 = %+v, %v", ss, err)
	}
	if n := s.VersionFetches("events-value", 1); n != 1 {
		t.Fatalf("VersionFetches(events-value, 1) = %d, want 1", n)
	}
	if ss, err := c.LookupSchema(ctx, "events-value", sr.Schema{Schema: schemaV2}); err != nil || ss.ID != id2 {
		t.Fatalf("LookupSchema = %+v, %v", ss, err)
	}
	if res, err := c.CheckCompatibility(ctx, "events-value", -1, sr.Schema{Schema: schemaV2}); err != nil || !res.Is {
		t.Fatalf("CheckCompatibility = %+v, %v", res, err)
	}
	if res := c.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatFull}, "events-value"); len(res) != 1 || res[0].Err != nil {
		t.Fatalf("SetCompatibility = %+v", res)
	}
	if res := c.Compatibility(ctx, "events-value"); len(res) != 1 || res[0].Err != nil || res[0].Level != sr.CompatFull {
		t.Fatalf("Compatibility = %+v", res)
	}
	if res := c.Compatibility(ctx); len(res) != 1 || res[0].Err != nil || res[0].Level != sr.CompatBackward {
		t.Fatalf("global Compatibility = %+v", res)
	}
	if vs, err := c.DeleteSubject(ctx, "other-value", sr.SoftDelete); err != nil || len(vs) != 1 {
		t.Fatalf("DeleteSubject = %v, %v", vs, err)
	}

	errorCases := []struct {
		name       string
		call       func() error
		status     int
		code       int
		msgContain string
	}{
		{"unknown schema id", func() error { _, err := c.SchemaByID(ctx, 999); return err }, 404, CodeSchemaNotFound, "Schema 999 not found"},
		{"unknown subject", func() error { _, err := c.SubjectVersions(ctx, "nope"); return err }, 404, CodeSubjectNotFound, "Subject 'nope' not found."},
		{"unknown version", func() error { _, err := c.SchemaByVersion(ctx, "events-value", 9); return err }, 404, CodeVersionNotFound, "Version 9 not found."},
		{"schema not registered", func() error {
			_, err := c.LookupSchema(ctx, "events-value", sr.Schema{Schema: `"string"`})
			return err
		}, 404, CodeSchemaNotFound, "Schema not found"},
		{"invalid schema", func() error {
			_, err := c.RegisterSchema(ctx, "events-value", sr.Schema{Schema: `{not json`}, -1, -1)
			return err
		}, 422, CodeInvalidSchema, "Invalid schema"},
		{"deleted subject", func() error { _, err := c.SchemaByVersion(ctx, "other-value", -1); return err }, 404, CodeSubjectNotFound, "not found"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			re := registryErr(t, tc.call())
			if re.StatusCode != tc.status || re.ErrorCode != tc.code || !strings.Contains(re.Message, tc.msgContain) {
				t.Fatalf("got %d/%d %q, want %d/%d containing %q", re.StatusCode, re.ErrorCode, re.Message, tc.status, tc.code, tc.msgContain)
			}
		})
	}
}

// TestReferences: a schema registered with references answers them by id and by subject version, and the same
// text with other references is another schema.
func TestReferences(t *testing.T) {
	s := New(t)
	c := client(t, s)
	ctx := context.Background()
	if _, err := c.RegisterSchema(ctx, "product", sr.Schema{Schema: schemaProduct}, -1, -1); err != nil {
		t.Fatal(err)
	}
	refs := []sr.SchemaReference{{Name: "t.Product", Subject: "product", Version: 1}}
	id, err := c.RegisterSchema(ctx, "orders-value", sr.Schema{Schema: schemaRef, References: refs}, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.SchemaByID(ctx, id)
	if err != nil || got.Schema != schemaRef || !slices.Equal(got.References, refs) {
		t.Fatalf("SchemaByID = %+v, %v", got, err)
	}
	ss, err := c.SchemaByVersion(ctx, "orders-value", 1)
	if err != nil || ss.ID != id || !slices.Equal(ss.References, refs) {
		t.Fatalf("SchemaByVersion = %+v, %v", ss, err)
	}
	other, err := c.RegisterSchema(ctx, "orders-value", sr.Schema{Schema: schemaRef,
		References: []sr.SchemaReference{{Name: "t.Product", Subject: "product", Version: 2}}}, -1, -1)
	if err != nil || other == id {
		t.Fatalf("same text, other references: id %d (first %d), %v", other, id, err)
	}
	s.AddToSubject("direct", 77, schemaRef, Reference{Name: "t.Product", Subject: "product", Version: 1})
	if got, err := c.SchemaByID(ctx, 77); err != nil || !slices.Equal(got.References, refs) {
		t.Fatalf("AddToSubject with references: %+v, %v", got, err)
	}
}

func TestBasicAuth(t *testing.T) {
	s := New(t, WithBasicAuth("svc", "s3cret"))
	s.Add(3, schemaV1)
	ctx := context.Background()
	if _, err := client(t, s, sr.BasicAuth("svc", "s3cret")).SchemaByID(ctx, 3); err != nil {
		t.Fatalf("right credentials: %v", err)
	}
	for name, c := range map[string]*sr.Client{
		"wrong password": client(t, s, sr.BasicAuth("svc", "nope")),
		"no credentials": client(t, s),
	} {
		t.Run(name, func(t *testing.T) {
			re := registryErr(t, func() error { _, err := c.SchemaByID(ctx, 3); return err }())
			if re.StatusCode != http.StatusUnauthorized || re.ErrorCode != CodeUnauthorized {
				t.Fatalf("got %d/%d, want 401/401", re.StatusCode, re.ErrorCode)
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
	if _, err := client(t, s, sr.HTTPClient(hc)).SchemaByID(context.Background(), 1); err != nil {
		t.Fatalf("trusted certificate: %v", err)
	}
	if _, err := client(t, s).SchemaByID(context.Background(), 1); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	if New(t).Certificate() != nil {
		t.Fatal("plain HTTP server has a certificate")
	}
}

func TestReferenceTo(t *testing.T) {
	order := `{"type":"record","name":"Order","namespace":"t","fields":[
		{"name":"items","type":{"type":"array","items":{"type":"record","name":"Product","fields":[{"name":"id","type":"string"}]}}}]}`
	got, err := ReferenceTo(order, "Product", "t.Product")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"fields":[{"name":"items","type":{"items":"t.Product","type":"array"}}],"name":"Order","namespace":"t","type":"record"}`
	if got != want {
		t.Errorf("ReferenceTo:\n got %s\nwant %s", got, want)
	}
	twice := `{"type":"record","name":"Pair","fields":[{"name":"a","type":` + schemaProduct + `},{"name":"b","type":` + schemaProduct + `}]}`
	for _, tc := range []struct{ name, schema, record string }{
		{"absent", order, "Price"},
		{"defined twice", twice, "Product"},
		{"not JSON", "{", "Product"},
	} {
		if _, err := ReferenceTo(tc.schema, tc.record, "t.X"); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
