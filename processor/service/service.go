// Package service is the connector assembled from its configuration: the pipeline of stages, the Kafka runtime
// (processor/stream), the Graph clients, the metrics and the operations endpoints. `capi-connector run`, `demo`
// and `bench` and the end-to-end suites all start the connector through it, so what the tests prove is what runs.
//
// The path of one record: New builds the pipeline (BuildPipeline: decoder → consent → mapping → normalize →
// eligibility → validation, processor.Pipeline) and the runtime's options (streamOptions); Run checks that Kafka
// accepts the connection settings, then stream.Runner consumes, batches per destination, delivers through
// processor/capi or dead-letters, and commits each offset once every outcome of its record is durable.
package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi"
	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/processor/kafkaauth"
	"github.com/capi-connector/capi-connector/processor/metrics"
	"github.com/capi-connector/capi-connector/processor/stream"
)

// ConfigError marks errors caused by the configuration (a file that cannot be read, a decoder that cannot be
// built, connection settings the brokers refuse): restarting without changing the configuration cannot fix them.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Service is one connector process. Create it with New, run it with Run (once).
type Service struct {
	cfg     config.Config
	log     zerolog.Logger
	reg     *prometheus.Registry // nil without metrics
	metrics *metrics.Metrics     // nil without metrics
	checks  *health.Registry     // the readiness checks /readyz serves
	auth    *kafkaauth.Auth      // SASL credentials (nil without SASL): prepared by Run, kept fresh while it runs
	opts    stream.Options
	extra   extra

	started chan struct{} // closed once the runner exists
	mu      sync.Mutex
	runner  *stream.Runner
	opsAddr string
}

// Option adjusts what the configuration does not cover: knobs for the demo, the benchmark and the tests.
type Option func(*extra)

type extra struct {
	tuning       Tuning
	kafka        []kgo.Opt
	consumer     []kgo.Opt
	observer     capi.Observer
	noMetrics    bool
	graphURL     map[string]string
	noKafkaCheck bool
}

// Tuning holds runtime timings that are not configuration keys (zero keeps the runtime's default). Tests shorten
// them so that a rebalance or a misconfigured destination plays out in seconds; the benchmark sets Workers.
type Tuning struct {
	CommitInterval     time.Duration // stream.Options.CommitInterval
	RevokeTimeout      time.Duration // stream.Options.RevokeTimeout
	MisconfiguredRetry time.Duration // stream.Options.MisconfiguredRetry
	DLQRetryBackoff    time.Duration // stream.Options.DLQRetryBackoff
	MaxThrottleBackoff time.Duration // capi.Options.MaxThrottleBackoff, every destination
	Workers            int           // stream.Options.Workers
	HealthInterval     time.Duration // stream.Options.HealthInterval
	DLQStallTimeout    time.Duration // stream.Options.DLQStallTimeout
}

// WithTuning sets runtime timings the configuration does not expose.
func WithTuning(t Tuning) Option { return func(e *extra) { e.tuning = t } }

// WithKafkaOpts adds franz-go options to every Kafka client of the runtime (e.g. a shorter FetchMaxWait).
func WithKafkaOpts(opts ...kgo.Opt) Option {
	return func(e *extra) { e.kafka = append(e.kafka, opts...) }
}

// WithConsumerOpts adds franz-go options to the consumer only (e.g. hooks that observe fetches).
func WithConsumerOpts(opts ...kgo.Opt) Option {
	return func(e *extra) { e.consumer = append(e.consumer, opts...) }
}

// WithObserver sends every destination's Graph requests to o instead of the metrics.
func WithObserver(o capi.Observer) Option { return func(e *extra) { e.observer = o } }

// WithoutMetrics leaves out the Prometheus registry, the Kafka client metrics and the operations server (the
// benchmark measures the pipeline as it did before the service existed).
func WithoutMetrics() Option { return func(e *extra) { e.noMetrics = true } }

