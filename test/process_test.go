package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
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

// TestMain only removes the connector binary built (at most once) by the tests that run it as a subprocess.
func TestMain(m *testing.M) {
	code := m.Run()
	if connectorBuild.dir != "" {
		_ = os.RemoveAll(connectorBuild.dir)
	}
	os.Exit(code)
}

// connectorBuild is the capi-connector binary, built on first use and shared by every test of the run: building
// it costs seconds, running it none. Written once under once, read-only afterwards.
var connectorBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// connectorBinary builds cmd/capi-connector the way the Dockerfile does (CGO off) once per test run.
func connectorBinary(t testing.TB) string {
	t.Helper()
	connectorBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "capi-e2e-bin-")
		if err != nil {
			connectorBuild.err = err
			return
		}
		connectorBuild.dir = dir
		bin := filepath.Join(dir, "capi-connector")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/capi-connector")
		cmd.Dir = ".." // the module root, relative to this package's directory (where go test runs)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			connectorBuild.err = fmt.Errorf("go build ./cmd/capi-connector: %w\n%s", err, out)
			return
		}
		connectorBuild.path = bin
	})
	if connectorBuild.err != nil {
		t.Fatal(connectorBuild.err)
	}
	return connectorBuild.path
}

// connectorProc is `capi-connector run` as a child process, configured by CAPI_* variables only.
type connectorProc struct {
	t       testing.TB
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited and been reaped
	err     error         // cmd.Wait's result, valid once done is closed
}

// connectorEnv is the environment of a connector process for this test's topics, group and simulator: small
// batches and short backoffs so that a test sees many commits, and a 6 s session timeout (the broker's minimum,
// group.min.session.timeout.ms) so that a SIGKILLed member's partitions move on quickly.
func (e *env) connectorEnv(name string) map[string]string {
	return map[string]string{
		"CAPI_KAFKA_BROKERS":                strings.Join(e.brokers, ","),
		"CAPI_KAFKA_TOPIC":                  e.topic,
		"CAPI_KAFKA_GROUP":                  e.group,
		"CAPI_DLQ_TOPIC":                    e.dlqTopic,
		"CAPI_KAFKA_CLIENT_ID":              name,
		"CAPI_KAFKA_SESSION_TIMEOUT":        "6s",
		"CAPI_PIXEL_ID":                     pixelID,
		"CAPI_ACCESS_TOKEN":                 token,
		"CAPI_GRAPH_URL":                    e.simURL,
		"CAPI_CONSENT_CATEGORY":             sample.ConsentCategory,
		"CAPI_DEFAULT_PHONE_REGION":         "FR",
		"CAPI_BATCH_MAX_EVENTS":             "20",
		"CAPI_BATCH_LINGER":                 "20ms",
		"CAPI_BATCH_MAX_IN_FLIGHT":          "2",
		"CAPI_RETRY_INITIAL_BACKOFF":        "10ms",
		"CAPI_RETRY_MAX_BACKOFF":            "200ms",
		"CAPI_RETRY_THROTTLE_BACKOFF":       "50ms",
		"CAPI_BREAKER_OPEN_TIMEOUT":         "300ms",
		"CAPI_BREAKER_CONSECUTIVE_FAILURES": "3",
		"CAPI_METRICS_ADDR":                 "127.0.0.1:0",
		"CAPI_SHUTDOWN_TIMEOUT":             "20s",
		"CAPI_LOG_LEVEL":                    "info",
		"CAPI_LOG_FORMAT":                   "json",
	}
}

// startConnector starts `capi-connector run` with vars as its whole CAPI_* environment (the test process's own
// CAPI_* variables, CAPI_TEST_BROKERS included, do not leak in: the binary rejects unknown ones). Its log goes
// to a file, printed when the test fails. Cleanup SIGKILLs it if the test did not stop it.
func (e *env) startConnector(bin, name string, vars map[string]string) *connectorProc {
	e.t.Helper()
	logPath := filepath.Join(e.t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		e.t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "run")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "TMPDIR=" + os.TempDir()}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("start %s: %v", name, err)
	}
	p := &connectorProc{t: e.t, name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		p.kill()
		if e.t.Failed() {
			p.dumpLog(60)
		}
	})
	return p
}

