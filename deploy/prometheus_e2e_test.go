package deploy

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
	"github.com/capi-connector/capi-connector/test/proctest"
)

// TestMain removes the connector binary the tests built.
func TestMain(m *testing.M) { proctest.Main(m, "..") }

// TestPrometheusEndToEnd runs the real pieces together: the capi-connector binary (kfake + the Graph API
// simulator), a real Prometheus server scraping it with the alert rules of deploy/prometheus/alerts.yml (their
// `for:` shortened so the test takes seconds), and checks through Prometheus's HTTP API that
//   - every metric named by the alert rules and the Grafana dashboard is one the running connector exports;
//   - a Facebook rejection fires CapiFacebookRejected;
//   - an expired token fires CapiDestinationMisconfigured (and CapiNotReady with the failing check as label);
//   - fixing it (new token, restart) resolves the alert while Prometheus scrapes the fixed connector, and the
//     events held during the outage are delivered.
func TestPrometheusEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the connector and a Prometheus server")
	}
	promBin := tool(t, "prometheus", installPrometheus)
	bin := proctest.Connector(t)

	names := servicetest.Names{Topic: "events", DLQ: "events.dlq", Group: "capi-e2e"}
	brokers := servicetest.NewCluster(t, names, 3).ListenAddrs()
	kopts := []kgo.Opt{kgo.SeedBrokers(brokers...)}

	events, poisoned := trafficMix()
	// Two transient failures first (retries, outcome transient), then Facebook "rejects" the poisoned ids.
	sim, srv := capitest.NewTestServer(t, capitest.Config{AcceptAnyPixel: true, MaxRecordedEvents: 10000,
		Faults: capitest.Faults{FailNext: 2, PoisonedEventIDs: poisoned}})

	metricsAddr := proctest.FreeAddr(t)
	vars := proctest.ConnectorVars(brokers, names.Topic, names.DLQ, names.Group, srv.URL, map[string]string{
		"CAPI_PIXEL_ID":                     "1234567890123",
		"CAPI_ACCESS_TOKEN":                 "token-before-expiry",
		"CAPI_BATCH_MAX_EVENTS":             "50",
		"CAPI_RETRY_MAX_BACKOFF":            "100ms",
		"CAPI_BREAKER_CONSECUTIVE_FAILURES": "5",
		"CAPI_METRICS_ADDR":                 metricsAddr,
		"CAPI_SHUTDOWN_TIMEOUT":             "5s",
	})

	prom := startPrometheus(t, promBin, metricsAddr)
	conn := proctest.StartConnector(t, bin, "connector-1", vars, 10*time.Second)
	servicetest.Produce(t, kopts, names.Topic, events)

	// Phase 1: everything delivered or dead-lettered and committed; every named metric is exported.
	waitFor(t, 90*time.Second, "the connector to deliver and commit the first events", func() (bool, string) {
		conn.RequireRunning()
		m := scrape(t, metricsAddr)
		lag, ok := m.sum("capi_consumer_lag")
		done := ok && lag == 0 && m.has(`capi_events_rejected_total{destination="default",reason="facebook_rejected"}`) &&
			m.has(`capi_graph_retries_total`)
		return done, fmt.Sprintf("lag %v (reported %v)", lag, ok)
	})
	checkNamesExported(t, scrape(t, metricsAddr).names())
	start := time.Now()
	t.Logf("phase 1: %d events delivered or dead-lettered and committed; metric names checked", len(events))

	waitAlert(t, prom, "CapiFacebookRejected", map[string]string{"destination": "default", "job": "capi"}, true)
	t.Logf("CapiFacebookRejected firing after %s", time.Since(start).Round(100*time.Millisecond))

	// Phase 2: the token expires. Held events must not be dead-lettered; the alert fires.
	if err := sim.SetFaults(capitest.Faults{TokenExpired: true}); err != nil {
		t.Fatal(err)
	}
	held := servicetest.Deliverable(99, 20)
	servicetest.Produce(t, kopts, names.Topic, held)
	expiredAt := time.Now()
	waitAlert(t, prom, "CapiDestinationMisconfigured", map[string]string{"destination": "default", "job": "capi", "severity": "critical"}, true)
	t.Logf("token expired: CapiDestinationMisconfigured firing after %s", time.Since(expiredAt).Round(100*time.Millisecond))
	waitAlert(t, prom, "CapiNotReady", map[string]string{"check": "destination:default", "job": "capi"}, true)
	t.Logf("CapiNotReady{check=destination:default} firing after %s", time.Since(expiredAt).Round(100*time.Millisecond))

	// Phase 3: the operator puts a valid token in place and restarts; the alert resolves while Prometheus scrapes
	// the fixed connector (not because the target went away), and the held events are delivered.
	if err := sim.SetFaults(capitest.Faults{}); err != nil {
		t.Fatal(err)
	}
	// SIGTERM with work held by the misconfigured destination: the connector gives up on it after
	// shutdown_timeout (not committed, consumed again after the restart), so any exit status is accepted here.
	conn.Stop(30 * time.Second)
	t.Logf("connector-1 stopped while misconfigured: %v", conn.Err())
	restartedAt := time.Now()
	vars["CAPI_ACCESS_TOKEN"] = "token-after-rotation"
	conn = proctest.StartConnector(t, bin, "connector-2", vars, 10*time.Second)
	waitFor(t, 90*time.Second, "Prometheus to scrape the fixed connector", func() (bool, string) {
		conn.RequireRunning()
		v, ok := prom.queryScalar(t, `max(capi_destination_misconfigured{job="capi",destination="default"})`)
		at, _ := prom.queryScalar(t, `max(timestamp(capi_destination_misconfigured{job="capi",destination="default"}))`)
		scraped := time.UnixMilli(int64(at * 1000))
		up, _ := prom.queryScalar(t, `up{job="capi"}`)
		ready, _ := prom.queryScalar(t, `min(capi_ready{job="capi",check="destination:default"})`)
		return ok && v == 0 && ready == 1 && up == 1 && scraped.After(restartedAt),
			fmt.Sprintf("misconfigured %v, ready %v, scraped at %v, up %v", v, ready, scraped, up)
	})
	waitAlert(t, prom, "CapiDestinationMisconfigured", map[string]string{"destination": "default"}, false)
	waitAlert(t, prom, "CapiNotReady", map[string]string{"check": "destination:default"}, false)
	t.Logf("fixed: both alerts resolved %s after the restart", time.Since(restartedAt).Round(100*time.Millisecond))
	waitFor(t, 90*time.Second, "the held events to be delivered", func() (bool, string) {
		got := sim.EventIDs()
		missing := 0
		for _, e := range held {
			if got[e.EventID] == 0 {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d held events not delivered", missing, len(held))
	})
	conn.Terminate(30 * time.Second)
}
