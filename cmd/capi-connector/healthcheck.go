package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/service"
)

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
		source := "--addr"
		if *addr == "" {
			// Only metrics_addr matters here: the rest of the configuration is the service's business, and a health
			// check must not fail because of a setting it does not use.
			var v string
			switch {
			case *cfgPath != "":
				cfg, err := config.Load(*cfgPath, os.LookupEnv)
				if err != nil {
					return &configError{Err: err}
				}
				v, source = cfg.MetricsAddr, "metrics_addr"
			default:
				var ok bool
				if v, ok = os.LookupEnv("CAPI_METRICS_ADDR"); ok {
					source = "CAPI_METRICS_ADDR"
				} else {
					v, source = config.Default().MetricsAddr, "the default metrics_addr"
				}
			}
			if v = strings.TrimSpace(v); v == "" {
				return usagef("%s is empty, so the connector serves no ops endpoints: set it (e.g. :9464) or pass --addr", source)
			}
			*addr = v
		}
		target, err := service.DialAddr(*addr)
		if err != nil {
			return usagef("%s %q: %v (write it as HOST:PORT or :PORT, e.g. :9464)", source, *addr, err)
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
