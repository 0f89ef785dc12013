// Package benchmark is the harness of the `bench` command. It is not a Go test package: it times with the
// monotonic clock and links no package testing. It measures the connector against ceilings measured in the same
// run, on the same machine, with the same generated events (schema/sample: ~700-byte Commanders Act purchases and
// page views, mixed consent and personal data), so the figures are ratios that survive noisy machines (issue 7):
//
//  1. consume ceiling: a bare franz-go group consumer that polls and commits the records and does nothing else;
//  2. end to end: the connector, as `run` wires it, against a zero-latency Graph simulator, from the first fetch
//     to the last commit, every record accounted for (delivered + dead-lettered = produced); its ratio to (1);
//  3. transform only: processor.Pipeline.Process on one goroutine, ns and allocations per event;
//  4. latency-bound delivery: simulator latency per request, K requests in flight; steady-state throughput
//     against the bound K × batch / latency;
//  5. backlog: a large topic already full, simulator latency 50 ms; peak RSS and heap of this process (the
//     broker and the simulator run elsewhere, see Env) and the throughput of the first half against the second.
package benchmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/processor/stream"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// Sizes scale every part.
type Sizes struct {
	Name            string
	Events          int // records of parts 1 and 2
	Partitions      int
	TransformEvents int           // distinct events of part 3 (processed in several passes)
	TransformFor    time.Duration // how long part 3 runs at least
	LatencyKs       []int
	LatencyBatch    int
	LatencyDelay    time.Duration
	LatencyRounds   int // steady-state rounds of K requests measured (one more before and after is excluded)
	BacklogEvents   int
	BacklogLatency  time.Duration
}

// Full is the benchmark of issue 7.
func Full() Sizes {
	return Sizes{Name: "full", Events: 300_000, Partitions: 6, TransformEvents: 20_000, TransformFor: 3 * time.Second,
		LatencyKs: []int{1, 4, 16}, LatencyBatch: 1000, LatencyDelay: 200 * time.Millisecond, LatencyRounds: 8,
		BacklogEvents: 2_000_000, BacklogLatency: 50 * time.Millisecond}
}

// Quick runs every part smaller (under a minute in all).
func Quick() Sizes {
	return Sizes{Name: "quick", Events: 50_000, Partitions: 6, TransformEvents: 5_000, TransformFor: time.Second,
		LatencyKs: []int{1, 4, 16}, LatencyBatch: 1000, LatencyDelay: 200 * time.Millisecond, LatencyRounds: 3,
		BacklogEvents: 200_000, BacklogLatency: 50 * time.Millisecond}
}

// Tiny is for the smoke test: every part runs, in a few seconds, with figures that mean little.
func Tiny() Sizes {
	return Sizes{Name: "tiny", Events: 3000, Partitions: 3, TransformEvents: 300, TransformFor: 100 * time.Millisecond,
		LatencyKs: []int{1, 4, 16}, LatencyBatch: 20, LatencyDelay: 40 * time.Millisecond, LatencyRounds: 2,
		BacklogEvents: 4000, BacklogLatency: 10 * time.Millisecond}
}