// WithGraphURL sends the named destination's requests to url instead of graph.url (a second simulator in tests).
func WithGraphURL(destination, url string) Option {
	return func(e *extra) {
		if e.graphURL == nil {
			e.graphURL = map[string]string{}
		}
		e.graphURL[destination] = url
	}
}

// WithoutKafkaCheck skips the connection check of Run (the benchmark's broker is known to be there).
func WithoutKafkaCheck() Option { return func(e *extra) { e.noKafkaCheck = true } }

// New builds the connector for cfg: decoders, pipeline, Graph clients and runtime options. It connects to
// nothing; configuration problems are returned as *ConfigError.
func New(cfg config.Config, log zerolog.Logger, options ...Option) (*Service, error) {
	s := &Service{cfg: cfg, log: log, checks: health.New(), started: make(chan struct{})}
	for _, o := range options {
		o(&s.extra)
	}
	p, err := BuildPipeline(cfg)
	if err != nil {
		return nil, err
	}
	var obs capi.Observer
	if !s.extra.noMetrics {
		s.reg = prometheus.NewRegistry()
		s.metrics = metrics.New(s.reg)
		s.metrics.WatchHealth(s.checks)
		s.metrics.WatchDropped(p)
		obs = s.metrics
	}
	if s.extra.observer != nil {
		obs = s.extra.observer
	}
	kopts, auth, err := kafkaConn(context.Background(), cfg.Kafka, log)
	if err != nil {
		return nil, &ConfigError{err}
	}
	s.auth = auth
	s.opts = streamOptionsWith(cfg, kopts, p, log, obs)
	s.opts.Health = s.checks
	s.opts.Credentials = auth
	s.applyExtra()
	return s, nil
}

func (s *Service) applyExtra() {
	x, o := s.extra, &s.opts
	o.Kafka = append(o.Kafka, x.kafka...)
	o.ConsumerOpts = append(o.ConsumerOpts, x.consumer...)
	if s.metrics != nil {
		o.ConsumerOpts = append(o.ConsumerOpts, s.metrics.KafkaHooks()...)
	}
	t := x.tuning
	o.CommitInterval = orDefault(t.CommitInterval, o.CommitInterval)
	o.RevokeTimeout = orDefault(t.RevokeTimeout, o.RevokeTimeout)
	o.MisconfiguredRetry = orDefault(t.MisconfiguredRetry, o.MisconfiguredRetry)
	o.DLQRetryBackoff = orDefault(t.DLQRetryBackoff, o.DLQRetryBackoff)
	o.HealthInterval = orDefault(t.HealthInterval, o.HealthInterval)
	o.DLQStallTimeout = orDefault(t.DLQStallTimeout, o.DLQStallTimeout)
	if t.Workers > 0 {
		o.Workers = t.Workers
	}
	for i := range o.Destinations {
		d := &o.Destinations[i]
		d.Client.MaxThrottleBackoff = orDefault(t.MaxThrottleBackoff, d.Client.MaxThrottleBackoff)
		if u, ok := x.graphURL[d.Graph.Name]; ok {
			d.Graph.BaseURL = u
		}
	}
}

