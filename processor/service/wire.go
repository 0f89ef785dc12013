package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kzerolog"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/capi"
	"github.com/capi-connector/capi-connector/processor/eligibility"
	"github.com/capi-connector/capi-connector/processor/kafkaauth"
	"github.com/capi-connector/capi-connector/processor/mapping"
	"github.com/capi-connector/capi-connector/processor/stream"
	"github.com/capi-connector/capi-connector/schema"
)

// newDecoder builds the decoder of one input format. Every decoder it returns is safe for concurrent use.
func newDecoder(k config.Kafka, format string) (processor.Decoder, error) {
	switch format {
	case "", config.FormatJSON:
		return schema.NewJSONDecoder().Contextual(), nil
	case config.FormatAvroSchema:
		text, err := os.ReadFile(k.SchemaFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.schema_file: %w", err)
		}
		return schema.NewAvroFixed(string(text), schema.Limits{})
	case config.FormatAvroConfluent:
		rc, err := registryConfig(k.SchemaRegistry)
		if err != nil {
			return nil, err
		}
		return schema.NewAvroConfluent(rc, schema.Limits{})
	}
	return nil, fmt.Errorf("unknown input format %q", format)
}

// registryConfig is the schema registry client's configuration, TLS built by the one TLS helper.
func registryConfig(r config.SchemaRegistry) (schema.RegistryConfig, error) {
	tc, err := r.TLS.ClientConfig("kafka.schema_registry.tls")
	if err != nil {
		return schema.RegistryConfig{}, err
	}
	return schema.RegistryConfig{URL: r.URL, Username: r.Username, Password: r.Password.Reveal(), TLS: tc}, nil
}

// topicDecoders builds the default decoder (kafka.input_format) and one per kafka.input_formats entry, each format
// at most once: topics sharing a format share its decoder, so all avro-confluent topics use one registry client
// and one schema cache (a schema id is fetched once for the process, not once per topic).
func topicDecoders(k config.Kafka) (def processor.Decoder, byTopic map[string]processor.Decoder, err error) {
	built := map[string]processor.Decoder{}
	get := func(key, format string) (processor.Decoder, error) {
		if d, ok := built[format]; ok {
			return d, nil
		}
		d, err := newDecoder(k, format)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		built[format] = d
		return d, nil
	}
	if def, err = get("kafka.input_format", k.InputFormat); err != nil {
		return nil, nil, err
	}
	byTopic = make(map[string]processor.Decoder, len(k.InputFormats))
	for _, topic := range slices.Sorted(maps.Keys(k.InputFormats)) {
		if byTopic[topic], err = get("kafka.input_formats."+topic, k.InputFormats[topic]); err != nil {
			return nil, nil, err
		}
	}
	return def, byTopic, nil
}

// Rules are the eligibility rules of a configured destination.
func Rules(d config.Destination) eligibility.Rules {
	return eligibility.Rules{
		MinStrongKeys:       d.Matching.MinStrongKeys,
		MinOtherKeys:        d.Matching.MinOtherKeys,
		MaxAge:              d.Window.MaxAge,
		MaxAgePhysicalStore: d.Window.MaxAgePhysicalStore,
		SafetyMargin:        d.Window.SafetyMargin,
		MaxFuture:           d.Window.MaxFuture,
	}
}

// pipelineDestinations maps configured destinations to the transformation settings.
func pipelineDestinations(ds []config.Destination) []processor.Destination {
	out := make([]processor.Destination, 0, len(ds))
	for _, d := range ds {
		out = append(out, processor.Destination{
			Name:            d.Name,
			ConsentCategory: d.ConsentCategory,
			DefaultRegion:   d.DefaultPhoneRegion,
			Placeholders:    d.UserDataPlaceholders,
			Include:         d.Events.Include,
			Exclude:         d.Events.Exclude,
			LDU:             processor.LDU{Enabled: d.LDU.Enabled, Country: int64(d.LDU.Country), State: int64(d.LDU.State)},
			Mapping:         mapping.Options{CustomDataPassthrough: d.CustomDataPassthrough},
			Rules:           Rules(d),
		})
	}
	return out
}