// Result holds every figure. The JSON keys named in issue 7 are always present.
type Result struct {
	Sizes  string `json:"sizes"`
	Broker string `json:"broker"` // "kfake (separate process)", "kfake (in process)" or the bootstrap address

	Events             int     `json:"events"`
	ConsumeCeilingRPS  float64 `json:"consume_ceiling_rps"`
	E2ERPS             float64 `json:"e2e_rps"`
	E2ERatio           float64 `json:"e2e_ratio"`
	E2EDelivered       int64   `json:"e2e_delivered"`
	E2EDeadLettered    int64   `json:"e2e_dead_lettered"`
	E2EAccountedFor    bool    `json:"e2e_accounted_for"` // delivered + dead-lettered = produced, simulator and DLQ agree
	E2ESimulatorEvents int64   `json:"e2e_simulator_events"`
	E2EDLQRecords      int64   `json:"e2e_dlq_records"`
	E2EDuplicates      int64   `json:"e2e_duplicates"`
	// Where the cores went, in CPU microseconds per record: this process (the bare consumer of part 1, the
	// connector of part 2) and the environment's process (kfake and the simulator; only the simulator with an
	// external broker, whose own CPU is not counted; absent when they run in this process). On a machine with
	// few cores the environment's share caps the end-to-end rate.
	// E2ETailMillis is the part of the end-to-end time after the last record was consumed: the last partial batch
	// waiting out its linger (destinations' batch.linger, 250ms by default), its request, and the final commit.
	E2ETailMillis          float64 `json:"e2e_tail_ms"`
	CeilingCPUPerRecord    float64 `json:"consume_ceiling_cpu_us_per_record"`
	CeilingEnvCPUPerRecord float64 `json:"consume_ceiling_env_cpu_us_per_record,omitempty"`
	E2ECPUPerRecord        float64 `json:"e2e_cpu_us_per_record"`
	E2EEnvCPUPerRecord     float64 `json:"e2e_env_cpu_us_per_record,omitempty"`
	TransformNsPerEvent    float64 `json:"transform_ns_per_event"`
	TransformAllocs        float64 `json:"transform_allocs_per_event"`
	TransformBytes         float64 `json:"transform_bytes_per_event"`

	LatencyRatioK1  float64         `json:"latency_bound_ratio_k1"`
	LatencyRatioK4  float64         `json:"latency_bound_ratio_k4"`
	LatencyRatioK16 float64         `json:"latency_bound_ratio_k16"`
	Latency         []LatencyResult `json:"latency_bound"`

	BacklogEvents        int64   `json:"backlog_events"`
	BacklogPeakRSS       int64   `json:"backlog_peak_rss_bytes"`
	BacklogPeakHeap      int64   `json:"backlog_peak_heap_bytes"`
	BacklogRSSFirstHalf  int64   `json:"backlog_peak_rss_first_half_bytes"`
	BacklogRSSSecondHalf int64   `json:"backlog_peak_rss_second_half_bytes"`
	BacklogRPS           float64 `json:"backlog_rps"`
	BacklogRPSFirstHalf  float64 `json:"backlog_rps_first_half"`
	BacklogRPSSecondHalf float64 `json:"backlog_rps_second_half"`
	BacklogAccountedFor  bool    `json:"backlog_accounted_for"`
	BacklogHWMReset      bool    `json:"backlog_hwm_reset"` // the kernel peak was reset before the part (else sampled)

	GoMaxProcs int `json:"gomaxprocs"`
	// ExternalBroker is set when the broker is not kfake (--brokers): the environment CPU figures leave it out.
	ExternalBroker bool `json:"external_broker"`
	// Parts are the parts that ran (see PartNames); the figures of the others are zero.
	Parts []string `json:"parts"`
}

// LatencyResult is part 4 for one K.
type LatencyResult struct {
	K        int     `json:"k"`
	Bound    float64 `json:"bound_eps"`
	Measured float64 `json:"measured_eps"`
	Ratio    float64 `json:"ratio"`
	// EventsPerRequest and RequestMillis (HTTP round trip, the simulator's latency included) explain a low ratio:
	// partial batches, or time spent outside the simulated latency.
	EventsPerRequest float64 `json:"events_per_request"`
	RequestMillis    float64 `json:"request_ms"`
}

// Runner runs the parts against one Env.
type Runner struct {
	Env   Env
	Sizes Sizes
	// Logger receives the connector's logs (zerolog.Nop() for none).
	Logger zerolog.Logger
	Broker string // label for the report
	// ExternalBroker says the brokers are not the environment's kfake (see Result.ExternalBroker).
	ExternalBroker bool
	Progress       io.Writer // one line per step; nil for none
	// Parts selects parts by name ("e2e" covers 1 and 2, "transform", "latency", "backlog"); empty runs all.
	Parts []string
	// Workers, when > 0, sets the runtime's transform workers (A/B comparisons; default GOMAXPROCS).
	Workers int
	// Trace logs the end-to-end progress every 100ms.
	Trace bool
	// HeapProfile, when set, receives a heap profile taken when half of the backlog is done.
	HeapProfile io.Writer

	seq atomic.Int64
	id  string
}

const (
	pixelID = "1234567890123"
	seed    = 7
)

