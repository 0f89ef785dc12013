package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
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
	close    func()
}

// NewDemo builds the demo world and produces the sample events. Close releases it.
func NewDemo(ctx context.Context, o DemoOptions) (*Demo, error) {
	const topic, dlqTopic = "events", "events.dlq"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(o.Partitions), topic), kfake.SeedTopics(1, dlqTopic))
	if err != nil {
		return nil, fmt.Errorf("embedded kafka: %w", err)
	}
	d := &Demo{Brokers: cluster.ListenAddrs(), Topic: topic, close: cluster.Close}
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

// Close stops the simulator and the cluster.
func (d *Demo) Close() { d.close() }
