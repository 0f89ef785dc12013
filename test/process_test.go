package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/schema/sample"
	"github.com/capi-connector/capi-connector/test/proctest"
)

// TestMain removes the connector binary the tests built.
func TestMain(m *testing.M) { proctest.Main(m, "..") }

// connectorBinary builds cmd/capi-connector the way the Dockerfile does (CGO off) once per test run.
func connectorBinary(t testing.TB) string { return proctest.Connector(t) }

// connectorProc is `capi-connector run` as a child process, configured by CAPI_* variables only.
type connectorProc = proctest.Proc

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
