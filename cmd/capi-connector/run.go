package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/metrics"
	"github.com/capi-connector/capi-connector/processor/stream"
)

// cmdRun is the service: it refuses to start on an invalid configuration, serves /healthz, /readyz and /metrics,
// and drains on SIGINT/SIGTERM.
func cmdRun(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (default: CAPI_* environment only)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usagef("%v", err)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if err := validate(cfg, stderr); err != nil {
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
	opts, err := streamOptions(cfg, p, log, m)
	if err != nil {
		return err
	}
	opts.ConsumerOpts = append(opts.ConsumerOpts, m.KafkaHooks()...)
	r, err := stream.New(opts)
	if err != nil {
		return err
	}
	m.Watch(r, cfg.Kafka.Topics, cfg.Kafka.Group)
	if cfg.MetricsAddr != "" {
		stop, addr, err := serveOps(cfg.MetricsAddr, reg, r)
		if err != nil {
			return fmt.Errorf("metrics_addr: %w", err)
		}
		defer stop()
		log.Info().Str("addr", addr).Msg("serving /metrics, /healthz, /readyz")
	}
	log.Info().Strs("topics", cfg.Kafka.Topics).Str("group", cfg.Kafka.Group).Int("destinations", len(cfg.Destinations)).Msg("starting")
	if started != nil {
		started(r)
	}
	err = r.Run(ctx)
	log.Info().Err(err).Msg("stopped")
	return err
}

// serveOps serves the operations endpoints. /healthz answers 200 while the process runs; /readyz answers 200 only
// when the consumer joined its group and no destination is misconfigured.
func serveOps(addr string, reg *prometheus.Registry, r *stream.Runner) (func(), string, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !r.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
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