// BuildPipeline builds the transformation for cfg (also used by preview and check-config).
func BuildPipeline(cfg config.Config) (*processor.Pipeline, error) {
	dec, byTopic, err := topicDecoders(cfg.Kafka)
	if err != nil {
		return nil, &ConfigError{err}
	}
	p, err := processor.New(dec, pipelineDestinations(cfg.Destinations))
	if err != nil {
		return nil, &ConfigError{err}
	}
	for topic, d := range byTopic {
		p.SetTopicDecoder(topic, d)
	}
	return p, nil
}

// ErrUnknownDestination is wrapped by PreviewPipeline's error for a destination that is not configured.
var ErrUnknownDestination = errors.New("destination")

// PreviewPipeline builds the transformation preview and import --dry-run run events through: the configured
// destinations, or one with the built-in defaults when there are none; only the one called dest unless dest is "".
func PreviewPipeline(cfg config.Config, dest string) (*processor.Pipeline, error) {
	if len(cfg.Destinations) == 0 {
		cfg.Destinations = []config.Destination{config.DefaultDestination()}
	}
	if dest != "" {
		var keep []config.Destination
		for _, d := range cfg.Destinations {
			if d.Name == dest {
				keep = append(keep, d)
			}
		}
		if len(keep) == 0 {
			names := make([]string, len(cfg.Destinations))
			for i, d := range cfg.Destinations {
				names[i] = d.Name
			}
			return nil, fmt.Errorf("%w %q is not configured; the destinations are: %s", ErrUnknownDestination, dest, strings.Join(names, ", "))
		}
		cfg.Destinations = keep
	}
	return BuildPipeline(cfg)
}

// Validate is the check run and check-config make before starting: the problems config.Inspect found as one
// *ConfigError listing them all, else the errors only building the pipeline finds (the Avro schema file parses, the
// decoders can be made).
func Validate(cfg config.Config, problems, warnings []config.Problem) error {
	if len(problems) > 0 {
		return &ConfigError{Err: &config.ValidationError{Problems: problems, Warnings: warnings}}
	}
	_, err := BuildPipeline(cfg)
	return err
}

// KafkaOpts are the connection options shared by every Kafka client of the process (consumer, DLQ producer,
// replay, produce-samples): brokers, client id, TLS, SASL, logging.
func KafkaOpts(k config.Kafka, log zerolog.Logger) ([]kgo.Opt, error) {
	opts, _, err := kafkaConn(context.Background(), k, log)
	return opts, err
}

// kafkaConn is KafkaOpts plus the SASL credentials behind them, which the service prepares before connecting
// (the first OAuth token), keeps fresh and reports on (readiness).
func kafkaConn(ctx context.Context, k config.Kafka, log zerolog.Logger) ([]kgo.Opt, *kafkaauth.Auth, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(k.Brokers...),
		kgo.ClientID(k.ClientID),
		kgo.WithLogger(kzerolog.New(&log)),
	}
	if k.TLS.Enabled || k.TLS.CAFile != "" || k.TLS.CertFile != "" {
		tc, err := k.TLS.ClientConfig("kafka.tls")
		if err != nil {
			return nil, nil, err
		}
		if k.TLS.InsecureSkipVerify {
			log.Warn().Msg("kafka.tls.insecure_skip_verify is set: broker certificates are NOT verified; anyone on the network path can read and alter the stream")
		}
		opts = append(opts, kgo.Dialer(kafkaauth.TLSDialer(tc)))
	}
	auth, err := kafkaauth.New(ctx, k.SASL, log, kafkaauth.Options{})
	if err != nil {
		return nil, nil, err
	}
	if m := auth.Mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, auth, nil
}

// streamOptions maps the configuration to the runtime's options.
func streamOptions(cfg config.Config, p *processor.Pipeline, log zerolog.Logger, obs capi.Observer) (stream.Options, error) {
	kopts, err := KafkaOpts(cfg.Kafka, log)
	if err != nil {
		return stream.Options{}, &ConfigError{err}
	}
	return streamOptionsWith(cfg, kopts, p, log, obs), nil
}

