package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// The sample producer of produce-samples and demo: generated events (schema/sample) produced through any client.

// ProduceOptions configure one produce-samples run.
type ProduceOptions struct {
	Topic                                  string
	Events                                 int     // 0: until ctx ends
	Rate                                   float64 // events per second; 0: unpaced
	Seed                                   uint64
	PoisonEvery, TooOldEvery, InvalidEvery int
	DeliverableOnly                        bool          // only Deliverable events (the generator is drawn until it yields them)
	Partitions                             int32         // for EnsureTopic
	ProgressEvery                          time.Duration // 0: no progress lines
}

// ProduceResult counts what the brokers acknowledged.
type ProduceResult struct {
	Acked    int
	Kinds    map[sample.Kind]int // acknowledged records by kind
	Bytes    int64               // bytes of the acknowledged values
	End      map[int32]int64     // partition → end offset after the acknowledged records
	Poisoned []string            // event ids of the acknowledged Poisoned events (for the simulator's faults)
	Elapsed  time.Duration
}

// ErrProduceInterrupted: the run was interrupted before producing the requested number of events.
var ErrProduceInterrupted = errors.New("interrupted")

// EnsureTopic creates topic with the given partition count (replication factor: the broker's default) when it does
// not exist. An existing topic is left as it is, so producing needs no create permission then; partitions 0 never
// creates. A topic created concurrently by someone else (TopicAlreadyExists) is fine.
func EnsureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32) error {
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

// ProduceSamplesTo is produce-samples: it produces o.Events generated events to o.Topic, reaching Kafka with the
// settings of cfg as run does (only the producer's settings are checked: ProducerKeys), creating the topic when
// it is missing (EnsureTopic). Progress lines go to progress; once producing started, report gets the result, also
// after an error or an interrupt, so a partial run says how far it got.
func ProduceSamplesTo(ctx context.Context, cfg config.Config, o ProduceOptions, progress io.Writer, report func(ProduceResult)) error {
	if err := CheckKeys(cfg, ProducerKeys...); err != nil {
		return err
	}
	cl, err := NewProducer(cfg.Kafka, ToolLogger(progress, cfg.LogLevel, cfg.LogFormat), "produce-samples", o.Topic)
	if err != nil {
		return &ConfigError{Err: err}
	}
	defer cl.Close()
	if err := EnsureTopic(ctx, kadm.NewClient(cl), o.Topic, o.Partitions); err != nil {
		return err
	}
	res, err := ProduceSamples(ctx, cl, o, progress)
	report(res)
	return err
}

// ProduceSamples produces o.Events generated events (or until ctx ends when o.Events is 0) through cl, which must
// require acks from all in-sync replicas. Records are produced asynchronously; the client's buffer limit provides
// back-pressure. It returns after every produced record is acknowledged or failed: the first failure stops the run
// and is returned. Progress lines go to progress every o.ProgressEvery.
func ProduceSamples(ctx context.Context, cl *kgo.Client, o ProduceOptions, progress io.Writer) (ProduceResult, error) {
	gen := sample.New(o.Seed, time.Now())
	gen.PoisonEvery, gen.TooOldEvery, gen.InvalidEvery = o.PoisonEvery, o.TooOldEvery, o.InvalidEvery

	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		sent, acked atomic.Int64
		mu          sync.Mutex
		kinds       = map[sample.Kind]int{}
		end         = map[int32]int64{}
		bytes       int64
		poisoned    []string
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
		for o.DeliverableOnly && ev.Kind != sample.Deliverable {
			ev = gen.Next()
		}
		kind, id, size := ev.Kind, ev.EventID, int64(len(ev.Value))
		sent.Add(1)
		cl.Produce(pctx, &kgo.Record{Topic: o.Topic, Key: ev.Key, Value: ev.Value}, func(r *kgo.Record, err error) {
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
			bytes += size
			end[r.Partition] = max(end[r.Partition], r.Offset+1)
			if kind == sample.Poisoned {
				poisoned = append(poisoned, id)
			}
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
	res := ProduceResult{Acked: int(acked.Load()), Kinds: maps.Clone(kinds), Bytes: bytes, End: maps.Clone(end),
		Poisoned: slices.Clone(poisoned), Elapsed: time.Since(start)}
	switch {
	case firstErr != nil:
		return res, fmt.Errorf("producing to %q: %w", o.Topic, firstErr)
	case flushErr != nil:
		return res, fmt.Errorf("waiting for acknowledgements from %q: %w", o.Topic, flushErr)
	case ctx.Err() != nil && o.Events > 0 && res.Acked < o.Events:
		return res, fmt.Errorf("%w after %d of %d events: %w", ErrProduceInterrupted, res.Acked, o.Events, ctx.Err())
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
func reportProgress(w io.Writer, o ProduceOptions, start time.Time, sent, acked *atomic.Int64) func() {
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
