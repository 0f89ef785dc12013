package main

import (
	"context"
	"io"

	"github.com/capi-connector/capi-connector/processor/service"
)

// cmdRun is the service: it refuses to start on an invalid configuration, serves /healthz, /readyz and /metrics,
// and drains on SIGINT/SIGTERM. The wiring is processor/service.
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
	svc, err := service.New(cfg, service.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat))
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
