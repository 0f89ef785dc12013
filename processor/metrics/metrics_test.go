package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// value finds the series of family name with exactly labels and returns its counter value, or the sample count and
// sum of its histogram.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (v float64, count uint64, found bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			if h := m.GetHistogram(); h != nil {
				return h.GetSampleSum(), h.GetSampleCount(), true
			}
			return m.GetCounter().GetValue(), 0, true
		}
	}
	return 0, 0, false
}

// The capi.Observer side: requests are labelled by destination, outcome, HTTP status class ("none" when no
// answer arrived) and Graph error code, and each one feeds the latency and batch-size histograms; retries are counted by class.
func TestObserverSeries(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.Request("shop", "ok", 200, 0, 40*time.Millisecond, 500)
	m.Request("shop", "transient", 503, 2, 2*time.Second, 500)
	m.Request("shop", "transient", 0, 0, 30*time.Second, 500) // timeout: no HTTP answer
	m.Request("ads", "misconfigured", 400, 190, 10*time.Millisecond, 1)
	m.Retry("shop", "transient")
	m.Retry("shop", "transient")
	m.Retry("shop", "throttled")

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
		count  uint64
	}{
		{"capi_graph_requests_total", map[string]string{"destination": "shop", "outcome": "ok", "status_class": "2xx", "code": "0"}, 1, 0},
		{"capi_graph_requests_total", map[string]string{"destination": "shop", "outcome": "transient", "status_class": "5xx", "code": "2"}, 1, 0},
		{"capi_graph_requests_total", map[string]string{"destination": "shop", "outcome": "transient", "status_class": "none", "code": "0"}, 1, 0},
		{"capi_graph_requests_total", map[string]string{"destination": "ads", "outcome": "misconfigured", "status_class": "4xx", "code": "190"}, 1, 0},
		{"capi_graph_retries_total", map[string]string{"destination": "shop", "class": "transient"}, 2, 0},
		{"capi_graph_retries_total", map[string]string{"destination": "shop", "class": "throttled"}, 1, 0},
		{"capi_graph_batch_events", map[string]string{"destination": "shop"}, 1500, 3},
		{"capi_graph_batch_events", map[string]string{"destination": "ads"}, 1, 1},
		{"capi_graph_request_duration_seconds", map[string]string{"destination": "shop"}, 32.04, 3},
	} {
		v, n, ok := value(t, reg, tc.name, tc.labels)
		if !ok {
			t.Errorf("%s%v missing", tc.name, tc.labels)
			continue
		}
		if v < tc.want-1e-9 || v > tc.want+1e-9 || n != tc.count {
			t.Errorf("%s%v = %g (count %d), want %g (count %d)", tc.name, tc.labels, v, n, tc.want, tc.count)
		}
	}
}

// Every Metrics owns its series on its own registry: two in one process (tests, demo + service) do not collide.
func TestNoGlobalRegistry(t *testing.T) {
	t.Parallel()
	ra, rb := prometheus.NewRegistry(), prometheus.NewRegistry()
	a, _ := New(ra), New(rb)
	a.Retry("shop", "transient")
	if _, _, found := value(t, rb, "capi_graph_retries_total", map[string]string{"destination": "shop", "class": "transient"}); found {
		t.Error("a retry on one registry shows on another")
	}
	if len(a.KafkaHooks()) != 1 {
		t.Error("KafkaHooks should return the kprom hook")
	}
}

type fakeDropped map[[3]string]uint64

func (f fakeDropped) DroppedUserData(fn func(destination, field, reason string, n uint64)) {
	for k, n := range f {
		fn(k[0], k[1], k[2], n)
	}
}

// capi_user_data_dropped_total reads the pipeline's counts at scrape time, one series per destination, field and
// reason.
func TestDroppedSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	src := fakeDropped{{"shop", "ph", "invalid_phone"}: 3, {"shop", "db", "unparseable_date"}: 1}
	m.WatchDropped(src)
	for k, want := range src {
		v, _, found := value(t, reg, "capi_user_data_dropped_total", map[string]string{"destination": k[0], "field": k[1], "reason": k[2]})
		if !found || v != float64(want) {
			t.Errorf("%v = %v (found %v), want %d", k, v, found, want)
		}
	}
	src[[3]string{"shop", "ph", "invalid_phone"}] = 5
	if v, _, _ := value(t, reg, "capi_user_data_dropped_total", map[string]string{"destination": "shop", "field": "ph", "reason": "invalid_phone"}); v != 5 {
		t.Errorf("after more drops: %v, want 5", v)
	}
}
