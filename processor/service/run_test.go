package service_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// The service started like `run` serves /healthz, /readyz and /metrics on the metrics address: readiness follows
// the group join and the destinations' health, and every documented series exists and moves with the traffic.
func TestServiceMetricsAndHealth(t *testing.T) {
	names := servicetest.NewNames(t)
	c := servicetest.NewCluster(t, names, 2)
	kopts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	sim, simURL := servicetest.NewSim(t)
	if err := sim.SetFaults(capitest.Faults{FailNext: 2}); err != nil { // two 500s: retries
		t.Fatal(err)
	}
	cfg := servicetest.Config(c.ListenAddrs(), names, simURL)
	cfg.MetricsAddr = "127.0.0.1:0"
	cfg.LogLevel = "info"
	cfg.ShutdownTimeout = time.Second // the last records are undeliverable (expired token): do not wait for them

	events := append(servicetest.Deliverable(11, 40), servicetest.NoConsent(10)...)
	events = append(events, sample.Event{Key: []byte("k"), Value: []byte("{not json")})
	end := servicetest.Produce(t, kopts, names.Topic, events)

	// Joining the group is held until the endpoints were checked: readiness must wait for the join.
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.JoinGroup), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		select {
		case <-release:
		default:
			c.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	var logs servicetest.SyncBuffer
	svc := servicetest.Start(t, cfg, zerolog.New(&logs))
	servicetest.WaitFor(t, 10*time.Second, "the ops server to listen", func() bool { return svc.OpsAddr() != "" })
	base := "http://" + svc.OpsAddr()
	if !strings.Contains(logs.String(), `"addr":"`+svc.OpsAddr()+`"`) {
		t.Errorf("the logs do not say where the ops server listens:\n%s", logs.String())
	}
	for range 5 {
		if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
			t.Errorf("/healthz before join = %d, want 200", code)
		}
		if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz before join = %d, want 503", code)
		}
		time.Sleep(40 * time.Millisecond)
	}
	close(release)
	servicetest.WaitFor(t, 20*time.Second, "commits to reach the end offsets", func() bool {
		return servicetest.Reached(servicetest.Committed(t, kopts, names.Group, names.Topic), end)
	})
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after join = %d, want 200", code)
	}
	servicetest.WaitFor(t, 5*time.Second, "the lag to reach 0 in /metrics", func() bool {
		m := scrape(t, base)
		return m.sum("capi_consumer_lag", nil) == 0 && len(m.series("capi_consumer_lag")) == len(end)
	})

	m := scrape(t, base)
	dest := map[string]string{"destination": "shop"}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   func(float64) bool
		desc   string
	}{
		{"capi_records_consumed_total", nil, eq(float64(len(events))), "every record"},
		{"capi_events_delivered_total", dest, eq(40), "40 delivered"},
		{"capi_events_rejected_total", map[string]string{"destination": "shop", "reason": "no_consent"}, eq(10), "10 no_consent"},
		{"capi_events_rejected_total", map[string]string{"destination": "", "reason": "invalid_payload"}, eq(1), "1 invalid_payload (decode, no destination)"},
		{"capi_graph_requests_total", map[string]string{"destination": "shop", "outcome": "ok", "status_class": "2xx"}, gt(0), "> 0 ok 2xx"},
		{"capi_graph_requests_total", map[string]string{"destination": "shop", "status_class": "5xx"}, eq(2), "the 2 injected 500s"},
		{"capi_graph_retries_total", dest, ge(2), ">= 2"},
		{"capi_graph_batch_events_count", dest, gt(0), "> 0 observations"},
		{"capi_graph_batch_events_sum", dest, ge(40), ">= 40 events (retried batches count again)"},
		{"capi_graph_request_duration_seconds_count", dest, gt(0), "> 0 observations"},
		{"capi_breaker_state", dest, eq(0), "closed (0)"},
		{"capi_destination_misconfigured", dest, eq(0), "0"},
		{"capi_fetch_paused", nil, eq(0), "0"},
		{"capi_in_flight_records", nil, eq(0), "0 once everything is committed"},
		{"capi_match_key_events_total", map[string]string{"destination": "shop", "key": "em"}, eq(40), "every delivered sample has an email"},
		{"capi_match_key_events_total", map[string]string{"destination": "shop", "key": "external_id"}, eq(40), "every delivered sample has a user id"},
		{"capi_dlq_produce_errors_total", nil, eq(0), "0"},
	} {
		if len(m.series(tc.name)) == 0 {
			t.Errorf("%s is missing from /metrics", tc.name)
			continue
		}
		if got := m.sum(tc.name, tc.labels); !tc.want(got) {
			t.Errorf("%s%v = %g, want %s", tc.name, tc.labels, got, tc.desc)
		}
	}
	for p, off := range end {
		lbl := map[string]string{"topic": names.Topic, "partition": strconv.Itoa(int(p))}
		if got := m.sum("capi_committed_offset", lbl); got != float64(off) {
			t.Errorf("capi_committed_offset%v = %g, want %d", lbl, got, off)
		}
		if got := m.sum("capi_end_offset", lbl); got != float64(off) {
			t.Errorf("capi_end_offset%v = %g, want %d", lbl, got, off)
		}
	}
	kafkaSeries := 0
	for name := range m {
		if strings.HasPrefix(name, "capi_kafka_") {
			kafkaSeries++
		}
	}
	if kafkaSeries == 0 || m.sum("capi_kafka_fetch_records_total", nil)+m.sum("capi_kafka_connects_total", nil) == 0 {
		t.Errorf("franz-go client metrics (capi_kafka_*) missing or idle: %d series", kafkaSeries)
	}

	// The token expires: the destination is misconfigured, readiness drops, fetching pauses, lag grows.
	if err := sim.SetFaults(capitest.Faults{TokenExpired: true}); err != nil {
		t.Fatal(err)
	}
	servicetest.Produce(t, kopts, names.Topic, servicetest.Deliverable(12, 10))
	servicetest.WaitFor(t, 10*time.Second, "/readyz to turn 503 on an expired token", func() bool {
		code, _ := get(t, base+"/readyz")
		return code == http.StatusServiceUnavailable
	})
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while misconfigured = %d, want 200 (the process is alive; restarting it fixes nothing)", code)
	}
	// Where an operator looks, the code comes with what to do about it.
	const fix = "the access token expired or was revoked: create a new one in Events Manager → Settings → Conversions API"
	if _, body := get(t, base+"/readyz"); !strings.Contains(body, fix) {
		t.Errorf("/readyz does not say what to do about the expired token:\n%s", body)
	}
	if l := logs.String(); !strings.Contains(l, fix) || !strings.Contains(l, `"subcode":463`) {
		t.Errorf("the logs do not carry the fix next to code 190/463")
	}
	m = scrape(t, base)
	if got := m.sum("capi_destination_misconfigured", dest); got != 1 {
		t.Errorf("capi_destination_misconfigured = %g, want 1", got)
	}
	if got := m.sum("capi_fetch_paused", nil); got != 1 {
		t.Errorf("capi_fetch_paused = %g, want 1", got)
	}
	if got := m.sum("capi_in_flight_records", nil); got <= 0 {
		t.Errorf("capi_in_flight_records = %g, want the undelivered records", got)
	}
	servicetest.WaitFor(t, 5*time.Second, "the lag to show the undelivered records", func() bool {
		return scrape(t, base).sum("capi_consumer_lag", nil) == 10
	})
	if err := svc.Stop(t); err == nil {
		t.Log("stopped cleanly") // the drain gives up on the undeliverable records after ShutdownTimeout
	}
}
