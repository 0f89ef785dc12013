package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/processor/stream"
	"github.com/capi-connector/capi-connector/schema/sample"
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
		topic, end, sim := demo.Topic, demo.Produced.End, demo.Sim
		fmt.Fprintf(stdout, "capi-connector demo: embedded Kafka %s, Graph API simulator %s\n", strings.Join(demo.Brokers, ","), demo.SimURL)
		fmt.Fprintf(stdout, "produced %d events to %q (%d partitions), by what should become of them: %s\n", *events, topic, *partitions, kindSummary(demo.Produced.Kinds))

		log := zerolog.Nop()
		if *verbose {
			log = service.NewLogger(stderr, "info", config.LogJSON)
		}
		svc, err := service.New(demo.Config, log)
		if err != nil {
			return err
		}
		start := time.Now()
		runErr := svc.RunUntilCommitted(ctx, topic, end, 500*time.Millisecond, func() { progress(stderr, svc.Runner(), *events) })
		r := svc.Runner()
		if r == nil { // stopped before consuming
			return runErr
		}
		elapsed := time.Since(start)
		fmt.Fprintln(stderr)
		printSummary(stdout, r, sim, end, topic, elapsed)
		if errors.Is(runErr, service.ErrStoppedEarly) {
			return errors.New("stopped before every event was delivered or dead-lettered")
		}
		if runErr != nil {
			return runErr
		}
		if dup := sim.Stats().DuplicateEvents; dup > 0 {
			return fmt.Errorf("the simulator received %d events twice in a clean run", dup)
		}
		fmt.Fprintln(stdout, "demo OK: every event delivered or dead-lettered, committed offsets = end offsets")
		return nil
	}
}

func kindSummary(kinds map[sample.Kind]int) string {
	var parts []string
	for k := sample.Deliverable; k <= sample.InvalidJSON; k++ {
		if kinds[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func progress(w io.Writer, r *stream.Runner, total int) {
	s := r.Stats()
	var deliv, rej int64
	for _, n := range s.Delivered() {
		deliv += n
	}
	for _, n := range s.Rejected() {
		rej += n
	}
	fmt.Fprintf(w, "\rconsumed %d/%d  delivered %d  dead-lettered %d  in flight %d   ", s.Consumed.Load(), total, deliv, rej, r.InFlight())
}

func printSummary(w io.Writer, r *stream.Runner, sim *capitest.Server, end map[int32]int64, topic string, elapsed time.Duration) {
	s := r.Stats()
	fmt.Fprintf(w, "\nsummary (%.1fs)\n", elapsed.Seconds())
	fmt.Fprintf(w, "  consumed            %d\n", s.Consumed.Load())
	for d, n := range s.Delivered() {
		fmt.Fprintf(w, "  delivered [%s]    %d\n", d, n)
	}
	rej := s.Rejected()
	keys := make([]stream.RejectKey, 0, len(rej))
	for k := range rej {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Reason < keys[j].Reason })
	star := false
	for _, k := range keys {
		dest := k.Destination
		if dest == "" {
			dest, star = "*", true
		}
		fmt.Fprintf(w, "  dead-lettered %-28s [%s] %d\n", k.Reason, dest, rej[k])
	}
	fmt.Fprintf(w, "  (the DLQ reason, then [the destination]")
	if star {
		fmt.Fprintf(w, "; [*] is every destination: the record could not be decoded, so it failed for all of them at once")
	}
	fmt.Fprintln(w, ")")
	st := sim.Stats()
	fmt.Fprintf(w, "  graph requests      %d (accepted %d, rejected %d)\n", st.Requests, st.AcceptedRequests, st.RejectedRequests)
	fmt.Fprintf(w, "  simulator accepted  %d events, %d duplicates\n", st.AcceptedEvents, st.DuplicateEvents)
	fmt.Fprintf(w, "  batches             %d (Graph requests incl. bisection %d, retries %d)\n", s.Batches.Load(), s.Requests.Load(), s.Retries.Load())
	committed := s.Committed()
	parts := make([]int32, 0, len(end))
	for p := range end {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	fmt.Fprintf(w, "  partition  committed  end\n")
	for _, p := range parts {
		fmt.Fprintf(w, "  %9d  %9d  %d\n", p, committed[stream.TopicPartition{Topic: topic, Partition: p}], end[p])
	}
}
