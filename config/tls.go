package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ClientConfig is the one TLS client configuration of the connector, used by every TLS client it opens (the Kafka
// clients, the schema registry): TLS 1.2 at least; ca_file trusted instead of the system roots; cert_file and
// key_file presented for mutual TLS; server_name verified instead of the dialled host (brokers advertised by IP,
// a registry behind a proxy); insecure_skip_verify only when set (callers warn about it). key names the settings
// in errors: "kafka.tls", "kafka.schema_registry.tls".
func (t TLS) ClientConfig(key string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in, warned about
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.ca_file: %w", key, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New(key + ".ca_file: no PEM certificate found")
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.cert_file/key_file: %w", key, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
