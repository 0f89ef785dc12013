// Package stream is the Kafka side of the connector: a franz-go consumer group feeds records through the
// processor pipeline, events are batched per destination and delivered by processor/capi, rejections are
// dead-lettered, and a record's offset is committed only when every outcome of it is durable (docs/delivery.md).
//
// Guarantees:
//   - A partition's committed offset is the contiguous watermark of done records: never past unacknowledged work,
//     whatever order batches finish in, and never lower than an offset this process committed before.
//   - On revoke, in-flight work of the revoked partitions is waited for (up to RevokeTimeout), the watermark is
//     committed, and the partition is closed: acknowledgments arriving later change nothing. On loss nothing is
//     committed.
//   - While any destination's breaker is open or a destination is misconfigured, fetching is paused; memory is
//     bounded by MaxInFlightRecords whatever the backlog.
package stream

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/sony/gobreaker/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/capi"
	"github.com/capi-connector/capi-connector/processor/health"
)

// Destination is one pixel's delivery settings, in the same order as the pipeline's destinations.
type Destination struct {
	Graph  capi.Destination
	Client capi.Options
	Batch  BatchOptions
}

// Options configure a Runner. Zero values take the documented defaults.
type Options struct {
	// Kafka are the connection options shared by the consumer and the DLQ producer: seed brokers, TLS, SASL,
	// client id, logger. Group, topic and producer options are added by the runner.
	Kafka []kgo.Opt
	// ConsumerOpts are added to the consumer only (e.g. the kprom metrics hook, which can watch one client).
	ConsumerOpts []kgo.Opt
	// Topics are the source topics.
	Topics []string
	// Group is the consumer group.
	Group string
	// InstanceID enables static membership: a restarted member with the same id takes its partitions back at
	// once; a dead one keeps them unconsumed until the session timeout.
	InstanceID string
	// StartLatest makes a new group start at the end of the topics instead of the beginning (the default, so no
	// event already in the topic is skipped).
	StartLatest bool
	// SessionTimeout of the group member (kafka.session_timeout). Required.
	SessionTimeout time.Duration
	// DLQTopic receives rejected records.
	DLQTopic string
	// DLQCreate creates the DLQ topic when it is missing (as Kafka Connect does for its DLQ), with DLQPartitions
	// partitions (default: the source topics' largest partition count) and DLQReplicationFactor replicas (default:
	// the cluster's default.replication.factor). Without it, or without the CREATE ACL, a missing DLQ topic makes
	// dlq_writable fail with the reason and holds the records to dead-letter (nothing is lost, nothing passes).
	DLQCreate            bool
	DLQPartitions        int32
	DLQReplicationFactor int16
	// DLQStallTimeout is how long DLQ writes may keep failing with a retryable error before dlq_writable fails
	// (refusals — authorization, a missing topic — fail it at once). Default 30s.
	DLQStallTimeout time.Duration
	// Health receives the readiness checks (group_joined, brokers_reachable, source_topics, dlq_writable,
	// destination:<name>). Default: a registry of the runner's own (see Runner.Health).
	Health *health.Registry
	// Brokers are the seed brokers, for messages only (the connection uses Kafka).
	Brokers []string
	// Credentials, when set, reports whether new connections can authenticate (an OAuth token endpoint that
	// fails): brokers_reachable fails with its reason even while the open connections still answer, because the
	// next connection or re-authentication will not.
	Credentials CredentialsHealth
	// HealthInterval is how often brokers and topics are checked. Brokers unreachable for two checks in a row
	// fail brokers_reachable. Default 5s.
	HealthInterval time.Duration
	// LogInterval spaces repeated log lines about one persisting problem (DLQ writes failing, a missing topic,
	// brokers unreachable): one line per interval, with the number held back. Default 30s.
	LogInterval time.Duration
	// MaxInFlightRecords caps records fetched and not yet committable. It bounds memory; too low a value starves
	// batching (keep it ≥ batch size × in-flight requests × destinations). Required (kafka.max_in_flight_records).
	MaxInFlightRecords int
	// FetchMaxBytes bounds one fetch response (kafka.fetch_max_bytes). Required.
	FetchMaxBytes int32
	// FetchMaxPartitionBytes bounds each partition's share of a fetch response. franz-go keeps one response
	// fetched ahead, decompressed, while the in-flight cap holds polling back, so this (times the partitions of
	// a broker, times the compression ratio) is memory on top of the in-flight records: with franz-go's 1 MiB
	// default a 2-million-record backlog peaked at 282 MiB RSS, with 256 KiB at 208 MiB, at the same throughput.
	// Lower values cost more fetch round trips. Default 256 KiB.
	FetchMaxPartitionBytes int32
	// CommitInterval between offset commits. Shorter means fewer re-deliveries after a crash (all with the same
	// event_id) and more commit traffic. Default 1s.
	CommitInterval time.Duration
	// RevokeTimeout bounds how long a rebalance waits for in-flight work of revoked partitions. It must stay below
	// the group's rebalance timeout (60s). Default 20s.
	RevokeTimeout time.Duration
	// ShutdownTimeout bounds the graceful drain after the context is cancelled (shutdown_timeout). Required.
	ShutdownTimeout time.Duration
	// MisconfiguredRetry is how long a destination stopped by a configuration error waits before retrying.
	// Default 5m.
	MisconfiguredRetry time.Duration
	// DLQRetryBackoff is the first wait after a failed DLQ produce. Default 500ms.
	DLQRetryBackoff time.Duration
	// Workers transform fetched records in parallel (decode → consent → map → hash → validate → encode, the
	// CPU-bound part); registration with the offset tracker and dispatch stay on one goroutine, in offset order.
	// Default GOMAXPROCS; 1 transforms on the poll goroutine.
	Workers int

	Pipeline     *processor.Pipeline
	Destinations []Destination
	Logger       zerolog.Logger
	Now          func() time.Time
}

