package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// cmdProduceSamples produces schema/sample events to the source topic, reaching Kafka with the same settings as run
// (file and/or CAPI_* environment: brokers, topic, TLS, SASL), overridable by flags. Every record is acknowledged by
// all in-sync replicas before it counts. Progress goes to stderr, the final count to stdout (also after an error
// or an interrupt, so a partial run says how far it got).
func cmdProduceSamples(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("produce-samples", stderr)
	cfgPath := fs.String("config", "", "configuration file (default: CAPI_* environment only); only its kafka section is used")
	brokers := fs.String("brokers", "", "comma-separated bootstrap brokers (default: kafka.brokers / CAPI_KAFKA_BROKERS)")
	topic := fs.String("topic", "", "topic to produce to (default: the configured source topic, kafka.topics / CAPI_KAFKA_TOPIC)")
	events := fs.Int("events", 10000, "number of events to produce; 0 produces until interrupted")
	rate := fs.Float64("rate", 0, "events per second; 0 produces as fast as the brokers acknowledge")
	seed := fs.Uint64("seed", 1, "generator seed: the same seed gives the same events and event_ids (Facebook deduplicates replays of them)")
	poisonEvery := fs.Int("poison-every", 0, "make every Nth event a purchase to tell the Graph simulator to reject (graph-simulator --poison); "+
		"its event_id is demo-<seed in base 36>-<N as 7 digits>, e.g. demo-1-0005000 (0 = never)")
	tooOldEvery := fs.Int("too-old-every", 0, "make every Nth event 10 days old, past Meta's window (0 = never)")
	invalidEvery := fs.Int("invalid-every", 0, "make every Nth record not JSON (0 = never)")
	partitions := fs.Int("partitions", 6, "partitions of the topic if it has to be created (replication: broker default); 0 never creates it")
	if stop, err := parseFlags(fs, args); stop {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	switch {
	case *events < 0:
		return usagef("--events must be ≥ 0, got %d", *events)
	case !(*rate >= 0) || math.IsInf(*rate, 0):
		return usagef("--rate must be a number ≥ 0, got %g", *rate)
	case *poisonEvery < 0 || *tooOldEvery < 0 || *invalidEvery < 0:
		return usagef("--poison-every, --too-old-every and --invalid-every must be ≥ 0")
	case *partitions < 0 || *partitions > 1<<20:
		return usagef("--partitions must be in 0..%d, got %d", 1<<20, *partitions)
	}

	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *brokers != "" {
		cfg.Kafka.Brokers = splitComma(*brokers)
	}
	if *topic != "" {
		cfg.Kafka.Topics = []string{strings.TrimSpace(*topic)}
	}
	if err := checkProducerConfig(cfg); err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if log.GetLevel() < zerolog.WarnLevel && cfg.LogLevel != "debug" && cfg.LogLevel != "trace" {
		// franz-go's info messages (connections, producer ids) would drown the progress lines.
		log = log.Level(zerolog.WarnLevel)
	}
	kopts, err := kafkaOpts(cfg.Kafka, log)
	if err != nil {
		return &configError{err}
	}
	cl, err := kgo.NewClient(append(kopts,
		kgo.ClientID(cfg.Kafka.ClientID+"-produce-samples"),
		kgo.DefaultProduceTopic(cfg.Kafka.Topics[0]),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	)...)
	if err != nil {
		return &configError{err}
	}
	defer cl.Close()

	o := produceOptions{
		Topic: cfg.Kafka.Topics[0], Events: *events, Rate: *rate, Seed: *seed,
		PoisonEvery: *poisonEvery, TooOldEvery: *tooOldEvery, InvalidEvery: *invalidEvery,
		Partitions: int32(*partitions), ProgressEvery: 2 * time.Second,
	}
	if err := ensureTopic(ctx, kadm.NewClient(cl), o.Topic, o.Partitions); err != nil {
		return err
	}
	res, err := produceSamples(ctx, cl, o, stderr)
	fmt.Fprintf(stdout, "produced %d events to %q in %.1fs", res.Acked, o.Topic, res.Elapsed.Seconds())
	if res.Acked > 0 {
		fmt.Fprintf(stdout, ": %s", kindSummary(res.Kinds))
	}
	fmt.Fprintln(stdout)
	return err
}

// checkProducerConfig reports the configuration problems that matter to a producer (brokers, topic, TLS, SASL);
// destinations and the rest of the service settings are not needed to produce.
func checkProducerConfig(cfg config.Config) error {
	if len(cfg.Kafka.Topics) != 1 {
		return usagef("%d source topics are configured: choose one with --topic", len(cfg.Kafka.Topics))
	}
	return checkKeys(cfg, "kafka.brokers", "kafka.topics", "kafka.tls", "kafka.sasl", "kafka.client_id")
}

func splitComma(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// produceOptions configure one produce-samples run.
type produceOptions struct {
	Topic                                  string
	Events                                 int     // 0: until ctx ends
	Rate                                   float64 // events per second; 0: unpaced
	Seed                                   uint64
	PoisonEvery, TooOldEvery, InvalidEvery int
	Partitions                             int32         // for ensureTopic
	ProgressEvery                          time.Duration // 0: no progress lines
}

// produceResult counts what the brokers acknowledged.
type produceResult struct {
	Acked   int
	Kinds   map[sample.Kind]int // acknowledged records by kind
	Elapsed time.Duration
}

// errProduceInterrupted: the run was interrupted before producing the requested number of events.
var errProduceInterrupted = errors.New("interrupted")

// ensureTopic creates topic with the given partition count (replication factor: the broker's default) when it does
// not exist. An existing topic is left as it is, so producing needs no create permission then; partitions 0 never
// creates. A topic created concurrently by someone else (TopicAlreadyExists) is fine.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32) error {
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("looking up topic %q: %w", topic, err)
	}
	if td.Has(topic) || partitions == 0 {
		return nil
	}
	_, err = adm.CreateTopic(ctx, partitions, -1, nil, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating topic %q (%d partitions): %w; create it yourself or allow this client to", topic, partitions, err)
	}
	return nil
}