// Run runs every part in order and returns the figures. A part that cannot account for every record fails
// the run: a fast connector that loses events measures nothing.
func (b *Runner) Run(ctx context.Context) (Result, error) {
	b.id = fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	res := Result{Sizes: b.Sizes.Name, Broker: b.Broker, Events: b.Sizes.Events, GoMaxProcs: runtime.GOMAXPROCS(0),
		ExternalBroker: b.ExternalBroker}
	for _, p := range []struct {
		name string
		run  func(context.Context, *Result) error
	}{{"e2e", b.consumeAndE2E}, {"transform", b.transform}, {"latency", b.latencyBound}, {"backlog", b.backlog}} {
		if len(b.Parts) > 0 && !slices.Contains(b.Parts, p.name) {
			continue
		}
		if err := p.run(ctx, &res); err != nil {
			return res, err
		}
		res.Parts = append(res.Parts, p.name)
	}
	return res, nil
}

// PartNames are the names Runner.Parts accepts.
var PartNames = []string{"e2e", "transform", "latency", "backlog"}

func (b *Runner) logf(format string, args ...any) {
	if b.Progress != nil {
		fmt.Fprintf(b.Progress, "bench: "+format+"\n", args...)
	}
}

func (b *Runner) topic(part string) string {
	return fmt.Sprintf("bench-%s-%s-%d", part, b.id, b.seq.Add(1))
}

func (b *Runner) fill(ctx context.Context, topic string, n int, deliverableOnly bool) (Response, error) {
	start := time.Now()
	resp, err := b.Env.Do(ctx, Request{Op: "fill", Topic: topic, Partitions: b.Sizes.Partitions, Events: n, Seed: seed,
		DeliverableOnly: deliverableOnly})
	if err != nil {
		return resp, err
	}
	b.logf("produced %d records (%.0f bytes each on average) to %s in %.1fs", n, float64(resp.Bytes)/float64(max(n, 1)),
		topic, time.Since(start).Seconds())
	return resp, nil
}

// config is the production configuration (config.Default) pointed at the Env.
func (b *Runner) config(topic string) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers = b.Env.Brokers()
	cfg.Kafka.Topics = []string{topic}
	cfg.Kafka.DLQTopic = topic + ".dlq"
	cfg.Kafka.Group = topic + "-connector"
	cfg.Kafka.ClientID = "capi-connector-bench"
	cfg.Graph.URL = b.Env.SimURL()
	cfg.MetricsAddr = ""
	cfg.ShutdownTimeout = 30 * time.Second
	d := config.DefaultDestination()
	d.Name, d.PixelID, d.AccessToken = "bench", pixelID, "bench-access-token"
	d.ConsentCategory, d.DefaultPhoneRegion = sample.ConsentCategory, "FR"
	cfg.Destinations = []config.Destination{d}
	return cfg
}

// firstFetch records when the first records arrived from the broker.
type firstFetch struct{ at atomic.Int64 }

func (f *firstFetch) OnFetchBatchRead(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.FetchBatchMetrics) {
	if m.NumRecords > 0 {
		f.at.CompareAndSwap(0, time.Now().UnixNano())
	}
}

func (f *firstFetch) time() time.Time { return time.Unix(0, f.at.Load()) }

// consumeCeiling is part 1: poll, count, commit (the same 1s commit interval as the connector's default), and a
// final synchronous commit once every record was polled.
func (b *Runner) consumeCeiling(ctx context.Context, topic string, cfg config.Config, end map[int32]int64) (float64, error) {
	var total int64
	for _, o := range end {
		total += o
	}
	ff := &firstFetch{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Env.Brokers()...), kgo.ConsumerGroup(topic+"-ceiling"), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(int32(min(cfg.Kafka.FetchMaxBytes, 1<<30))),
		kgo.AutoCommitInterval(time.Second), kgo.WithHooks(ff))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var n int64
	for n < total {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("consume ceiling: %d of %d records: %w", n, total, err)
		}
		n += int64(fs.NumRecords())
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		return 0, fmt.Errorf("consume ceiling: commit: %w", err)
	}
	return float64(n) / time.Since(ff.time()).Seconds(), nil
}

// connector is one service started in the background.
type connector struct {
	r      *stream.Runner
	ff     *firstFetch
	cancel context.CancelFunc
	done   chan error
}