// Defaults of the runtime timings that are not configuration keys (Options documents each).
const (
	DefaultFetchMaxPartitionBytes = 256 << 10
	DefaultCommitInterval         = time.Second
	DefaultRevokeTimeout          = 20 * time.Second
	DefaultMisconfiguredRetry     = 5 * time.Minute
	DefaultDLQRetryBackoff        = 500 * time.Millisecond
	DefaultDLQStallTimeout        = 30 * time.Second
	DefaultHealthInterval         = 5 * time.Second
	DefaultLogInterval            = 30 * time.Second
)

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

func (o *Options) defaults() error {
	if len(o.Topics) == 0 || o.Group == "" || o.DLQTopic == "" {
		return errors.New("stream: topics, group and DLQ topic are required")
	}
	if o.Pipeline == nil || len(o.Destinations) != len(o.Pipeline.Destinations()) {
		return errors.New("stream: the pipeline's destinations and the delivery destinations must match")
	}
	// The values the configuration holds (config.Default is their one source) are required, not invented here.
	if o.SessionTimeout <= 0 || o.MaxInFlightRecords <= 0 || o.FetchMaxBytes <= 0 || o.ShutdownTimeout <= 0 {
		return errors.New("stream: SessionTimeout, MaxInFlightRecords, FetchMaxBytes and ShutdownTimeout must be > 0 (kafka.session_timeout, kafka.max_in_flight_records, kafka.fetch_max_bytes, shutdown_timeout)")
	}
	for i := range o.Destinations {
		if err := o.Destinations[i].Batch.validate(); err != nil {
			return fmt.Errorf("stream: destination %d: %w", i, err)
		}
	}
	// Runtime timings that are not configuration keys: zero takes the named default.
	if o.FetchMaxPartitionBytes <= 0 {
		o.FetchMaxPartitionBytes = DefaultFetchMaxPartitionBytes
	}
	setDefault(&o.CommitInterval, DefaultCommitInterval)
	setDefault(&o.RevokeTimeout, DefaultRevokeTimeout)
	setDefault(&o.MisconfiguredRetry, DefaultMisconfiguredRetry)
	setDefault(&o.DLQRetryBackoff, DefaultDLQRetryBackoff)
	if o.Now == nil {
		o.Now = time.Now
	}
	setDefault(&o.DLQStallTimeout, DefaultDLQStallTimeout)
	if o.Health == nil {
		o.Health = health.New()
	}
	setDefault(&o.HealthInterval, DefaultHealthInterval)
	setDefault(&o.LogInterval, DefaultLogInterval)
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return nil
}

// Runner consumes, transforms, delivers and commits until its context ends.
type Runner struct {
	opts  Options
	log   zerolog.Logger
	stats *Stats

	cl   *kgo.Client
	dlq  *dlqWriter
	logs *logLimiter

	readMu          sync.Mutex
	readProblemText string // the last refusal to read a source topic, and when
	readProblemAt   time.Time
	dests           []*destination
	inflight        *inflight

	partsMu sync.Mutex
	parts   map[TopicPartition]*partition

	commitMu sync.Mutex

	pauseMu      sync.Mutex
	paused       map[string]bool   // destination → reason to pause fetching
	destProblems map[string]string // cause:destination → reason, for the destination:<name> checks

	joined       atomic.Bool
	decodeWaits  atomic.Int32 // records retrying a transient decode failure (schema registry unavailable)
	shuttingDown atomic.Bool
	aborted      atomic.Bool
	abortCtx     context.Context
	abort        context.CancelFunc

	hardCtx    context.Context // cancelled when the drain deadline passes: abandons in-flight work
	hardCancel context.CancelFunc
}

