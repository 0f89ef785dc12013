package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/stream"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// DemoOptions configure the self-contained demo world.
type DemoOptions struct {
	Events, Partitions int
	Seed               uint64
	Latency            time.Duration // simulated Graph API latency per request
	MetricsAddr        string        // "" serves no ops endpoints
}

// Demo is the demo's world, all in this process: a Kafka cluster (kfake) holding the produced sample events
// (consented or not, with and without personal data, one poisoned, one too old, one not JSON), the Graph API
// simulator over real HTTP told to reject the poisoned event, and a configuration pointing the connector at both.
type Demo struct {
	Brokers  []string
	Sim      *capitest.Server
	SimURL   string
	Topic    string
	Config   config.Config
	Produced ProduceResult
	events   int
	close    func()
}

// NewDemo builds the demo world and produces the sample events. Close releases it.
func NewDemo(ctx context.Context, o DemoOptions) (*Demo, error) {
	const topic, dlqTopic = "events", "events.dlq"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(o.Partitions), topic), kfake.SeedTopics(1, dlqTopic))
	if err != nil {
		return nil, fmt.Errorf("embedded kafka: %w", err)
	}
	d := &Demo{Brokers: cluster.ListenAddrs(), Topic: topic, events: o.Events, close: cluster.Close}
	if err := d.start(ctx, o, dlqTopic); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Demo) start(ctx context.Context, o DemoOptions, dlqTopic string) error {
	sim, err := capitest.New(capitest.Config{AcceptAnyPixel: true, Faults: capitest.Faults{Latency: o.Latency}, MaxRecordedEvents: -1})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	closeKafka := d.close
	d.close = func() { _ = srv.Close(); closeKafka() }
	d.Sim, d.SimURL = sim, "http://"+ln.Addr().String()

	prod, err := kgo.NewClient(kgo.SeedBrokers(d.Brokers...), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		return err
	}
	half := o.Events / 2
	d.Produced, err = ProduceSamples(ctx, prod, ProduceOptions{Topic: d.Topic, Events: o.Events, Seed: o.Seed,
		PoisonEvery: half + 1, TooOldEvery: half + 2, InvalidEvery: half + 3}, nil)
	prod.Close()
	if err != nil {
		return err
	}
	f := sim.Faults()
	f.PoisonedEventIDs = d.Produced.Poisoned
	if err := sim.SetFaults(f); err != nil {
		return err
	}

	cfg := config.Default()
	cfg.Kafka.Brokers = d.Brokers
	cfg.Kafka.Topics = []string{d.Topic}
	cfg.Kafka.DLQTopic = dlqTopic
	cfg.Kafka.Group = "capi-connector-demo"
	cfg.Graph.URL = d.SimURL
	cfg.MetricsAddr = o.MetricsAddr
	cfg.ShutdownTimeout = 15 * time.Second
	dest := config.DefaultDestination()
	dest.Name, dest.PixelID, dest.AccessToken = "demo", "1234567890123", "demo-access-token"
	dest.ConsentCategory, dest.DefaultPhoneRegion = sample.ConsentCategory, "FR"
	dest.Batch.Linger = 50 * time.Millisecond
	dest.Retry.InitialBackoff, dest.Retry.MaxBackoff = 50*time.Millisecond, time.Second
	cfg.Destinations = []config.Destination{dest}
	if err := cfg.Validate(); err != nil {
		var ve *config.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) > 0 {
			return fmt.Errorf("demo configuration: %w", err)
		}
	}
	d.Config = cfg
	return nil
}

// ServeSimulator serves the Graph API simulator on ln until ctx ends (graph-simulator). /healthz and /readyz (not
// Graph API paths) let `capi-connector healthcheck --addr … [--live]` check the simulator like the connector:
// docker compose's healthcheck has no curl in the distroless image.
func ServeSimulator(ctx context.Context, ln net.Listener, sim http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle("/", sim)
	for _, p := range []string{"/healthz", "/readyz"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		return err
	}
}

// Close stops the simulator and the cluster.
func (d *Demo) Close() { d.close() }

// Run runs the connector (New, Service.RunUntilCommitted) on the demo world until every produced event is
// committed or ctx ends, with a progress line on progress every 500 ms, then writes the summary to out and returns
// the verdict (check). A service that stopped before consuming returns its error, without a summary.
func (d *Demo) Run(ctx context.Context, log zerolog.Logger, out, progress io.Writer) error {
	svc, err := New(d.Config, log)
	if err != nil {
		return err
	}
	start := time.Now()
	runErr := svc.RunUntilCommitted(ctx, d.Topic, d.Produced.End, 500*time.Millisecond, func() { writeProgress(progress, svc.Runner(), d.events) })
	r := svc.Runner()
	if r == nil { // stopped before consuming
		return runErr
	}
	elapsed := time.Since(start)
	fmt.Fprintln(progress)
	d.writeSummary(out, r, elapsed)
	return d.check(runErr)
}

// check is the demo's verdict once the service stopped with runErr: nil only when every event was delivered or
// dead-lettered, every offset committed, and the simulator saw no event twice.
func (d *Demo) check(runErr error) error {
	if errors.Is(runErr, ErrStoppedEarly) {
		return errors.New("stopped before every event was delivered or dead-lettered")
	}
	if runErr != nil {
		return runErr
	}
	if dup := d.Sim.Stats().DuplicateEvents; dup > 0 {
		return fmt.Errorf("the simulator received %d events twice in a clean run", dup)
	}
	return nil
}

// KindSummary says how many events of each kind were produced: "deliverable 3537, no_consent 1412, …".
func KindSummary(kinds map[sample.Kind]int) string {
	var parts []string
	for k := sample.Deliverable; k <= sample.InvalidJSON; k++ {
		if kinds[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// writeProgress writes the demo's progress line (a carriage return first, for a terminal) for total events.
func writeProgress(w io.Writer, r *stream.Runner, total int) {
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

// writeSummary writes the demo's summary after r consumed the sample events: delivered, dead-lettered by reason
// and destination, Graph requests, and committed versus end offsets by partition.
func (d *Demo) writeSummary(w io.Writer, r *stream.Runner, elapsed time.Duration) {
	sim, end, topic := d.Sim, d.Produced.End, d.Topic
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
