package config

import (
	"os"
	"path/filepath"
	"testing"
)

// ClientConfig carries server_name and insecure_skip_verify as set, and names the settings in its errors.
func TestTLSClientConfig(t *testing.T) {
	t.Parallel()
	tc, err := TLS{ServerName: "kafka.internal"}.ClientConfig("kafka.tls")
	if err != nil || tc.ServerName != "kafka.internal" || tc.InsecureSkipVerify || tc.MinVersion == 0 {
		t.Fatalf("ClientConfig = %+v, %v", tc, err)
	}
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]TLS{
		"missing ca file":             {CAFile: filepath.Join(dir, "nope.pem")},
		"ca file without certificate": {CAFile: notPEM},
		"bad client cert":             {CertFile: notPEM, KeyFile: notPEM},
	} {
		if _, err := bad.ClientConfig("kafka.schema_registry.tls"); err == nil {
			t.Errorf("%s: no error", name)
		} else if got := err.Error(); len(got) < len("kafka.schema_registry.tls") || got[:len("kafka.schema_registry.tls")] != "kafka.schema_registry.tls" {
			t.Errorf("%s: error %q does not name the settings", name, got)
		}
	}
}
