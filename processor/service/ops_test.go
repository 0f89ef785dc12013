package service

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/capi-connector/capi-connector/config"
)

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{
		":9464": "127.0.0.1:9464", "0.0.0.0:9464": "127.0.0.1:9464", "[::]:9464": "[::1]:9464",
		"10.0.0.5:80": "10.0.0.5:80", "ops.internal:9464": "ops.internal:9464",
	} {
		got, err := DialAddr(in)
		if err != nil || got != want {
			t.Errorf("DialAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"9464", "host:", ""} {
		if got, err := DialAddr(in); err == nil {
			t.Errorf("DialAddr(%q) = %q, want an error", in, got)
		}
	}
}

// healthcheck's address: the flag, else metrics_addr of the file (the environment still overriding it), else
// CAPI_METRICS_ADDR, else the default; each says where it came from.
func TestOpsAddrFrom(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("metrics_addr: 127.0.0.1:7000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	for _, tt := range []struct {
		addr, file         string
		env                func(string) (string, bool)
		wantAddr, wantFrom string
	}{
		{":9", file, env("CAPI_METRICS_ADDR", ":8"), ":9", "--addr"},
		{"", file, env(), "127.0.0.1:7000", "metrics_addr"},
		{"", file, env("CAPI_METRICS_ADDR", " :8 "), ":8", "metrics_addr"},
		{"", "", env("CAPI_METRICS_ADDR", ""), "", "CAPI_METRICS_ADDR"},
		{"", "", env(), config.Default().MetricsAddr, "the default metrics_addr"},
	} {
		addr, from, err := OpsAddrFrom(tt.addr, tt.file, tt.env)
		if err != nil || addr != tt.wantAddr || from != tt.wantFrom {
			t.Errorf("OpsAddrFrom(%q, %q) = %q, %q, %v; want %q, %q", tt.addr, tt.file, addr, from, err, tt.wantAddr, tt.wantFrom)
		}
	}
	var ce *ConfigError
	if _, _, err := OpsAddrFrom("", filepath.Join(t.TempDir(), "missing.yaml"), env()); !errors.As(err, &ce) {
		t.Errorf("missing file: %v, want a ConfigError", err)
	}
}
