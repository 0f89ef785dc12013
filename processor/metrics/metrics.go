// Package metrics exports the connector's Prometheus series (all named capi_…): the runtime's counters, Graph
// request outcomes and latencies (as a capi.Observer), breaker state, in-flight records, committed offsets and
// lag per partition, and franz-go's client metrics (plugin/kprom, under capi_kafka_…).
package metrics

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"

	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/processor/stream"
)

// Metrics is registered once per process on its own registry (no global state).
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	batchSize *prometheus.HistogramVec
	retries   *prometheus.CounterVec
	kprom     *kprom.Metrics
}

// New creates and registers the series on reg.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capi_graph_requests_total",
			Help: "Graph API requests by destination, outcome (ok or error class), HTTP status class and Graph error code (0: none).",
		}, []string{"destination", "outcome", "status_class", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "capi_graph_request_duration_seconds",
			Help:    "Graph API request latency.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"destination"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "capi_graph_batch_events",
			Help:    "Events per Graph API request.",
			Buckets: []float64{1, 10, 50, 100, 250, 500, 750, 1000},
		}, []string{"destination"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capi_graph_retries_total",
			Help: "Waits before resending to the Graph API, by destination and class.",
		}, []string{"destination", "class"}),
		kprom: kprom.NewMetrics("capi_kafka", kprom.Registerer(reg), kprom.Gatherer(reg)),
	}
	reg.MustRegister(m.requests, m.latency, m.batchSize, m.retries)
	return m
}

// KafkaHooks are the franz-go hooks that feed capi_kafka_* client metrics.
func (m *Metrics) KafkaHooks() []kgo.Opt { return []kgo.Opt{kgo.WithHooks(m.kprom)} }

// Request implements capi.Observer.
func (m *Metrics) Request(dest, outcome string, httpStatus, code int, dur time.Duration, events int) {
	class := "none"
	if httpStatus > 0 {
		class = strconv.Itoa(httpStatus/100) + "xx"
	}
	m.requests.WithLabelValues(dest, outcome, class, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(dest).Observe(dur.Seconds())
	m.batchSize.WithLabelValues(dest).Observe(float64(events))
}

// Retry implements capi.Observer.
func (m *Metrics) Retry(dest, class string) { m.retries.WithLabelValues(dest, class).Inc() }

// DroppedSource is what capi_user_data_dropped_total reads (processor.Pipeline): the count of user_data values
// dropped by normalization, by destination, field and reason.
type DroppedSource interface {
	DroppedUserData(fn func(destination, field, reason string, n uint64))
}

// WatchDropped registers capi_user_data_dropped_total, read from src at scrape time (the counting itself is a
// few atomic adds in the pipeline, with no label lookups on the hot path).
func (m *Metrics) WatchDropped(src DroppedSource) {
	m.reg.MustRegister(droppedCollector{src})
}

var descUserDataDropped = prometheus.NewDesc("capi_user_data_dropped_total",
	"User data values dropped by normalization instead of hashed, by destination, user_data field (em, ph, fn, …) and reason (invalid_phone, unparseable_date, placeholder, …).",
	[]string{"destination", "field", "reason"}, nil)

type droppedCollector struct{ src DroppedSource }

func (c droppedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descUserDataDropped }

func (c droppedCollector) Collect(ch chan<- prometheus.Metric) {
	c.src.DroppedUserData(func(dest, field, reason string, n uint64) {
		ch <- prometheus.MustNewConstMetric(descUserDataDropped, prometheus.CounterValue, float64(n), dest, field, reason)
	})
}

// Watch registers the collector that reads the runner's live state at scrape time.
func (m *Metrics) Watch(r *stream.Runner, groupTopics []string, group string) {
	m.reg.MustRegister(&runnerCollector{r: r, group: group, topics: groupTopics, lastLag: map[lagKey]lagValue{}})
}

// WatchHealth registers capi_ready{check}: 1 while the readiness check passes, 0 while it fails, so an alert can
// name the failing check. It can be registered before anything talks to Kafka.
func (m *Metrics) WatchHealth(h *health.Registry) {
	m.reg.MustRegister(healthCollector{h})
}

var descReady = prometheus.NewDesc("capi_ready", "1 while the readiness check passes, 0 while it fails (the reason is in /readyz).", []string{"check"}, nil)

type healthCollector struct{ h *health.Registry }

func (c healthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descReady }

func (c healthCollector) Collect(ch chan<- prometheus.Metric) {
	for _, chk := range c.h.Status().Checks {
		v := 0.0
		if chk.OK {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, v, chk.Name)
	}
}

var (
	descConsumed  = prometheus.NewDesc("capi_records_consumed_total", "Source records fetched and dispatched.", nil, nil)
	descDelivered = prometheus.NewDesc("capi_events_delivered_total", "Events acknowledged by the Graph API.", []string{"destination"}, nil)
	descRejected  = prometheus.NewDesc("capi_events_rejected_total", "Events dead-lettered, by destination (empty for decode failures) and reason.", []string{"destination", "reason"}, nil)
	descInFlight  = prometheus.NewDesc("capi_in_flight_records", "Records fetched and not yet committable.", nil, nil)
	descBreaker   = prometheus.NewDesc("capi_breaker_state", "Circuit breaker state per destination: 0 closed, 1 half-open, 2 open.", []string{"destination"}, nil)
	descMisconf   = prometheus.NewDesc("capi_destination_misconfigured", "1 while a destination is stopped by a configuration error.", []string{"destination"}, nil)
	descPaused    = prometheus.NewDesc("capi_fetch_paused", "1 while fetching is paused (breaker open or destination misconfigured).", nil, nil)
	descCommitted = prometheus.NewDesc("capi_committed_offset", "Last offset committed by this process.", []string{"topic", "partition"}, nil)
	descEnd       = prometheus.NewDesc("capi_end_offset", "End offset (high watermark) of the partition.", []string{"topic", "partition"}, nil)
	descLag       = prometheus.NewDesc("capi_consumer_lag", "End offset minus committed offset of the group.", []string{"topic", "partition"}, nil)
	descCoverage  = prometheus.NewDesc("capi_match_key_events_total", "Delivered events carrying each match key (em, ph, external_id, fbp, fbc); divide by capi_events_delivered_total for coverage, the proxy for Event Match Quality.", []string{"destination", "key"}, nil)
	descDropped   = prometheus.NewDesc("capi_custom_params_dropped_total", "Custom parameters left out of delivered events beyond the cap per event (mapping.MaxCustomParams), by destination.", []string{"destination"}, nil)
	descDLQRefs   = prometheus.NewDesc("capi_dlq_reference_records_total", "Records too large for the dead-letter topic, dead-lettered as references (headers only, value omitted).", nil, nil)
	descDLQErrors = prometheus.NewDesc("capi_dlq_produce_errors_total", "Failed dead-letter produce attempts (each is retried; the source offset waits).", nil, nil)
)

type runnerCollector struct {
	r      *stream.Runner
	group  string
	topics []string

	// The last end offset and lag seen per partition: while the brokers cannot answer (an outage), the series keep
	// their last value instead of vanishing, so dashboards and lag alerts do not go blank when they matter most.
	mu      sync.Mutex
	lastLag map[lagKey]lagValue
}

type lagKey struct {
	topic     string
	partition int32
}

type lagValue struct{ end, lag int64 }

func (c *runnerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConsumed, descDelivered, descRejected, descInFlight, descBreaker, descMisconf,
		descPaused, descCommitted, descEnd, descLag, descCoverage, descDLQErrors, descDropped, descDLQRefs} {
		ch <- d
	}
}