// start starts the connector for cfg as `run` wires it (processor/service), without the metrics and the Kafka
// check, as the figures were always taken; extra adds service options (an observer of Graph requests).
func (b *Runner) start(cfg config.Config, extra ...service.Option) (*connector, error) {
	ff := &firstFetch{}
	opts := append([]service.Option{service.WithoutMetrics(), service.WithoutKafkaCheck(),
		service.WithConsumerOpts(kgo.WithHooks(ff)), service.WithTuning(service.Tuning{Workers: b.Workers})}, extra...)
	svc, err := service.New(cfg, b.Logger, opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &connector{ff: ff, cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- svc.Run(ctx) }()
	select {
	case <-svc.Started():
		c.r = svc.Runner()
	case err := <-c.done:
		cancel()
		return nil, err
	}
	return c, nil
}

// waitCommitted polls until the committed offsets equal end (the time returned is when that was seen, within
// 2ms of the commit's acknowledgment). tick, when set, is called at every poll.
func (c *connector) waitCommitted(ctx context.Context, topic string, end map[int32]int64, tick func()) (time.Time, error) {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		committed := c.r.Stats().Committed()
		ok := true
		for p, off := range end {
			if committed[stream.TopicPartition{Topic: topic, Partition: p}] != off {
				ok = false
				break
			}
		}
		if ok {
			return time.Now(), nil
		}
		if tick != nil {
			tick()
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("waiting for commits (%d in flight, %d consumed): %w", c.r.InFlight(), c.r.Stats().Consumed.Load(), ctx.Err())
		case err := <-c.done:
			c.done <- err
			return time.Time{}, fmt.Errorf("the connector stopped early: %v", err)
		case <-t.C:
		}
	}
}

func (c *connector) stop() error {
	c.cancel()
	return <-c.done
}

// outcomes sums delivered and dead-lettered events.
func outcomes(s *stream.Stats) (delivered, rejected int64) {
	for _, n := range s.Delivered() {
		delivered += n
	}
	for _, n := range s.Rejected() {
		rejected += n
	}
	return delivered, rejected
}

// account checks that every produced record ended delivered (the simulator agrees) or dead-lettered (the DLQ
// topic agrees), and returns the figures.
func (b *Runner) account(ctx context.Context, c *connector, dlqTopic string, produced int64) (acc accounting, err error) {
	acc.delivered, acc.rejected = outcomes(c.r.Stats())
	resp, err := b.Env.Do(ctx, Request{Op: "stats"})
	if err != nil {
		return acc, err
	}
	acc.simEvents, acc.duplicates = resp.Stats.AcceptedEvents, resp.Stats.DuplicateEvents
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Env.Brokers()...))
	if err != nil {
		return acc, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, dlqTopic)
	if err != nil {
		return acc, err
	}
	ends.Each(func(o kadm.ListedOffset) { acc.dlqRecords += o.Offset })
	acc.ok = acc.delivered+acc.rejected == produced && acc.simEvents-acc.duplicates == acc.delivered && acc.dlqRecords == acc.rejected
	if !acc.ok {
		return acc, fmt.Errorf("%w: produced %d, delivered %d (simulator accepted %d, %d duplicates), dead-lettered %d (DLQ topic holds %d)",
			ErrUnaccounted, produced, acc.delivered, acc.simEvents, acc.duplicates, acc.rejected, acc.dlqRecords)
	}
	return acc, nil
}

// ErrUnaccounted fails a run whose records are not all delivered or dead-lettered.
var ErrUnaccounted = errors.New("bench: records unaccounted for")

type accounting struct {
	delivered, rejected, simEvents, duplicates, dlqRecords int64
	ok                                                     bool
}

