package main

import (
	"context"
	"flag"
	"io"
	"os"

	"github.com/rs/zerolog"

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
		onSignal(ctx, func(msg string) { log.Warn().Msg(msg) })
		err := runJSON(ctx, cfg, problems, warnings, log)
		if err != nil {
			log.Error().Err(err).Msg("capi-connector run: exiting")
			return &reportedError{err}
		}
		return nil
	}
}

func runJSON(ctx context.Context, cfg config.Config, problems, warnings []config.Problem, log zerolog.Logger) error {
	for _, p := range warnings {
		log.Warn().Str("key", p.Key).Msg("configuration warning: " + p.String())
	}
	for _, p := range problems {
		log.Error().Str("key", p.Key).Msg("configuration problem: " + p.String())
	}
	if len(problems) > 0 {
		return &configError{Err: &config.ValidationError{Problems: problems, Warnings: warnings}}
	}
	if _, err := service.BuildPipeline(cfg); err != nil {
		return err
	}
	svc, err := service.New(cfg, log)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}

// reportedError is an error the command already wrote to its log: main sets the exit status from it without
// printing it again (a plain-text line would break a JSON log stream).
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }
