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
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/sony/gobreaker/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/capi"
	"github.com/capi-connector/capi-connector/processor/health"
)

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

// Abort stops Run at once without draining and without committing anything more, as a crash would (the second
// signal; crash tests). Safe to call from any goroutine once Run started.
func (r *Runner) Abort() {
	r.aborted.Store(true)
	r.commitMu.Lock() // wait for a commit in progress; none starts after this
	r.commitMu.Unlock()
	r.hardCancel() // stop in-flight Graph requests and DLQ retries now, as a crash would
	r.abort()
}

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
