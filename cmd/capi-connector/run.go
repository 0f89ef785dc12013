package main

// The commands of the service itself: check-config checks a configuration the way run does before starting, run
// runs it, healthcheck asks a running one.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/service"
)

// cmdRun is the service: it refuses to start on an invalid configuration, serves /healthz, /readyz and /metrics,
// and drains on SIGINT/SIGTERM. The wiring is processor/service.
//
// With log_format json (the default) every line it writes is a JSON log entry: configuration warnings and
// problems, the signal notices and the exit reason included, so a log pipeline never meets a plain-text line.
func cmdRun(fs *flag.FlagSet) action {
	cfgPath := fs.String("config", "", "configuration file (default: CAPI_* environment only)")
	return func(ctx context.Context, _ []string, _ io.Reader, stdout, stderr io.Writer) error {
		cfg, problems, warnings := config.Inspect(*cfgPath, os.Environ())
		if cfg.LogFormat == config.LogConsole {
			if err := report(cfg, problems, warnings, stderr); err != nil {
				return err
			}
			svc, err := service.New(cfg, service.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat))
			if err != nil {
				return err
			}
			return svc.Run(ctx)
		}
		log := service.NewLogger(stderr, cfg.LogLevel, config.LogJSON)
		service.OnSignal(ctx, func(msg string) { log.Warn().Msg(msg) })
		err := service.RunLogged(ctx, cfg, problems, warnings, log)
		if err != nil {
			log.Error().Err(err).Msg("capi-connector run: exiting")
			return &reportedError{err}
		}
		return nil
	}
}

// reportedError is an error the command already wrote to its log: main sets the exit status from it without
// printing it again (a plain-text line would break a JSON log stream).
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// cmdCheckConfig validates a configuration offline: every problem of the file, the environment and the values is
// printed in one pass, with its line or variable and the fix, and the exit status is 3 when there is any. run
// refuses to start on the same problems. --print shows the effective configuration.
func cmdCheckConfig(fs *flag.FlagSet) action {
	cfgPath := fs.String("config", "", "configuration file (default: CAPI_* environment only)")
	online := fs.Bool("online", false, "also contact what the configuration points at — brokers, source and DLQ topics, consumer group, each destination's token and pixel (no event is sent), the schema registry — and print a table of checks")
	print := fs.Bool("print", false, "print the effective configuration (defaults, then the file, then the environment; secrets redacted) with where each value came from")
	return func(ctx context.Context, _ []string, _ io.Reader, stdout, stderr io.Writer) error {
		cfg, problems, warnings := config.Inspect(*cfgPath, os.Environ())
		if *print {
			out, err := cfg.EffectiveYAML()
			if err != nil {
				return err
			}
			if _, err := stdout.Write(out); err != nil {
				return err
			}
		}
		if err := report(cfg, problems, warnings, stdout); err != nil {
			if *online {
				fmt.Fprintln(stdout, "online checks skipped: fix the configuration problems first")
			}
			return err
		}
		fmt.Fprintln(stdout, "configuration OK")
		if !*online {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, onlineTimeout)
		defer cancel()
		// franz-go's own logs would interleave with the table; warnings and errors still show.
		log := service.NewLogger(stderr, "error", cfg.LogFormat)
		return service.WriteOnline(stdout, service.CheckOnline(ctx, cfg, log))
	}
}

// onlineTimeout bounds check-config --online as a whole.
const onlineTimeout = 20 * time.Second

// report prints the warnings and returns service.Validate's verdict: every problem as one *configError, or what
// building the pipeline found.
func report(cfg config.Config, problems, warnings []config.Problem, w io.Writer) error {
	for _, p := range warnings {
		fmt.Fprintf(w, "warning: %s\n", p)
	}
	return service.Validate(cfg, problems, warnings)
}

// cmdHealthcheck asks a running connector's ops server for /readyz (or /healthz with --live) and exits 0 only on a
// 200. It exists because the distroless image has no curl or wget: Docker's HEALTHCHECK and compose's healthcheck
// run the binary itself. It reads no configuration file and never contacts Kafka or Graph.
func cmdHealthcheck(fs *flag.FlagSet) action {
	addr := fs.String("addr", "", "HOST:PORT of the ops server (default: metrics_addr of --config, else CAPI_METRICS_ADDR, else "+
		config.Default().MetricsAddr+"; an empty or wildcard host means this machine)")
	cfgPath := fs.String("config", "", "read metrics_addr from this configuration file (CAPI_METRICS_ADDR still overrides it)")
	live := fs.Bool("live", false, "check liveness (/healthz) instead of readiness (/readyz)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	return func(ctx context.Context, _ []string, _ io.Reader, stdout, stderr io.Writer) error {
		if *timeout <= 0 {
			return usagef("--timeout must be > 0, got %s", *timeout)
		}
		addr, source, err := service.OpsAddrFrom(*addr, *cfgPath, os.LookupEnv)
		if err != nil {
			return err
		}
		if addr == "" {
			return usagef("%s is empty, so the connector serves no ops endpoints: set it (e.g. :9464) or pass --addr", source)
		}
		target, err := service.DialAddr(addr)
		if err != nil {
			return usagef("%s %q: %v (write it as HOST:PORT or :PORT, e.g. :9464)", source, addr, err)
		}
		path := "/readyz"
		if *live {
			path = "/healthz"
		}
		status, err := service.Probe(ctx, "http://"+target+path, *timeout)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, status)
		return nil
	}
}
