package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/capi-connector/capi-connector/config"
)

// cmdCheckConfig validates a configuration offline: every problem is printed with its key and the fix, and the
// exit status is non-zero when there is any. run refuses to start on the same problems.
func cmdCheckConfig(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("check-config", stderr)
	cfgPath := fs.String("config", "", "configuration file (default: CAPI_* environment only)")
	if stop, err := parseFlags(fs, args); stop {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if err := validate(cfg, stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "configuration OK")
	return nil
}

// validate runs config validation plus the checks that need to build parts (decoder, pipeline), printing
// warnings. It returns a *configError listing every problem.
//
// Warnings are printed whether or not there are problems: a valid configuration with insecure_skip_verify or a
// test_event_code is exactly the one an operator must be told about.
func validate(cfg config.Config, w io.Writer) error {
	problems, warnings := cfg.Check()
	for _, p := range warnings {
		fmt.Fprintf(w, "warning: %s\n", p)
	}
	if len(problems) > 0 {
		return &configError{&config.ValidationError{Problems: problems, Warnings: warnings}}
	}
	if _, err := buildPipeline(cfg); err != nil {
		return err
	}
	return nil
}

// checkKeys reports the configuration problems under the given key prefixes only: the commands that reach Kafka
// without delivering (replay, produce-samples) need no destination or decoder settings.
func checkKeys(cfg config.Config, prefixes ...string) error {
	problems, _ := cfg.Check()
	var kept []config.Problem
	for _, p := range problems {
		for _, prefix := range prefixes {
			if strings.HasPrefix(p.Key, prefix) {
				kept = append(kept, p)
				break
			}
		}
	}
	if len(kept) > 0 {
		return &configError{&config.ValidationError{Problems: kept}}
	}
	return nil
}