func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// Run serves /metrics, /healthz and /readyz on metrics_addr, checks the Kafka connection settings, creates the
// runtime and consumes until ctx ends; then it drains (stream.Runner.Run). It returns nil after a clean drain.
//
// The ops endpoints listen as soon as the configuration is valid, before Kafka answers: a liveness probe must not
// restart the pod in a loop during a Kafka outage, and /readyz says why the service is not ready.
func (s *Service) Run(ctx context.Context) error {
	if s.cfg.MetricsAddr != "" && s.reg != nil {
		stop, addr, err := serveOps(s.cfg.MetricsAddr, s.reg, s.checks)
		if err != nil {
			return fmt.Errorf("metrics_addr: %w", err)
		}
		defer stop()
		s.mu.Lock()
		s.opsAddr = addr
		s.mu.Unlock()
		s.log.Info().Str("addr", addr).Msg("serving /metrics, /healthz, /readyz")
	}
	if !s.extra.noKafkaCheck {
		if err := CheckKafka(ctx, s.opts.Kafka, s.cfg.Kafka, s.auth, s.log, s.checks); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil // stopped while waiting for the brokers: nothing was consumed, nothing to drain
		}
	}
	authCtx, stopAuth := context.WithCancel(ctx)
	defer stopAuth()
	go s.auth.Run(authCtx) // keeps the OAuth token fresh; a no-op for other mechanisms
	r, err := stream.New(s.opts)
	if err != nil {
		return err
	}
	if s.metrics != nil {
		s.metrics.Watch(r, s.cfg.Kafka.Topics, s.cfg.Kafka.Group)
	}
	s.log.Info().Strs("topics", s.cfg.Kafka.Topics).Str("group", s.cfg.Kafka.Group).Int("destinations", len(s.cfg.Destinations)).Msg("starting")
	s.mu.Lock()
	s.runner = r
	s.mu.Unlock()
	close(s.started)
	err = r.Run(ctx)
	s.log.Info().Err(err).Msg("stopped")
	return err
}

// RunLogged is run with a JSON log: it logs the configuration's warnings and problems (config.Inspect) as entries,
// refuses to start on problems or a pipeline that cannot be built (Validate), else builds the service and runs it.
func RunLogged(ctx context.Context, cfg config.Config, problems, warnings []config.Problem, log zerolog.Logger) error {
	for _, p := range warnings {
		log.Warn().Str("key", p.Key).Msg("configuration warning: " + p.String())
	}
	for _, p := range problems {
		log.Error().Str("key", p.Key).Msg("configuration problem: " + p.String())
	}
	if err := Validate(cfg, problems, warnings); err != nil {
		return err
	}
	svc, err := New(cfg, log)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}

// Started is closed once Run created the runtime (after the Kafka check); Runner, Stats and Ready are
// meaningful from then on.
func (s *Service) Started() <-chan struct{} { return s.started }

// Runner is the Kafka runtime, nil before Started.
func (s *Service) Runner() *stream.Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runner
}

// Stats returns the runtime's live counters, nil before Started.
func (s *Service) Stats() *stream.Stats {
	if r := s.Runner(); r != nil {
		return r.Stats()
	}
	return nil
}

// Ready reports readiness as /readyz does: false before Started.
func (s *Service) Ready() bool {
	r := s.Runner()
	return r != nil && r.Ready()
}

// Health is the registry of readiness checks /readyz serves (group_joined, brokers_reachable, source_topics,
// dlq_writable, destination:<name>).
func (s *Service) Health() *health.Registry { return s.checks }

// OpsAddr is the address the operations server listens on ("" when not serving).
func (s *Service) OpsAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opsAddr
}

// Committed reports whether the committed offsets of topic reached end on every partition of end.
func (s *Service) Committed(topic string, end map[int32]int64) bool {
	st := s.Stats()
	if st == nil {
		return false
	}
	c := st.Committed()
	for p, off := range end {
		if c[stream.TopicPartition{Topic: topic, Partition: p}] != off {
			return false
		}
	}
	return true
}

// ErrStoppedEarly: the service stopped before the awaited offsets were committed.
var ErrStoppedEarly = errors.New("stopped before every record was committed")

// RunUntilCommitted runs the service until the committed offsets of topic reach end (then drains and stops it)
// or ctx ends. tick, when set, is called every interval while it waits (progress lines).
func (s *Service) RunUntilCommitted(ctx context.Context, topic string, end map[int32]int64, interval time.Duration, tick func()) error {
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(runCtx) }()
	select {
	case <-s.started:
	case err := <-errc:
		return err
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if tick != nil {
				tick()
			}
			if s.Committed(topic, end) {
				stop()
				return <-errc
			}
		case err := <-errc:
			if err == nil {
				err = ErrStoppedEarly
			}
			return err
		}
	}
}
