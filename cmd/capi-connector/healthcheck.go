package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/capi-connector/capi-connector/config"
)

// errNotHealthy is the outcome of a health check that reached the service and got a non-200 answer, or reached
// nothing: exit status 1, which is what Docker's HEALTHCHECK and Kubernetes exec probes read as "unhealthy".
var errNotHealthy = errors.New("not healthy")

// cmdHealthcheck asks a running connector's ops server for /readyz (or /healthz with --live) and exits 0 only on a
// 200. It exists because the distroless image has no curl or wget: Docker's HEALTHCHECK and compose's healthcheck
// run the binary itself. It reads no configuration file and never contacts Kafka or Graph.
func cmdHealthcheck(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", stderr)
	addr := fs.String("addr", "", "HOST:PORT of the ops server (default: metrics_addr of --config, else CAPI_METRICS_ADDR, else "+
		config.Default().MetricsAddr+"; an empty or wildcard host means this machine)")
	cfgPath := fs.String("config", "", "read metrics_addr from this configuration file (CAPI_METRICS_ADDR still overrides it)")
	live := fs.Bool("live", false, "check liveness (/healthz) instead of readiness (/readyz)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: capi-connector healthcheck [--addr HOST:PORT | --config FILE] [--live] [--timeout D]\n\n"+
			"Exits 0 when the running connector's /readyz (or /healthz with --live) answers 200, 1 otherwise.")
		fs.PrintDefaults()
	}
	if stop, err := parseFlags(fs, args); stop {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
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
	target, err := dialAddr(*addr)
	if err != nil {
		return usagef("%s %q: %v (write it as HOST:PORT or :PORT, e.g. :9464)", source, *addr, err)
	}
	path := "/readyz"
	if *live {
		path = "/healthz"
	}
	return healthcheck(ctx, "http://"+target+path, *timeout, stdout)
}

// dialAddr turns a listen address into one to dial: an empty or wildcard host (":9464", "0.0.0.0:9464", "[::]:9464")
// is this machine's loopback.
func dialAddr(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	if port == "" {
		return "", errors.New("no port")
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port), nil
}

// readiness is the JSON body of /readyz: {"ready":bool,"checks":[{"name","ok","reason"}]}.
type readiness struct {
	Ready  bool `json:"ready"`
	Checks []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Reason string `json:"reason"`
	} `json:"checks"`
}

func healthcheck(ctx context.Context, url string, timeout time.Duration, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return usagef("%v", err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return fmt.Errorf("%w: nothing listens at %s (connection refused): is the connector running, and is "+
				"--addr (or CAPI_METRICS_ADDR / metrics_addr) its ops address?", errNotHealthy, url)
		case ctx.Err() != nil:
			return fmt.Errorf("%w: no answer from %s within %s: the process may be stuck or overloaded", errNotHealthy, url, timeout)
		}
		return fmt.Errorf("%w: %s: %w", errNotHealthy, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		fmt.Fprintf(stdout, "%s: %s\n", url, resp.Status)
		return nil
	}
	return fmt.Errorf("%w: %s answered %s%s", errNotHealthy, url, resp.Status, explainReadiness(body))
}

// explainReadiness lists the failing checks of a /readyz body, or quotes a short non-JSON body.
func explainReadiness(body []byte) string {
	var r readiness
	if err := json.Unmarshal(body, &r); err == nil && len(r.Checks) > 0 {
		var failing []string
		for _, c := range r.Checks {
			if !c.OK {
				s := c.Name
				if c.Reason != "" {
					s += " (" + c.Reason + ")"
				}
				failing = append(failing, s)
			}
		}
		if len(failing) > 0 {
			return ": failing checks: " + strings.Join(failing, "; ")
		}
		return ""
	}
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return ": " + s
}