func (p *connectorProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL (no drain, no commit, no LeaveGroup: a crash) and waits until the process is reaped.
func (p *connectorProc) kill() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// terminate sends SIGTERM and waits up to timeout for the drain; the process must exit with status 0.
func (p *connectorProc) terminate(timeout time.Duration) {
	p.t.Helper()
	if p.exited() {
		p.t.Fatalf("%s exited before SIGTERM: %v", p.name, p.err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
		p.t.Fatalf("%s did not drain and exit within %s of SIGTERM", p.name, timeout)
	}
	if p.err != nil {
		p.t.Errorf("%s exited after SIGTERM with %v, want status 0", p.name, p.err)
	}
}

// requireRunning fails the test if the process has exited (a configuration error, a crash).
func (p *connectorProc) requireRunning() {
	p.t.Helper()
	if p.exited() {
		p.t.Fatalf("%s exited unexpectedly: %v", p.name, p.err)
	}
}

// dumpLog writes the last n lines of the process's log to the test log.
func (p *connectorProc) dumpLog(n int) {
	f, err := os.Open(p.logPath)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	p.t.Logf("---- last %d lines of %s's log:", len(lines), p.name)
	for _, l := range lines {
		p.t.Log(l)
	}
}

// errNoState means the broker is not one test/kafka/start.sh manages (no state file, or another address).
var errNoState = errors.New("no test/kafka state for this broker")

// kafkaStateFile is the state file the test/kafka scripts use (CAPI_KAFKA_STATE, as in lib.sh).
func kafkaStateFile() string {
	if s := os.Getenv("CAPI_KAFKA_STATE"); s != "" {
		return s
	}
	return "/tmp/capi-kafka.state"
}

// managedBroker reports whether brokers is the single broker test/kafka/start.sh runs (its state file names the
// same bootstrap address): only then may a test kill and restart it.
func managedBroker(brokers []string) error {
	data, err := os.ReadFile(kafkaStateFile())
	if err != nil {
		return fmt.Errorf("%w: %w", errNoState, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("BOOTSTRAP=")); ok {
			if len(brokers) == 1 && string(v) == brokers[0] {
				return nil
			}
			return fmt.Errorf("%w: state file %s names %s, the suite uses %v", errNoState, kafkaStateFile(), v, brokers)
		}
	}
	return fmt.Errorf("%w: state file %s has no BOOTSTRAP", errNoState, kafkaStateFile())
}

// kafkaScript runs test/kafka/<name> and returns the last line of its standard output; its diagnostics go to the
// test log.
func kafkaScript(t testing.TB, name string) string {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("bash", filepath.Join("kafka", name))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("test/kafka/%s (%s): %s", name, time.Since(start).Round(time.Millisecond), bytes.TrimSpace(stderr.Bytes()))
	if err != nil {
		t.Fatalf("test/kafka/%s: %v", name, err)
	}
	out := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	return string(out)
}

// mixSeeded is mix with its own generator seed: two batches of one test must not share event ids.
func mixSeeded(seed uint64, n int, poison, tooOld, invalid int) []sample.Event {
	g := sample.New(seed, time.Now())
	g.PoisonEvery, g.TooOldEvery, g.InvalidEvery = poison, tooOld, invalid
	out := make([]sample.Event, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

// poisonedIDs returns the event ids the simulator must reject as Facebook would.
func poisonedIDs(events ...[]sample.Event) []string {
	var out []string
	for _, evs := range events {
		for _, ev := range evs {
			if ev.Kind == sample.Poisoned {
				out = append(out, ev.EventID)
			}
		}
	}
	return out
}

// countKind counts events of kind k.
func countKind(events []sample.Event, k sample.Kind) int {
	n := 0
	for _, ev := range events {
		if ev.Kind == k {
			n++
		}
	}
	return n
}