// consumeAndE2E is parts 1 and 2 on the same topic.
func (b *Runner) consumeAndE2E(ctx context.Context, res *Result) error {
	topic := b.topic("e2e")
	filled, err := b.fill(ctx, topic, b.Sizes.Events, false)
	if err != nil {
		return err
	}
	cfg := b.config(topic)
	produced := filled.Records
	perRecord := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(produced) }
	cpu := startCPU(ctx, b.Env)
	rps, err := b.consumeCeiling(ctx, topic, cfg, filled.End)
	if err != nil {
		return err
	}
	self, env, envOK := cpu.stop(ctx)
	res.ConsumeCeilingRPS, res.CeilingCPUPerRecord = rps, perRecord(self)
	if envOK {
		res.CeilingEnvCPUPerRecord = perRecord(env)
	}
	b.logf("consume ceiling: %.0f records/s; CPU per record: consumer %.2f µs, environment process %.2f µs", rps, res.CeilingCPUPerRecord,
		res.CeilingEnvCPUPerRecord)

	if err := b.setSim(ctx, 0); err != nil {
		return err
	}
	runtime.GC()
	cpu = startCPU(ctx, b.Env)
	c, err := b.start(cfg)
	if err != nil {
		return err
	}
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var lastTrace, allConsumed time.Time
	doneAt, err := c.waitCommitted(ctx2, topic, filled.End, func() {
		if allConsumed.IsZero() && c.r.Stats().Consumed.Load() >= produced {
			allConsumed = time.Now()
		}
		if b.Trace && time.Since(lastTrace) > 100*time.Millisecond {
			lastTrace = time.Now()
			d, r := outcomes(c.r.Stats())
			b.logf("  t=%4dms consumed %6d delivered %6d rejected %6d in flight %6d batches %d", time.Since(c.ff.time()).Milliseconds(),
				c.r.Stats().Consumed.Load(), d, r, c.r.InFlight(), c.r.Stats().Batches.Load())
		}
	})
	if err != nil {
		_ = c.stop()
		return fmt.Errorf("end to end: %w", err)
	}
	elapsed := doneAt.Sub(c.ff.time())
	if !allConsumed.IsZero() {
		res.E2ETailMillis = float64(doneAt.Sub(allConsumed).Microseconds()) / 1000
	}
	self, env, envOK = cpu.stop(ctx)
	res.E2ECPUPerRecord = perRecord(self)
	if envOK {
		res.E2EEnvCPUPerRecord = perRecord(env)
	}
	if err := c.stop(); err != nil {
		return fmt.Errorf("end to end: %w", err)
	}
	acc, err := b.account(ctx, c, cfg.Kafka.DLQTopic, produced)
	res.E2EDelivered, res.E2EDeadLettered, res.E2ESimulatorEvents, res.E2EDLQRecords, res.E2EDuplicates, res.E2EAccountedFor =
		acc.delivered, acc.rejected, acc.simEvents, acc.dlqRecords, acc.duplicates, acc.ok
	if err != nil {
		return fmt.Errorf("end to end: %w", err)
	}
	res.E2ERPS = float64(produced) / elapsed.Seconds()
	res.E2ERatio = res.E2ERPS / res.ConsumeCeilingRPS
	b.logf("end to end: %.0f records/s (%.2f of the ceiling), %d delivered, %d dead-lettered, %.0f ms after the last record was consumed; CPU per record: connector %.2f µs, environment process %.2f µs",
		res.E2ERPS, res.E2ERatio, acc.delivered, acc.rejected, res.E2ETailMillis, res.E2ECPUPerRecord, res.E2EEnvCPUPerRecord)
	return nil
}

func (b *Runner) setSim(ctx context.Context, latency time.Duration) error {
	if _, err := b.Env.Do(ctx, Request{Op: "reset"}); err != nil {
		return err
	}
	_, err := b.Env.Do(ctx, Request{Op: "latency", Latency: latency})
	return err
}

