package schema

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/schema/registrytest"
)

// newTLSRegistry serves the fake registry over TLS; with clientCA it requires a client certificate signed by it.
// It returns the registry and a CA file trusting its certificate.
func newTLSRegistry(t *testing.T, clientCA *x509.CertPool) (*registrytest.Server, string) {
	t.Helper()
	reg := registrytest.New(t, registrytest.WithTLS(clientCA))
	caFile := filepath.Join(t.TempDir(), "registry-ca.pem")
	writePEM(t, caFile, "CERTIFICATE", reg.Certificate().Raw)
	return reg, caFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// selfSignedClientCert writes a client certificate and key, and returns the pool that trusts it.
func selfSignedClientCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "capi-connector"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestAvroConfluentTLS(t *testing.T) {
	certFile, keyFile, clientPool := selfSignedClientCert(t)
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
