package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/capi-connector/capi-connector/processor/service"
)

// cmdDemo runs the whole product in one process with no setup: an in-process Kafka cluster (kfake), the Graph
// API simulator over real HTTP, a few thousand realistic events (consented or not, with and without personal
// data, one poisoned, one too old, one not JSON), the real pipeline, and a summary. It exits 0 only when every
// event was delivered or dead-lettered and committed offsets equal end offsets.
func cmdDemo(fs *flag.FlagSet) action {
	events := fs.Int("events", 5000, "number of sample events")
	partitions := fs.Int("partitions", 6, "partitions of the source topic")
	seed := fs.Uint64("seed", 1, "sample generator seed")
	latency := fs.Duration("latency", 20*time.Millisecond, "simulated Graph API latency per request")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	verbose := fs.Bool("verbose", false, "show the service's logs (JSON, info level)")
	metricsAddr := fs.String("metrics-addr", "", "serve /metrics, /healthz, /readyz on this address while the demo runs")
	return func(ctx context.Context, _ []string, _ io.Reader, stdout, stderr io.Writer) error {
		if *events < 10 || *partitions < 1 {
			return usagef("--events must be ≥ 10 and --partitions ≥ 1")
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()

		demo, err := service.NewDemo(ctx, service.DemoOptions{Events: *events, Partitions: *partitions, Seed: *seed,
			Latency: *latency, MetricsAddr: *metricsAddr})
		if err != nil {
			return err
		}
		defer demo.Close()
		fmt.Fprintf(stdout, "capi-connector demo: embedded Kafka %s, Graph API simulator %s\n", strings.Join(demo.Brokers, ","), demo.SimURL)
		fmt.Fprintf(stdout, "produced %d events to %q (%d partitions), by what should become of them: %s\n", *events, demo.Topic, *partitions, service.KindSummary(demo.Produced.Kinds))

		log := service.VerboseLogger(stderr, *verbose, "info")
		if err := demo.Run(ctx, log, stdout, stderr); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "demo OK: every event delivered or dead-lettered, committed offsets = end offsets")
		return nil
	}
}
