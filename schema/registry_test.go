package schema

import (
	"os"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/schema/registrytest"
)

// newRegistry starts a fake Confluent registry over real HTTP (registrytest); t closes it.
func newRegistry(t testing.TB, opts ...registrytest.Option) *registrytest.Server {
	t.Helper()
	return registrytest.New(t, opts...)
}

// registryConfig points a decoder at reg with reg's credentials and a short timeout.
func registryConfig(reg *registrytest.Server) RegistryConfig {
	user, pass := reg.BasicAuth()
	return RegistryConfig{URL: reg.URL(), Username: user, Password: pass, Timeout: 2 * time.Second}
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

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
