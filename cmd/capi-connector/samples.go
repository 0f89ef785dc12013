package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/capi-connector/capi-connector/processor/service"
)

// cmdProduceSamples produces schema/sample events to the source topic, reaching Kafka with the same settings as run
// (file and/or CAPI_* environment: brokers, topic, TLS, SASL), overridable by flags. Every record is acknowledged by
// all in-sync replicas before it counts. Progress goes to stderr, the final count to stdout (also after an error
// or an interrupt, so a partial run says how far it got).
func cmdProduceSamples(fs *flag.FlagSet) action {
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
	return func(ctx context.Context, _ []string, _ io.Reader, stdout, stderr io.Writer) error {
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
		if len(cfg.Kafka.Topics) != 1 {
			return usagef("%d source topics are configured: choose one with --topic", len(cfg.Kafka.Topics))
		}
		o := service.ProduceOptions{
			Topic: cfg.Kafka.Topics[0], Events: *events, Rate: *rate, Seed: *seed,
			PoisonEvery: *poisonEvery, TooOldEvery: *tooOldEvery, InvalidEvery: *invalidEvery,
			Partitions: int32(*partitions), ProgressEvery: 2 * time.Second,
		}
		return service.ProduceSamplesTo(ctx, cfg, o, stderr, func(res service.ProduceResult) {
			fmt.Fprintf(stdout, "produced %d events to %q in %.1fs", res.Acked, o.Topic, res.Elapsed.Seconds())
			if res.Acked > 0 {
				fmt.Fprintf(stdout, ": %s", service.KindSummary(res.Kinds))
			}
			fmt.Fprintln(stdout)
		})
	}
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
