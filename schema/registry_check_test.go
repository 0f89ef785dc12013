package schema

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/capi-connector/capi-connector/schema/registrytest"
)

func TestCheckRegistry(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithBasicAuth("capi", "right-pass"))
	reg.AddToSubject("events-value", 1, `"string"`)
	reg.AddToSubject("orders-value", 2, `"long"`)
	ctx := context.Background()
	n, err := CheckRegistry(ctx, RegistryConfig{URL: reg.URL(), Username: "capi", Password: "right-pass"})
	if err != nil || n != 2 {
		t.Fatalf("CheckRegistry = %d, %v; want 2 subjects", n, err)
	}
	_, err = CheckRegistry(ctx, RegistryConfig{URL: reg.URL(), Username: "capi", Password: "wrong-pass"})
	if !errors.Is(err, ErrRegistryUnavailable) || !strings.Contains(err.Error(), "HTTP 401") || strings.Contains(err.Error(), "wrong-pass") {
		t.Errorf("wrong password: %v, want an unavailable error naming HTTP 401 and not the password", err)
	}
	reg.Close()
	if _, err := CheckRegistry(ctx, RegistryConfig{URL: reg.URL(), Timeout: 2e9}); !errors.Is(err, ErrRegistryUnavailable) {
		t.Errorf("closed registry: %v", err)
	}
}
