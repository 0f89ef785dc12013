package service_test

import (
	"bufio"
	"encoding/json"

	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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
	base := "http://" + opsAddr(t, logs.String())
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

// opsAddr finds the metrics listen address in the service's JSON logs.
func opsAddr(t testing.TB, logs string) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var l struct{ Addr, Message string }
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Addr != "" && strings.Contains(l.Message, "/metrics") {
			return l.Addr
		}
	}
	t.Errorf("no metrics address in the logs:\n%s", logs)
	return "127.0.0.1:1"
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // test
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// families is one /metrics scrape.
type families map[string]*dto.MetricFamily

func scrape(t testing.TB, base string) families {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := families{}
	for name, f := range mf {
		out[name] = f
		// Expose histogram counts and sums as plain series, the way PromQL names them.
		for _, m := range f.Metric {
			if h := m.GetHistogram(); h != nil {
				out.add(name+"_count", m.Label, float64(h.GetSampleCount()))
				out.add(name+"_sum", m.Label, h.GetSampleSum())
			}
		}
	}
	return out
}

func (f families) add(name string, labels []*dto.LabelPair, v float64) {
	fam := f[name]
	if fam == nil {
		fam = &dto.MetricFamily{Name: &name}
		f[name] = fam
	}
	fam.Metric = append(fam.Metric, &dto.Metric{Label: labels, Untyped: &dto.Untyped{Value: &v}})
}

func (f families) series(name string) []*dto.Metric {
	if fam := f[name]; fam != nil {
		return fam.Metric
	}
	return nil
}

// sum adds the values of name's series whose labels include want.
func (f families) sum(name string, want map[string]string) float64 {
	var total float64
	for _, m := range f.series(name) {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && have[k] == v
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	return total
}

func eq(want float64) func(float64) bool { return func(v float64) bool { return v == want } }
func gt(min float64) func(float64) bool  { return func(v float64) bool { return v > min } }
func ge(min float64) func(float64) bool  { return func(v float64) bool { return v >= min } }
