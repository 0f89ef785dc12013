package schema

import (
	"context"
	"crypto/x509"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/schema/registrytest"
	"github.com/capi-connector/capi-connector/test/testca"
)

// newTLSRegistry serves the fake registry over TLS; with clientCA it requires a client certificate signed by it.
// It returns the registry and a CA file trusting its certificate.
func newTLSRegistry(t *testing.T, clientCA *x509.CertPool) (*registrytest.Server, string) {
	t.Helper()
	reg := registrytest.New(t, registrytest.WithTLS(clientCA))
	caFile := filepath.Join(t.TempDir(), "registry-ca.pem")
	if err := testca.WriteFile(caFile, testca.CertPEM(reg.Certificate().Raw)); err != nil {
		t.Fatal(err)
	}
	return reg, caFile
}

// clientCert writes a client certificate and key signed by a throwaway CA, and returns the pool that
// trusts it.
func clientCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	ca, err := testca.New("capi-connector client CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("capi-connector", x509.ExtKeyUsageClientAuth, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := leaf.KeyPEM(false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	for path, data := range map[string][]byte{certFile: leaf.CertPEM(), keyFile: key} {
		if err := testca.WriteFile(path, data); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile, ca.Pool()
}

func TestAvroConfluentTLS(t *testing.T) {
	certFile, keyFile, clientPool := clientCert(t)
	tests := []struct {
		name    string
		mtls    bool
		tls     func(caFile string) config.TLS
		wantErr error
	}{
		{"trusted CA file", false, func(ca string) config.TLS { return config.TLS{CAFile: ca} }, nil},
		{"unknown authority", false, func(string) config.TLS { return config.TLS{} }, ErrRegistryUnavailable},
		{"insecure skip verify", false, func(string) config.TLS { return config.TLS{InsecureSkipVerify: true} }, nil},
		{"client certificate", true, func(ca string) config.TLS {
			return config.TLS{CAFile: ca, CertFile: certFile, KeyFile: keyFile}
		}, nil},
		{"client certificate missing", true, func(ca string) config.TLS { return config.TLS{CAFile: ca} }, ErrRegistryUnavailable},
		// httptest's certificate names example.com and 127.0.0.1: server_name is what is verified, not the host dialled.
		{"server name verified", false, func(ca string) config.TLS { return config.TLS{CAFile: ca, ServerName: "example.com"} }, nil},
		{"wrong server name refused", false, func(ca string) config.TLS { return config.TLS{CAFile: ca, ServerName: "registry.test"} }, ErrRegistryUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pool *x509.CertPool
			if tc.mtls {
				pool = clientPool
			}
			reg, caFile := newTLSRegistry(t, pool)
			reg.Add(1, EventAvroSchema())
			cfg := registryConfig(reg)
			tlsCfg, err := tc.tls(caFile).ClientConfig("kafka.schema_registry.tls")
			if err != nil {
				t.Fatal(err)
			}
			cfg.TLS = tlsCfg
			d := mustAvroConfluent(t, cfg)
			var ev Event
			err = d.Decode(context.Background(), mustEncodeConfluent(t, 1, "", EventToAvro(&Event{EventName: "tls"})), &ev)
			if tc.wantErr == nil {
				if err != nil || ev.EventName != "tls" {
					t.Fatalf("err = %v, event %q", err, ev.EventName)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}
