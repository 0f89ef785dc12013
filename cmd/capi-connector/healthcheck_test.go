package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

// runMain runs the command line in-process and returns its exit status and outputs.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = realMain(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// opsStub answers /readyz and /healthz with the given statuses and the readiness body issue 11's ops server writes.
// runCommand runs the command called name, as realMain does.
func runCommand(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return commands()[name].run(ctx, name, args, stdin, stdout, stderr)
}

func opsStub(t *testing.T, ready, live int) (addr string, paths *[]string) {
	t.Helper()
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Path)
		switch r.URL.Path {
		case "/readyz":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(ready)
			_ = json.NewEncoder(w).Encode(map[string]any{"ready": ready == 200, "checks": []map[string]any{
				{"name": "group_joined", "ok": true},
				{"name": "destination:shop", "ok": ready == 200, "reason": "token rejected (190)"},
			}})
		case "/healthz":
			w.WriteHeader(live)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), &seen
}

func TestHealthcheck(t *testing.T) {
	readyAddr, readyPaths := opsStub(t, 200, 200)
	notReadyAddr, _ := opsStub(t, 503, 200)
	_, port, _ := net.SplitHostPort(notReadyAddr)
	closed := servicetest.ClosedAddr(t)

	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		want     int
		wantText string // in stdout+stderr
	}{
		{"ready", []string{"--addr", readyAddr}, nil, exitOK, "200"},
		{"not ready names the failing check", []string{"--addr", notReadyAddr}, nil, exitFail, "destination:shop (token rejected (190))"},
		{"live while not ready", []string{"--addr", notReadyAddr, "--live"}, nil, exitOK, "/healthz"},
		{"nothing listens", []string{"--addr", closed}, nil, exitFail, "nothing listens at http://" + closed + "/readyz"},
		{"wildcard host from CAPI_METRICS_ADDR", nil, map[string]string{"CAPI_METRICS_ADDR": ":" + port}, exitFail, "127.0.0.1:" + port},
		{"CAPI_METRICS_ADDR disabled", nil, map[string]string{"CAPI_METRICS_ADDR": ""}, exitUsage, "pass --addr"},
		{"bad address", []string{"--addr", "localhost"}, nil, exitUsage, "HOST:PORT"},
		{"stray argument", []string{"--addr", readyAddr, "now"}, nil, exitUsage, `unexpected argument "now"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("CAPI_METRICS_ADDR", "unused") // so that Unsetenv below is restored after the test
			os.Unsetenv("CAPI_METRICS_ADDR")
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			code, out, errOut := runMain(t, append([]string{"healthcheck"}, c.args...)...)
			if code != c.want {
				t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", code, c.want, out, errOut)
			}
			if !strings.Contains(out+errOut, c.wantText) {
				t.Errorf("output does not mention %q:\nstdout: %s\nstderr: %s", c.wantText, out, errOut)
			}
		})
	}
	if got := strings.Join(*readyPaths, ","); got != "/readyz" {
		t.Errorf("the ready server saw %q, want one /readyz", got)
	}
}

// --config reads metrics_addr from the file; CAPI_METRICS_ADDR overrides it, as for run.
func TestHealthcheckAddressFromConfig(t *testing.T) {
	addr, _ := opsStub(t, 200, 200)
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("metrics_addr: "+addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CAPI_METRICS_ADDR", "unused")
	os.Unsetenv("CAPI_METRICS_ADDR")
	if code, out, errOut := runMain(t, "healthcheck", "--config", path); code != exitOK {
		t.Fatalf("exit status %d with metrics_addr %s in the file\n%s%s", code, addr, out, errOut)
	}
	closed := servicetest.ClosedAddr(t)
	t.Setenv("CAPI_METRICS_ADDR", closed)
	if code, _, errOut := runMain(t, "healthcheck", "--config", path); code != exitFail || !strings.Contains(errOut, closed) {
		t.Fatalf("CAPI_METRICS_ADDR=%s should override the file: exit %d, %s", closed, code, errOut)
	}
}
