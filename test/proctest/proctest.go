// Package proctest runs programs as child processes of a test: the capi-connector binary built once the way the
// Dockerfile builds it, started with an isolated environment, its output in a file that is printed when the test
// fails, and stops whose outcome is checked. It is imported by tests only (test/ and deploy/), never by the
// service.
package proctest

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/schema/sample"
)

// connector is cmd/capi-connector for the tests of one package (one test binary): Main says where the module is,
// Connector builds it on first use, Main removes it after the tests.
var connector struct {
	moduleRoot string
	once       sync.Once
	dir        string
	path       string
	err        error
}

// Main is the TestMain of a package whose tests run the connector binary (Connector): moduleRoot is the directory
// of go.mod relative to the package's directory (where go test runs). It runs the tests, removes the binary and
// exits with the tests' status.
func Main(m *testing.M, moduleRoot string) {
	connector.moduleRoot = moduleRoot
	code := m.Run()
	if connector.dir != "" {
		_ = os.RemoveAll(connector.dir)
	}
	os.Exit(code)
}

// Connector returns cmd/capi-connector built the way the Dockerfile builds it (CGO off), once per test binary and
// shared by all its tests: building it costs seconds, running it none. A failed build fails every test that asks
// for it.
func Connector(t testing.TB) string {
	t.Helper()
	if connector.moduleRoot == "" {
		t.Fatal("proctest.Connector needs proctest.Main in the package's TestMain")
	}
	connector.once.Do(func() {
		dir, err := os.MkdirTemp("", "capi-test-bin-")
		if err != nil {
			connector.err = err
			return
		}
		connector.dir = dir
		bin := filepath.Join(dir, "capi-connector")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/capi-connector")
		cmd.Dir = connector.moduleRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			connector.err = fmt.Errorf("go build ./cmd/capi-connector: %w\n%s", err, out)
			return
		}
		connector.path = bin
	})
	if connector.err != nil {
		t.Fatal(connector.err)
	}
	return connector.path
}

// IsolatedEnv is a minimal process environment (PATH, HOME, TMPDIR) plus vars: the test machine's CAPI_*
// variables, CAPI_TEST_BROKERS included, must not leak in (the binary rejects unknown ones).
func IsolatedEnv(vars map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "TMPDIR=" + os.TempDir()}
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}

// ConnectorVars is the CAPI_* environment of a connector process on a test broker and the Graph API simulator:
// brokers, the source topic, the DLQ topic and the group; graphURL; the consent category and phone region of the
// sample events (schema/sample); a 6 s session timeout (the broker's minimum, group.min.session.timeout.ms, so
// that a killed member's partitions move on quickly), a 20 ms batch linger and short retry and breaker timings so
// that a test sees many commits and recoveries in seconds; metrics on a free loopback port. more adds or
// overrides variables: the pixel and its token, the tuning a test needs.
func ConnectorVars(brokers []string, topic, dlq, group, graphURL string, more map[string]string) map[string]string {
	v := map[string]string{
		"CAPI_KAFKA_BROKERS":         strings.Join(brokers, ","),
		"CAPI_KAFKA_TOPIC":           topic,
		"CAPI_DLQ_TOPIC":             dlq,
		"CAPI_KAFKA_GROUP":           group,
		"CAPI_KAFKA_SESSION_TIMEOUT": "6s",
		"CAPI_GRAPH_URL":             graphURL,
		"CAPI_CONSENT_CATEGORY":      sample.ConsentCategory,
		"CAPI_DEFAULT_PHONE_REGION":  "FR",
		"CAPI_BATCH_LINGER":          "20ms",
		"CAPI_RETRY_INITIAL_BACKOFF": "10ms",
		"CAPI_BREAKER_OPEN_TIMEOUT":  "300ms",
		"CAPI_METRICS_ADDR":          "127.0.0.1:0",
	}
	maps.Copy(v, more)
	return v
}

