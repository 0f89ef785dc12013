package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

func TestVersionCommand(t *testing.T) {
	code, viaCmd, errOut := runMain(t, "version")
	if code != exitOK {
		t.Fatalf("version: exit %d: %s", code, errOut)
	}
	_, viaFlag, _ := runMain(t, "--version")
	if viaCmd != viaFlag {
		t.Errorf("--version and version differ:\n%s\n%s", viaFlag, viaCmd)
	}
	if !strings.HasPrefix(viaCmd, "capi-connector ") || !strings.Contains(viaCmd, runtime.Version()) {
		t.Errorf("version output lacks the name or the Go version %s:\n%s", runtime.Version(), viaCmd)
	}

	saved := version
	t.Cleanup(func() { version = saved })
	version = "9.9.9-test"
	_, out, _ := runMain(t, "version")
	if first, _, _ := strings.Cut(out, "\n"); first != "capi-connector 9.9.9-test" {
		t.Errorf("stamped version: first line %q", first)
	}
	_, out, _ = runMain(t, "version", "--json")
	var b service.BuildInfo
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("version --json: %v: %s", err, out)
	}
	if b.Version != "9.9.9-test" || b.GoVersion != runtime.Version() || b.Module != "github.com/capi-connector/capi-connector" {
		t.Errorf("version --json = %+v", b)
	}
	if code, _, _ := runMain(t, "version", "extra"); code != exitUsage {
		t.Errorf("version extra: exit %d, want %d", code, exitUsage)
	}
}

// The built binary, as a user and a Docker HEALTHCHECK run it: the linker flag the Makefile and the Dockerfile pass
// stamps the version, and healthcheck against a port with nothing listening fails with status 1 and says so.
func TestBinaryVersionAndHealthcheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "capi-connector")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=1.2.3-rc.1", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("--version: %v", err)
	}
	if first, _, _ := strings.Cut(string(out), "\n"); first != "capi-connector 1.2.3-rc.1" {
		t.Errorf("--version first line %q, want the stamped version", first)
	}

	closed := servicetest.ClosedAddr(t)
	cmd := exec.Command(bin, "healthcheck", "--addr", closed)
	cmd.Env = []string{} // no CAPI_* from the calling shell
	combined, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("healthcheck against %s: %v, want exit status 1\n%s", closed, err, combined)
	}
	if !strings.Contains(string(combined), "nothing listens at") {
		t.Errorf("healthcheck message does not say nothing listens: %s", combined)
	}
}