// New creates the Kafka clients and the Graph clients. Nothing is fetched before Run.
func New(opts Options) (*Runner, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	r := &Runner{
		opts:     opts,
		log:      opts.Logger,
		stats:    newStats(),
		inflight: newInflight(),
		parts:    map[TopicPartition]*partition{},
		paused:   map[string]bool{},
	}
	r.hardCtx, r.hardCancel = context.WithCancel(context.Background())
	r.abortCtx, r.abort = context.WithCancel(context.Background())

	start := kgo.NewOffset().AtStart()
	if opts.StartLatest {
		start = kgo.NewOffset().AtEnd()
	}
	consumerOpts := append(append([]kgo.Opt{}, opts.Kafka...),
		kgo.ConsumerGroup(opts.Group),
		kgo.ConsumeTopics(opts.Topics...),
		// Set explicitly: franz-go's default reset policy changed across versions.
		kgo.ConsumeResetOffset(start),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.SessionTimeout(opts.SessionTimeout),
		kgo.FetchMaxBytes(opts.FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(opts.FetchMaxPartitionBytes),
		kgo.OnPartitionsAssigned(r.onAssigned),
		kgo.OnPartitionsRevoked(r.onRevoked),
		kgo.OnPartitionsLost(r.onLost),
	)
	consumerOpts = append(consumerOpts, opts.ConsumerOpts...)
	if opts.InstanceID != "" {
		consumerOpts = append(consumerOpts, kgo.InstanceID(opts.InstanceID))
	}
	cl, err := kgo.NewClient(consumerOpts...)
	if err != nil {
		return nil, fmt.Errorf("stream: consumer: %w", err)
	}
	r.cl = cl
	r.logs = newLogLimiter(opts.LogInterval)
	r.dlq = &dlqWriter{topic: opts.DLQTopic, log: r.log, logs: r.logs, ctx: r.hardCtx, backoff: opts.DLQRetryBackoff,
		stallAfter: opts.DLQStallTimeout, health: opts.Health, topicCheck: make(chan struct{}, 1),
		onError: func() { r.stats.DLQErrors.Add(1) }, onRef: func() { r.stats.DLQReferences.Add(1) },
		newClient: func(maxBytes int32) (*kgo.Client, error) {
			producerOpts := append(append([]kgo.Opt{}, opts.Kafka...),
				kgo.RequiredAcks(kgo.AllISRAcks()), // idempotent producer (franz-go's default) requires acks=all
				kgo.ProducerLinger(5*time.Millisecond),
				kgo.MaxBufferedRecords(opts.MaxInFlightRecords*len(opts.Destinations)+1000),
				kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
			)
			if maxBytes > 0 {
				// Sized from the DLQ topic's max.message.bytes: a batch (or one record) up to the topic's own limit
				// goes through; franz-go's ~1 MB default would refuse big records the topic accepts.
				producerOpts = append(producerOpts, kgo.ProducerBatchMaxBytes(maxBytes))
			}
			return kgo.NewClient(producerOpts...)
		}}
	producer, err := r.dlq.newClient(0)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("stream: DLQ producer: %w", err)
	}
	r.dlq.cl = producer

	for _, d := range opts.Destinations {
		co := d.Client
		co.Observer = countingObserver{stats: r.stats, next: co.Observer}
		name := d.Graph.Name
		user := co.OnStateChange
		co.OnStateChange = func(dest string, from, to gobreaker.State) {
			r.onBreaker(dest, from, to)
			if user != nil {
				user(dest, from, to)
			}
		}
		client, err := capi.New(d.Graph, co)
		if err != nil {
			r.close()
			return nil, fmt.Errorf("stream: destination %q: %w", name, err)
		}
		r.dests = append(r.dests, &destination{
			name: name, client: client, opts: d.Batch, dlq: r.dlq, log: r.log, stats: r.stats, now: opts.Now,
			misconfiguredRetry: opts.MisconfiguredRetry, onMisconfigured: r.onMisconfigured,
		})
		r.stats.delivered(name, 0, 0)
		opts.Health.Set(health.Destination(name), true, "")
	}
	return r, nil
}

// Health returns the readiness checks the runner keeps (Options.Health when given).
func (r *Runner) Health() *health.Registry { return r.opts.Health }

// Stats returns the live counters.
func (r *Runner) Stats() *Stats { return r.stats }

// InFlight is the number of records fetched and not yet done.
func (r *Runner) InFlight() int64 { return r.inflight.count() }

