package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/processor/metrics"
	"github.com/capi-connector/capi-connector/processor/stream"
)

// cmdRun is the service: it refuses to start on an invalid configuration, serves /healthz, /readyz and /metrics,
// and drains on SIGINT/SIGTERM.
func cmdRun(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	cfgPath := fs.String("config", "", "configuration file (default: CAPI_* environment only)")
	if stop, err := parseFlags(fs, args); stop {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (the file goes after --config)", fs.Arg(0))
	}
	cfg, err := loadChecked(*cfgPath, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	return runService(ctx, cfg, log)
}

// runService wires and runs the pipeline until ctx ends (shared by run and demo).
func runService(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	return runServiceWith(ctx, cfg, log, nil)
}

func runServiceWith(ctx context.Context, cfg config.Config, log zerolog.Logger, started func(*stream.Runner)) error {
	p, err := buildPipeline(cfg)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	checks := health.New()
	m.WatchHealth(checks)
	opts, err := streamOptions(cfg, p, log, m)
	if err != nil {
		return err
	}
	opts.Health = checks
	// The ops endpoints listen as soon as the configuration is valid, before Kafka answers: a liveness probe must
	// not restart the pod in a loop during a Kafka outage, and /readyz says why the service is not ready.
	if cfg.MetricsAddr != "" {
		stop, addr, err := serveOps(cfg.MetricsAddr, reg, checks)
		if err != nil {
			return fmt.Errorf("metrics_addr: %w", err)
		}
		defer stop()
		log.Info().Str("addr", addr).Msg("serving /metrics, /healthz, /readyz")
	}
	if err := checkKafka(ctx, opts.Kafka, cfg.Kafka, log, checks); err != nil {
		return err
	}
	opts.ConsumerOpts = append(opts.ConsumerOpts, m.KafkaHooks()...)
	r, err := stream.New(opts)
	if err != nil {
		return err
	}
	m.Watch(r, cfg.Kafka.Topics, cfg.Kafka.Group)
	log.Info().Strs("topics", cfg.Kafka.Topics).Str("group", cfg.Kafka.Group).Int("destinations", len(cfg.Destinations)).Msg("starting")
	if started != nil {
		started(r)
	}
	err = r.Run(ctx)
	log.Info().Err(err).Msg("stopped")
	return err
}

// serveOps serves the operations endpoints. /healthz answers 200 while the process runs; /readyz answers 200 only
// when every readiness check passes, 503 otherwise, with the checks as JSON either way.
func serveOps(addr string, reg *prometheus.Registry, checks *health.Registry) (func(), string, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/readyz", checks)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, ln.Addr().String(), nil
}

// errKafkaRefused marks connection settings the brokers refuse: retrying cannot fix them.
var errKafkaRefused = errors.New("kafka refused the connection settings")

// checkKafka connects once before consuming so that settings the brokers refuse (wrong SASL credentials or
// mechanism, an untrusted or mismatched broker certificate, a client certificate the broker rejects, TLS against a
// plaintext listener) end the service with the cause. franz-go retries every connection failure forever, which would
// look like an idle, healthy consumer. Brokers that are down or still starting (connection refused, timeouts) are
// waited for, with a warning per attempt, until ctx ends: a Kafka outage must not crash-loop the connector.
//
// A broker that closes the connection right after it opens, three times in a row, is treated as a refusal: that is
// how brokers (and kfake) answer a failed SASL login on old protocol versions or a plaintext client on a TLS port.
func checkKafka(ctx context.Context, kopts []kgo.Opt, k config.Kafka, log zerolog.Logger, checks *health.Registry) error {
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return &configError{fmt.Errorf("kafka: %w", err)}
	}
	defer cl.Close()
	closedEarly := 0
	for wait := 250 * time.Millisecond; ; wait = min(wait*2, 10*time.Second) {
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := cl.Ping(pctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			if err == nil && checks != nil {
				checks.Set(health.BrokersReachable, true, "")
			}
			return nil
		}
		hint := kafkaRefusal(err)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if closedEarly++; closedEarly >= 3 {
				hint = "the broker closes the connection during the handshake: check the SASL credentials and mechanism " +
					"(kafka.sasl.*) and that kafka.tls.enabled matches the listener"
			}
		} else {
			closedEarly = 0
		}
		if hint != "" {
			return &configError{fmt.Errorf("%w: brokers %v: %s: %w", errKafkaRefused, k.Brokers, hint, err)}
		}
		if checks != nil {
			checks.Set(health.BrokersReachable, false, fmt.Sprintf("brokers unreachable: %s: %v", strings.Join(k.Brokers, ","), err))
		}
		log.Warn().Err(err).Strs("brokers", k.Brokers).Dur("retry_in", wait).Msg("kafka brokers unreachable; waiting for them")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// kafkaRefusal explains err when it is a refusal of our settings, or returns "" for failures worth retrying.
func kafkaRefusal(err error) string {
	var verr *tls.CertificateVerificationError
	var op *net.OpError
	var rec tls.RecordHeaderError
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.UnsupportedSaslMechanism),
		errors.Is(err, kerr.IllegalSaslState):
		return "SASL login refused: check kafka.sasl.mechanism, username and password"
	case errors.As(err, &verr):
		return "the broker's TLS certificate is not trusted: check kafka.tls.ca_file and kafka.tls.server_name"
	case errors.As(err, &op) && op.Op == "remote error": // a TLS alert from the broker (crypto/tls sets this Op)
		return "the broker refused the TLS handshake (client certificate missing or not trusted): check kafka.tls.cert_file and key_file"
	case errors.As(err, &rec):
		return "the broker does not speak TLS on this port: check kafka.tls.enabled and kafka.brokers"
	case errors.Is(err, kerr.ClusterAuthorizationFailed), errors.Is(err, kerr.TopicAuthorizationFailed):
		return "the SASL user lacks permissions (ACLs)"
	}
	return ""
}
