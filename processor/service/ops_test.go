package service_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{
		":9464": "127.0.0.1:9464", "0.0.0.0:9464": "127.0.0.1:9464", "[::]:9464": "[::1]:9464",
		"10.0.0.5:80": "10.0.0.5:80", "ops.internal:9464": "ops.internal:9464",
	} {
		got, err := service.DialAddr(in)
		if err != nil || got != want {
			t.Errorf("service.DialAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"9464", "host:", ""} {
		if got, err := service.DialAddr(in); err == nil {
			t.Errorf("service.DialAddr(%q) = %q, want an error", in, got)
		}
	}
}

// healthcheck's address: the flag, else metrics_addr of the file (the environment still overriding it), else
// CAPI_METRICS_ADDR, else the default; each says where it came from.
func TestOpsAddrFrom(t *testing.T) {
	file := servicetest.WriteYAML(t, "metrics_addr: 127.0.0.1:7000\n")
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
		addr, from, err := service.OpsAddrFrom(tt.addr, tt.file, tt.env)
		if err != nil || addr != tt.wantAddr || from != tt.wantFrom {
			t.Errorf("service.OpsAddrFrom(%q, %q) = %q, %q, %v; want %q, %q", tt.addr, tt.file, addr, from, err, tt.wantAddr, tt.wantFrom)
		}
	}
	var ce *service.ConfigError
	if _, _, err := service.OpsAddrFrom("", filepath.Join(t.TempDir(), "missing.yaml"), env()); !errors.As(err, &ce) {
		t.Errorf("missing file: %v, want a ConfigError", err)
	}
}

// graph-simulator's server answers the Graph API paths and /healthz, /readyz (for healthcheck --addr), and stops
// cleanly when its context ends.
func TestServeSimulator(t *testing.T) {
	sim, err := capitest.New(capitest.Config{AcceptAnyPixel: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- service.ServeSimulator(ctx, ln, sim) }()
	base := "http://" + ln.Addr().String()
	for _, path := range []string{"/healthz", "/readyz", "/_sim/stats"} {
		if status, err := service.Probe(context.Background(), base+path, 5*time.Second); err != nil {
			t.Errorf("GET %s: %v", path, err)
		} else if !strings.HasSuffix(status, "200 OK") {
			t.Errorf("GET %s: %s", path, status)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeSimulator after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeSimulator did not return after its context ended")
	}
}