// Client is the consumer client (for lag metrics and tests).
func (r *Runner) Client() *kgo.Client { return r.cl }

// Run consumes until ctx ends, then drains within ShutdownTimeout: stops fetching, finishes in-flight batches,
// commits what is acknowledged and leaves the group. It returns nil after a clean drain and an error wrapping
// ErrDrainTimeout when work had to be abandoned (it will be consumed again, with the same event ids).
func (r *Runner) Run(ctx context.Context) error {
	for _, d := range r.dests {
		d.start(r.hardCtx)
	}
	// The first round of checks runs before fetching, so the DLQ producer is sized (and the DLQ topic created)
	// before the first record may need it; it is bounded by two health intervals.
	monitorCtx, stopMonitor := context.WithCancel(context.Background())
	monitorDone := make(chan struct{})
	failures := r.checkOnce(ctx, 0)
	go func() {
		defer close(monitorDone)
		r.monitorFrom(monitorCtx, failures)
	}()
	defer func() {
		stopMonitor()
		<-monitorDone
	}()
	commitCtx, stopCommits := context.WithCancel(context.Background())
	commitsDone := make(chan struct{})
	go func() {
		defer close(commitsDone)
		r.commitLoop(commitCtx)
	}()

	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	context.AfterFunc(r.abortCtx, stopPoll)
	r.poll(pollCtx)

	if r.aborted.Load() {
		// No drain, no commit: as if the process died. Work in flight will be consumed again.
		r.hardCancel()
		stopCommits()
		<-commitsDone
		r.shuttingDown.Store(true)
		r.opts.Health.Stopping()
		r.cl.CloseAllowingRebalance()
		r.dlq.close(nil)
		for _, d := range r.dests {
			d.stop()
			d.wait()
		}
		return ErrAborted
	}

	// Drain.
	r.log.Info().Int64("in_flight", r.inflight.count()).Dur("deadline", r.opts.ShutdownTimeout).Msg("draining")
	deadline := time.Now().Add(r.opts.ShutdownTimeout)
	for _, d := range r.dests {
		d.stop()
	}
	drained := r.waitIdle(deadline)
	r.hardCancel()
	for _, d := range r.dests {
		d.wait()
	}
	stopCommits()
	<-commitsDone
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	r.commitMu.Lock()
	r.commitLocked(cctx, r.allPartitions())
	r.commitMu.Unlock()
	cancel()
	r.shuttingDown.Store(true)
	r.opts.Health.Stopping()
	// Counted before closing: closing the consumer revokes the partitions, which releases their records.
	abandoned := r.inflight.count()
	r.close()
	if !drained {
		return &AbandonedError{Records: abandoned}
	}
	return nil
}

// ErrAborted is returned by Run after Abort.
var ErrAborted = errors.New("stream: aborted without draining or committing")

// Abort stops Run at once without draining and without committing anything more, as a crash would (the second
// signal; crash tests). Safe to call from any goroutine once Run started.
func (r *Runner) Abort() {
	r.aborted.Store(true)
	r.commitMu.Lock() // wait for a commit in progress; none starts after this
	r.commitMu.Unlock()
	r.hardCancel() // stop in-flight Graph requests and DLQ retries now, as a crash would
	r.abort()
}

// ErrDrainTimeout reports a shutdown that could not finish in-flight work: the deadline passed, or a destination
// is misconfigured and could acknowledge nothing. Run returns it wrapped in an *AbandonedError.
var ErrDrainTimeout = errors.New("stream: drain deadline passed")

// AbandonedError says how many fetched records were left uncommitted by a shutdown that could not drain; they will
// be consumed again, with the same event ids.
type AbandonedError struct{ Records int64 }

func (e *AbandonedError) Error() string {
	return fmt.Sprintf("%v: %d records abandoned (not committed; they will be consumed again)", ErrDrainTimeout, e.Records)
}

func (e *AbandonedError) Unwrap() error { return ErrDrainTimeout }

func (r *Runner) close() {
	r.cl.CloseAllowingRebalance()
	fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	r.dlq.close(fctx)
	cancel()
}

// waitIdle waits until no record is in flight, the deadline passes, or a destination is misconfigured: such a
// destination acknowledges nothing until the configuration is fixed, so its records can never become committable
// in this process and waiting for them would only delay the shutdown.
func (r *Runner) waitIdle(deadline time.Time) bool {
	for r.inflight.count() > 0 {
		if time.Now().After(deadline) || r.anyMisconfigured() {
			return false
		}
		select {
		case <-r.inflight.space:
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}

// CredentialsHealth reports whether SASL credentials can be obtained: nil, or the reason they cannot.
type CredentialsHealth interface {
	Health() error
}
