package e2e

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/test/proctest"
)

// TestMain removes the connector binary the tests built.
func TestMain(m *testing.M) { proctest.Main(m, "..") }

// connectorBinary builds cmd/capi-connector the way the Dockerfile does (CGO off) once per test run.
func connectorBinary(t testing.TB) string { return proctest.Connector(t) }

// connectorProc is `capi-connector run` as a child process, configured by CAPI_* variables only.
type connectorProc = proctest.Proc

// connectorEnv is the environment of a connector process for this test's topics, group and simulator
// (proctest.ConnectorVars) with small batches and short backoffs, so that a test sees many commits.
func (e *env) connectorEnv(name string) map[string]string {
	return proctest.ConnectorVars(e.brokers, e.topic, e.dlqTopic, e.group, e.simURL, map[string]string{
		"CAPI_KAFKA_CLIENT_ID":              name,
		"CAPI_PIXEL_ID":                     pixelID,
		"CAPI_ACCESS_TOKEN":                 token,
		"CAPI_BATCH_MAX_EVENTS":             "20",
		"CAPI_BATCH_MAX_IN_FLIGHT":          "2",
		"CAPI_RETRY_MAX_BACKOFF":            "200ms",
		"CAPI_RETRY_THROTTLE_BACKOFF":       "50ms",
		"CAPI_BREAKER_CONSECUTIVE_FAILURES": "3",
		"CAPI_SHUTDOWN_TIMEOUT":             "20s",
		"CAPI_LOG_LEVEL":                    "info",
		"CAPI_LOG_FORMAT":                   "json",
	})
}

// startConnector starts `capi-connector run` with vars as its whole CAPI_* environment (the test process's own
// CAPI_* variables, CAPI_TEST_BROKERS included, do not leak in: the binary rejects unknown ones). Its log goes
// to a file, printed when the test fails. Cleanup SIGKILLs it if the test did not stop it.
func (e *env) startConnector(bin, name string, vars map[string]string) *connectorProc {
	e.t.Helper()
	return proctest.StartConnector(e.t, bin, name, vars, 0)
}

// readyz returns /readyz's status and body (0 when the server does not answer).
func readyz(addr string) (int, string) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