// produceSamples produces o.Events generated events (or until ctx ends when o.Events is 0) through cl, which must
// require acks from all in-sync replicas. Records are produced asynchronously; the client's buffer limit provides
// back-pressure. It returns after every produced record is acknowledged or failed: the first failure stops the run
// and is returned. Progress lines go to progress every o.ProgressEvery.
func produceSamples(ctx context.Context, cl *kgo.Client, o produceOptions, progress io.Writer) (produceResult, error) {
	gen := sample.New(o.Seed, time.Now())
	gen.PoisonEvery, gen.TooOldEvery, gen.InvalidEvery = o.PoisonEvery, o.TooOldEvery, o.InvalidEvery

	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		sent, acked atomic.Int64
		mu          sync.Mutex
		kinds       = map[sample.Kind]int{}
		firstErr    error
	)
	start := time.Now()
	stopProgress := reportProgress(progress, o, start, &sent, &acked)

	for i := 0; o.Events == 0 || i < o.Events; i++ {
		if o.Rate > 0 {
			due := start.Add(time.Duration(float64(i) / o.Rate * float64(time.Second)))
			if !sleepUntil(pctx, due) {
				break
			}
		}
		if pctx.Err() != nil {
			break
		}
		ev := gen.Next()
		kind := ev.Kind
		sent.Add(1)
		cl.Produce(pctx, &kgo.Record{Topic: o.Topic, Key: ev.Key, Value: ev.Value}, func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				// Failures caused by our own stop (interrupt, or an earlier failure) are not the cause.
				if firstErr == nil && pctx.Err() == nil {
					firstErr = err
				}
				stop()
				return
			}
			acked.Add(1)
			kinds[kind]++
		})
	}
	// Flush with a context of its own: after an interrupt, records already buffered still get their answer.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	flushErr := cl.Flush(fctx)
	stopProgress()

	mu.Lock()
	defer mu.Unlock()
	// A copy: after a flush timeout, late acknowledgements may still update kinds.
	res := produceResult{Acked: int(acked.Load()), Kinds: make(map[sample.Kind]int, len(kinds)), Elapsed: time.Since(start)}
	for k, n := range kinds {
		res.Kinds[k] = n
	}
	switch {
	case firstErr != nil:
		return res, fmt.Errorf("producing to %q: %w", o.Topic, firstErr)
	case flushErr != nil:
		return res, fmt.Errorf("waiting for acknowledgements from %q: %w", o.Topic, flushErr)
	case ctx.Err() != nil && o.Events > 0 && res.Acked < o.Events:
		return res, fmt.Errorf("%w after %d of %d events: %w", errProduceInterrupted, res.Acked, o.Events, ctx.Err())
	}
	return res, nil
}

// sleepUntil waits until t; it reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// reportProgress prints a progress line every o.ProgressEvery until the returned function is called.
func reportProgress(w io.Writer, o produceOptions, start time.Time, sent, acked *atomic.Int64) func() {
	if o.ProgressEvery <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(o.ProgressEvery)
		defer tick.Stop()
		total := "∞"
		if o.Events > 0 {
			total = fmt.Sprint(o.Events)
		}
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				a := acked.Load()
				fmt.Fprintf(w, "produce-samples: %d/%s acknowledged, %d sent, %.0f events/s\n",
					a, total, sent.Load(), float64(a)/time.Since(start).Seconds())
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