// streamOptionsWith is streamOptions with the Kafka connection options already built.
func streamOptionsWith(cfg config.Config, kopts []kgo.Opt, p *processor.Pipeline, log zerolog.Logger, obs capi.Observer) stream.Options {
	httpClient := capi.NewHTTPClient(64)
	o := stream.Options{
		Kafka:                kopts,
		Topics:               cfg.Kafka.Topics,
		Group:                cfg.Kafka.Group,
		InstanceID:           cfg.Kafka.GroupInstanceID,
		StartLatest:          cfg.Kafka.StartOffset == config.StartLatest,
		SessionTimeout:       cfg.Kafka.SessionTimeout,
		DLQTopic:             cfg.Kafka.DLQTopic,
		DLQCreate:            cfg.Kafka.DLQCreate,
		DLQPartitions:        int32(cfg.Kafka.DLQPartitions),
		DLQReplicationFactor: int16(cfg.Kafka.DLQReplicationFactor),
		Brokers:              cfg.Kafka.Brokers,
		MaxInFlightRecords:   cfg.Kafka.MaxInFlightRecords,
		FetchMaxBytes:        int32(min(cfg.Kafka.FetchMaxBytes, 1<<30)),
		ShutdownTimeout:      cfg.ShutdownTimeout,
		Pipeline:             p,
		Logger:               log,
	}
	for _, d := range cfg.Destinations {
		graph, client := graphClient(cfg, d)
		client.HTTPClient, client.TooOld, client.Logger, client.Observer = httpClient, Rules(d).TooOld, &log, obs
		o.Destinations = append(o.Destinations, stream.Destination{Graph: graph, Client: client,
			Batch: stream.BatchOptions{
				MaxEvents: d.Batch.MaxEvents, MaxBytes: d.Batch.MaxBytes, Linger: d.Batch.Linger, MaxInFlight: d.Batch.MaxInFlight,
			},
		})
	}
	return o
}

// graphClient is a destination's Graph API client settings: pixel and credentials, Graph URL and version, request
// timeout, retry and breaker settings (delivery adds the shared HTTP client, the age check, logging and metrics).
func graphClient(cfg config.Config, d config.Destination) (capi.Destination, capi.Options) {
	return capi.Destination{
			Name: d.Name, PixelID: d.PixelID, AccessToken: d.AccessToken.Reveal(), AppSecret: d.AppSecret.Reveal(),
			TestEventCode: d.TestEventCode, PartnerAgent: cfg.Graph.PartnerAgent,
			BaseURL: cfg.Graph.URL, APIVersion: cfg.Graph.APIVersion,
		}, capi.Options{
			RequestTimeout:  cfg.Graph.RequestTimeout,
			InitialBackoff:  d.Retry.InitialBackoff,
			MaxBackoff:      d.Retry.MaxBackoff,
			ThrottleBackoff: d.Retry.ThrottleBackoff,
			Breaker: capi.BreakerSettings{
				ConsecutiveFailures: uint32(max(d.Breaker.ConsecutiveFailures, 0)),
				OpenTimeout:         d.Breaker.OpenTimeout,
			},
		}
}

// VerboseLogger is the logger of demo and bench: none, or with --verbose JSON entries at level on w.
func VerboseLogger(w io.Writer, verbose bool, level string) zerolog.Logger {
	if !verbose {
		return zerolog.Nop()
	}
	return NewLogger(w, level, config.LogJSON)
}

// NewLogger builds the process logger: zerolog JSON (or console) on w at the configured level. Log entries never
// carry event contents or secrets; see docs/security.md.
func NewLogger(w io.Writer, level, format string) zerolog.Logger {
	if format == config.LogConsole {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("service", "capi-connector").Logger()
}

// ToolLogger is the logger of the commands that reach Kafka without running the service (replay,
// produce-samples): franz-go's info messages (connections, producer ids) would drown their progress lines, so
// unless the level is debug or trace only warnings and errors are kept.
func ToolLogger(w io.Writer, level, format string) zerolog.Logger {
	log := NewLogger(w, level, format)
	if log.GetLevel() < zerolog.WarnLevel && level != "debug" && level != "trace" {
		log = log.Level(zerolog.WarnLevel)
	}
	return log
}