func (c *runnerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Stats()
	ch <- prometheus.MustNewConstMetric(descConsumed, prometheus.CounterValue, float64(s.Consumed.Load()))
	ch <- prometheus.MustNewConstMetric(descDLQErrors, prometheus.CounterValue, float64(s.DLQErrors.Load()))
	ch <- prometheus.MustNewConstMetric(descDLQRefs, prometheus.CounterValue, float64(s.DLQReferences.Load()))
	for d, n := range s.Delivered() {
		ch <- prometheus.MustNewConstMetric(descDelivered, prometheus.CounterValue, float64(n), d)
	}
	for k, n := range s.Rejected() {
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(n), k.Destination, string(k.Reason))
	}
	for d, n := range s.DroppedCustomParams() {
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(n), d)
	}
	for k, n := range s.MatchKeys() {
		ch <- prometheus.MustNewConstMetric(descCoverage, prometheus.CounterValue, float64(n), k.Destination, k.Key)
	}
	ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(c.r.InFlight()))
	paused := 0.0
	if c.r.Paused() {
		paused = 1
	}
	ch <- prometheus.MustNewConstMetric(descPaused, prometheus.GaugeValue, paused)
	for _, d := range c.r.DestinationStates() {
		ch <- prometheus.MustNewConstMetric(descBreaker, prometheus.GaugeValue, float64(d.Breaker), d.Name)
		mis := 0.0
		if d.Misconfigured {
			mis = 1
		}
		ch <- prometheus.MustNewConstMetric(descMisconf, prometheus.GaugeValue, mis, d.Name)
	}
	committed := s.Committed()
	for tp, off := range committed {
		ch <- prometheus.MustNewConstMetric(descCommitted, prometheus.GaugeValue, float64(off), tp.Topic, strconv.Itoa(int(tp.Partition)))
	}
	// Lag from the broker's view (group commits of every member, not only ours), bounded so a slow broker
	// cannot stall a scrape. Partitions the broker did not answer for keep their last value.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	adm := kadm.NewClient(c.r.Client())
	lags, err := adm.Lag(ctx, c.group)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		lags.Each(func(l kadm.DescribedGroupLag) {
			for _, ps := range l.Lag {
				for _, gl := range ps {
					if gl.Err != nil {
						continue
					}
					c.lastLag[lagKey{gl.Topic, gl.Partition}] = lagValue{end: gl.End.Offset, lag: gl.Lag}
				}
			}
		})
	}
	for k, v := range c.lastLag {
		p := strconv.Itoa(int(k.partition))
		ch <- prometheus.MustNewConstMetric(descEnd, prometheus.GaugeValue, float64(v.end), k.topic, p)
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(v.lag), k.topic, p)
	}
}
