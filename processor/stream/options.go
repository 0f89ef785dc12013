package stream

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/rs/zerolog"
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

// BatchOptions bound one Graph request and the concurrency towards one destination.
type BatchOptions struct {
	// MaxEvents per request, 1..capi.MaxBatch (Graph accepts at most 1000).
	MaxEvents int
	// MaxBytes of the request body.
	MaxBytes int
	// Linger is how long a partial batch waits for more events. Longer means fuller requests and more latency;
	// 0 sends what is there at once.
	Linger time.Duration
	// MaxInFlight requests at once for this destination, so throughput does not wait on one round trip.
	MaxInFlight int
}

// validate rejects batch settings the Graph API or the runtime cannot work with; the values come from the
// configuration (destinations[].batch), which is their one source of defaults.
func (b *BatchOptions) validate() error {
	switch {
	case b.MaxEvents <= 0 || b.MaxEvents > capi.MaxBatch:
		return fmt.Errorf("batch: MaxEvents must be in 1..%d, got %d", capi.MaxBatch, b.MaxEvents)
	case b.MaxBytes <= 0:
		return fmt.Errorf("batch: MaxBytes must be > 0, got %d", b.MaxBytes)
	case b.Linger < 0:
		return fmt.Errorf("batch: Linger must be ≥ 0, got %s", b.Linger)
	case b.MaxInFlight <= 0:
		return fmt.Errorf("batch: MaxInFlight must be > 0, got %d", b.MaxInFlight)
	}
	return nil
}

// CredentialsHealth reports whether SASL credentials can be obtained: nil, or the reason they cannot.
type CredentialsHealth interface {
	Health() error
}