// Command is bin with args and vars as its whole CAPI_* environment (see IsolatedEnv).
func Command(bin string, vars map[string]string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = IsolatedEnv(vars)
	return cmd
}

// Output runs Command(bin, vars, args...) to its end and returns its standard output; a failure (start, exit
// status) fails the test with the command's standard error.
func Output(t testing.TB, bin string, vars map[string]string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := Command(bin, vars, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(bin), strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Proc is a child process whose output goes to a file, printed when the test fails.
type Proc struct {
	t       testing.TB
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited and been reaped
	err     error         // cmd.Wait's result, valid once done is closed
}

// Start starts cmd with its standard output and error in a log file. When the test ends, a process still running
// is stopped (SIGTERM, then SIGKILL after cleanupGrace; a cleanupGrace of 0 sends SIGKILL at once: a crash, no
// drain) and, if the test failed, the last lines of its log are printed. On Linux the process also dies with the
// test binary when no cleanup runs (go test -timeout, SIGKILL of the test).
func Start(t testing.TB, name string, cmd *exec.Cmd, cleanupGrace time.Duration) *Proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = childAttr()
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{t: t, name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop(cleanupGrace)
		if t.Failed() {
			p.dumpLog(60)
		}
	})
	return p
}

// StartConnector starts `capi-connector run` (bin) with vars as its whole CAPI_* environment (see IsolatedEnv).
func StartConnector(t testing.TB, bin, name string, vars map[string]string, cleanupGrace time.Duration) *Proc {
	t.Helper()
	return Start(t, name, Command(bin, vars, "run"), cleanupGrace)
}

// Done is closed once the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is the process's exit error (nil for status 0), valid once Done is closed.
func (p *Proc) Err() error { return p.err }

// ExitCode is the process's exit status once Done is closed; -1 while it runs or when a signal ended it.
func (p *Proc) ExitCode() int {
	if !p.Exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process (a test of the signal handling itself; Stop and Terminate for ordinary stops).
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait returns the exit status once the process has exited, failing the test if it still runs after timeout.
func (p *Proc) Wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %s", p.name, timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// Kill sends SIGKILL (no drain, no commit, no LeaveGroup: a crash) and waits until the process is reaped.
func (p *Proc) Kill() { p.Stop(0) }

// Stop sends SIGTERM, then SIGKILL after grace (at once when grace is 0); it returns once the process is reaped.
// Any exit status is accepted.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	if grace <= 0 {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Terminate is a graceful stop that must succeed: the process is running, exits within timeout of SIGTERM (it is
// killed and the test fails otherwise) and with status 0.
func (p *Proc) Terminate(timeout time.Duration) {
	p.t.Helper()
	p.RequireRunning()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
		p.t.Fatalf("%s did not exit within %s of SIGTERM", p.name, timeout)
	}
	if p.err != nil {
		p.t.Errorf("%s exited after SIGTERM with %v, want status 0", p.name, p.err)
	}
}

// RequireRunning fails the test if the process has exited (a configuration error, a crash).
func (p *Proc) RequireRunning() {
	p.t.Helper()
	if p.Exited() {
		p.t.Fatalf("%s exited unexpectedly: %v", p.name, p.err)
	}
}

// LogText returns the process's output so far, with the JSON string escapes of quotes undone so that log
// messages can be searched for as they read.
func (p *Proc) LogText() string {
	b, _ := os.ReadFile(p.logPath)
	return strings.ReplaceAll(string(b), `\"`, `"`)
}

// dumpLog writes the last n lines of the process's log to the test log.
func (p *Proc) dumpLog(n int) {
	f, err := os.Open(p.logPath)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if lines = append(lines, sc.Text()); len(lines) > n {
			lines = lines[1:]
		}
	}
	p.t.Logf("---- last %d lines of %s's log:\n%s", len(lines), p.name, strings.Join(lines, "\n"))
}
