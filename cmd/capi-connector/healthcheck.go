package main

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