// transform is part 3: the pipeline alone, on one goroutine.
func (b *Runner) transform(_ context.Context, res *Result) error {
	p, err := service.BuildPipeline(b.config("transform"))
	if err != nil {
		return err
	}
	gen := sample.New(seed, time.Now())
	recs := make([]processor.Record, b.Sizes.TransformEvents)
	now := time.Now()
	for i := range recs {
		recs[i] = processor.Record{Value: gen.Next().Value, Timestamp: now}
	}
	ctx := context.Background()
	var outs []processor.Outcome
	pass := func() error {
		for _, r := range recs {
			outs, err = p.Process(ctx, r, now, outs[:0])
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := pass(); err != nil { // warm up
		return fmt.Errorf("transform: %w", err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	n := 0
	for n == 0 || time.Since(start) < b.Sizes.TransformFor {
		if err := pass(); err != nil {
			return fmt.Errorf("transform: %w", err)
		}
		n += len(recs)
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	res.TransformNsPerEvent = float64(elapsed.Nanoseconds()) / float64(n)
	res.TransformAllocs = float64(after.Mallocs-before.Mallocs) / float64(n)
	res.TransformBytes = float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	b.logf("transform: %.0f ns/event, %.1f allocs/event, %.0f B/event", res.TransformNsPerEvent, res.TransformAllocs, res.TransformBytes)
	return nil
}

// requestLog records when every Graph request completed (capi.Observer).
type requestLog struct {
	mu   sync.Mutex
	done []completion
}

type completion struct {
	at     time.Time
	events int
	dur    time.Duration
}

func (l *requestLog) Request(_, outcome string, _, _ int, dur time.Duration, events int) {
	if outcome != "ok" {
		return
	}
	l.mu.Lock()
	l.done = append(l.done, completion{time.Now(), events, dur})
	l.mu.Unlock()
}

func (l *requestLog) Retry(string, string) {}

// steadyRate is the delivery rate between the end of the first round of k requests and the end of the
// second-to-last round: ramp-up (the first fetch, the first batches filling) and the tail are excluded.
func (l *requestLog) steadyRate(k int) (rate float64, meanEvents float64, meanDur time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := slices.Clone(l.done)
	slices.SortFunc(d, func(a, b completion) int { return a.at.Compare(b.at) })
	if len(d) < 2*k+1 {
		return 0, 0, 0, fmt.Errorf("only %d requests completed; %d needed to see a steady state", len(d), 2*k+1)
	}
	// The window runs from the end of the first round to a whole number of rounds later: between two completions
	// m×k apart each of the k slots completed exactly m requests. (Ending it at a fixed distance from the tail
	// instead undercounted whenever ramp-up fragments made the number of completions not a multiple of k.)
	first := k - 1
	last := first + k*((len(d)-k-1-first)/k)
	if last <= first {
		return 0, 0, 0, fmt.Errorf("only %d requests completed; %d needed to see a steady state", len(d), 2*k+1)
	}
	events := 0
	var total time.Duration
	for _, c := range d[first+1 : last+1] {
		events += c.events
		total += c.dur
	}
	n := last - first
	return float64(events) / d[last].at.Sub(d[first].at).Seconds(), float64(events) / float64(n), total / time.Duration(n), nil
}

// latencyBound is part 4.
func (b *Runner) latencyBound(ctx context.Context, res *Result) error {
	if err := b.setSim(ctx, b.Sizes.LatencyDelay); err != nil {
		return err
	}
	for _, k := range b.Sizes.LatencyKs {
		batch := b.Sizes.LatencyBatch
		n := k * batch * (b.Sizes.LatencyRounds + 2)
		topic := b.topic(fmt.Sprintf("latency-k%d", k))
		filled, err := b.fill(ctx, topic, n, true)
		if err != nil {
			return err
		}
		if _, err := b.Env.Do(ctx, Request{Op: "reset"}); err != nil {
			return err
		}
		cfg := b.config(topic)
		cfg.Kafka.MaxInFlightRecords = k * batch * 3
		d := &cfg.Destinations[0]
		d.Batch.MaxEvents, d.Batch.MaxInFlight, d.Batch.Linger = batch, k, 5*time.Millisecond
		log := &requestLog{}
		c, err := b.start(cfg, service.WithObserver(log))
		if err != nil {
			return err
		}
		ctx2, cancel := context.WithTimeout(ctx, 10*time.Minute)
		_, err = c.waitCommitted(ctx2, topic, filled.End, nil)
		cancel()
		if serr := c.stop(); err == nil {
			err = serr
		}
		if err != nil {
			return fmt.Errorf("latency-bound K=%d: %w", k, err)
		}
		if _, err := b.account(ctx, c, cfg.Kafka.DLQTopic, filled.Records); err != nil {
			return fmt.Errorf("latency-bound K=%d: %w", k, err)
		}
		rate, perReq, dur, err := log.steadyRate(k)
		if err != nil {
			return fmt.Errorf("latency-bound K=%d: %w", k, err)
		}
		bound := float64(k*batch) / b.Sizes.LatencyDelay.Seconds()
		lr := LatencyResult{K: k, Bound: bound, Measured: rate, Ratio: rate / bound, EventsPerRequest: perReq,
			RequestMillis: float64(dur.Microseconds()) / 1000}
		res.Latency = append(res.Latency, lr)
		switch k {
		case 1:
			res.LatencyRatioK1 = lr.Ratio
		case 4:
			res.LatencyRatioK4 = lr.Ratio
		case 16:
			res.LatencyRatioK16 = lr.Ratio
		}
		b.logf("latency-bound K=%d: %.0f events/s of a %.0f bound (%.2f); %.0f events and %.1f ms per request", k, rate, bound,
			lr.Ratio, perReq, lr.RequestMillis)
	}
	return nil
}

// backlog is part 5.
func (b *Runner) backlog(ctx context.Context, res *Result) error {
	topic := b.topic("backlog")
	filled, err := b.fill(ctx, topic, b.Sizes.BacklogEvents, false)
	if err != nil {
		return err
	}
	if err := b.setSim(ctx, b.Sizes.BacklogLatency); err != nil {
		return err
	}
	produced := filled.Records
	cfg := b.config(topic)
	// Start from a clean slate: memory the earlier parts used goes back to the OS, and the kernel's peak is reset.
	runtime.GC()
	debug.FreeOSMemory()
	res.BacklogHWMReset = resetPeakRSS()
	sampler := startMemSampler(50 * time.Millisecond)
	c, err := b.start(cfg)
	if err != nil {
		sampler.finish()
		return err
	}
	var half time.Time
	tick := func() {
		if !half.IsZero() {
			return
		}
		if d, r := outcomes(c.r.Stats()); d+r >= produced/2 {
			half = time.Now()
			if b.HeapProfile != nil {
				_ = pprof.Lookup("heap").WriteTo(b.HeapProfile, 0)
			}
		}
	}
	ctx2, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	doneAt, err := c.waitCommitted(ctx2, topic, filled.End, tick)
	hwm := procStatus("VmHWM")
	samples := sampler.finish()
	if serr := c.stop(); err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("backlog: %w", err)
	}
	acc, err := b.account(ctx, c, cfg.Kafka.DLQTopic, produced)
	res.BacklogAccountedFor = acc.ok
	if err != nil {
		return fmt.Errorf("backlog: %w", err)
	}
	start := c.ff.time()
	if half.IsZero() {
		half = doneAt
	}
	res.BacklogEvents = produced
	res.BacklogRPS = float64(produced) / doneAt.Sub(start).Seconds()
	res.BacklogRPSFirstHalf = float64(produced/2) / half.Sub(start).Seconds()
	res.BacklogRPSSecondHalf = float64(produced-produced/2) / doneAt.Sub(half).Seconds()
	res.BacklogRSSFirstHalf, _ = peaks(samples, start, half)
	res.BacklogRSSSecondHalf, _ = peaks(samples, half, doneAt.Add(time.Second))
	rss, heap := peaks(samples, time.Time{}, doneAt.Add(time.Hour))
	res.BacklogPeakRSS, res.BacklogPeakHeap = rss, heap
	if res.BacklogHWMReset {
		res.BacklogPeakRSS = max(rss, hwm)
	}
	b.logf("backlog: %d records at %.0f/s (first half %.0f/s, second half %.0f/s), peak RSS %.1f MiB, peak heap %.1f MiB",
		produced, res.BacklogRPS, res.BacklogRPSFirstHalf, res.BacklogRPSSecondHalf, mib(res.BacklogPeakRSS), mib(heap))
	return nil
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// WriteTable prints the figures and the goals of issue 7.
func (r Result) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "capi-connector bench (%s; broker: %s; GOMAXPROCS %d)\n\n", r.Sizes, r.Broker, r.GoMaxProcs)
	fmt.Fprintf(w, "%-44s %16s  %-18s %s\n", "part", "figure", "goal", "")
	row := func(name, fig, goal string, ok bool) {
		mark := "ok"
		if !ok {
			mark = "MISSED"
		}
		if goal == "" {
			mark = ""
		}
		fmt.Fprintf(w, "%-44s %16s  %-18s %s\n", name, fig, goal, mark)
	}
	ran := func(part string) bool {
		if slices.Contains(r.Parts, part) {
			return true
		}
		fmt.Fprintf(w, "%-44s %16s\n", "("+part+" not run)", "")
		return false
	}
	if ran("e2e") {
		row(fmt.Sprintf("1 consume ceiling (%d records)", r.Events), fmt.Sprintf("%.0f rec/s", r.ConsumeCeilingRPS), "", true)
		row("  CPU per record: consumer + env (*)", fmt.Sprintf("%.2f + %.2f µs", r.CeilingCPUPerRecord, r.CeilingEnvCPUPerRecord), "", true)
		row("2 end to end, zero-latency Graph", fmt.Sprintf("%.0f rec/s", r.E2ERPS), "", true)
		row("  ratio to the ceiling", fmt.Sprintf("%.2f", r.E2ERatio), "≥ 0.50", r.E2ERatio >= 0.5)
		row("  delivered + dead-lettered = produced", fmt.Sprintf("%d + %d", r.E2EDelivered, r.E2EDeadLettered), "all accounted", r.E2EAccountedFor)
		row("  CPU per record: connector + env (*)", fmt.Sprintf("%.2f + %.2f µs", r.E2ECPUPerRecord, r.E2EEnvCPUPerRecord), "", true)
		row("  of the time: after the last record came", fmt.Sprintf("%.0f ms", r.E2ETailMillis), "", true)
		if r.ExternalBroker {
			fmt.Fprintln(w, "  (*) env: the simulator's process; the external broker's CPU is not counted")
		} else {
			fmt.Fprintln(w, "  (*) env: the process of kfake and the Graph simulator")
		}
	}
	if ran("transform") {
		row("3 transform only, one goroutine", fmt.Sprintf("%.0f ns/event", r.TransformNsPerEvent), "≤ 3000 ns", r.TransformNsPerEvent <= 3000)
		row("  allocations", fmt.Sprintf("%.1f /event", r.TransformAllocs), "", true)
		row("  bytes allocated", fmt.Sprintf("%.0f B/event", r.TransformBytes), "", true)
	}
	if ran("latency") {
		for _, l := range r.Latency {
			row(fmt.Sprintf("4 latency-bound K=%d (bound %.0f ev/s)", l.K, l.Bound), fmt.Sprintf("%.0f ev/s", l.Measured), "", true)
			row("  ratio to the bound", fmt.Sprintf("%.2f", l.Ratio), "≥ 0.90", l.Ratio >= 0.9)
		}
	}
	if !ran("backlog") {
		return
	}
	row(fmt.Sprintf("5 backlog (%d records)", r.BacklogEvents), fmt.Sprintf("%.0f rec/s", r.BacklogRPS), "", true)
	row("  peak RSS", fmt.Sprintf("%.1f MiB", mib(r.BacklogPeakRSS)), "< 256 MiB", r.BacklogPeakRSS < 256<<20)
	row("  peak heap", fmt.Sprintf("%.1f MiB", mib(r.BacklogPeakHeap)), "< 256 MiB", r.BacklogPeakHeap < 256<<20)
	flat := r.BacklogRSSSecondHalf <= r.BacklogRSSFirstHalf*5/4
	row("  peak RSS first / second half", fmt.Sprintf("%.0f / %.0f MiB", mib(r.BacklogRSSFirstHalf), mib(r.BacklogRSSSecondHalf)), "flat (≤ +25%)", flat)
	steady := r.BacklogRPSSecondHalf >= r.BacklogRPSFirstHalf*0.8
	row("  rate first / second half", fmt.Sprintf("%.0f / %.0f", r.BacklogRPSFirstHalf, r.BacklogRPSSecondHalf), "steady (≥ 80%)", steady)
}

// Keys are the JSON keys issue 7 requires.
var Keys = []string{"consume_ceiling_rps", "e2e_rps", "e2e_ratio", "transform_ns_per_event", "transform_allocs_per_event",
	"latency_bound_ratio_k1", "latency_bound_ratio_k4", "latency_bound_ratio_k16", "backlog_peak_rss_bytes", "backlog_events"}
