package service

// The operations endpoints: the server run serves (/metrics, /healthz, /readyz) and its client side, what
// `capi-connector healthcheck` asks and how it reads the answer.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/health"
)

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

// ErrNotHealthy is the outcome of a health check that reached the service and got a non-200 answer, or reached
// nothing: the healthcheck command exits 1 on it, which Docker's HEALTHCHECK and Kubernetes exec probes read as
// "unhealthy".
var ErrNotHealthy = errors.New("not healthy")

// DialAddr turns a listen address into one to dial: an empty or wildcard host (":9464", "0.0.0.0:9464", "[::]:9464")
// is this machine's loopback.
func DialAddr(listen string) (string, error) {
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

// Probe asks an ops server for url (/readyz or /healthz) within timeout. It returns "<url>: <status>" on a 200, and
// otherwise an error wrapping ErrNotHealthy that says why: nothing listening, no answer in time, or the failing
// readiness checks of the answer.
func Probe(ctx context.Context, url string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return "", fmt.Errorf("%w: nothing listens at %s (connection refused): is the connector running, and is "+
				"--addr (or CAPI_METRICS_ADDR / metrics_addr) its ops address?", ErrNotHealthy, url)
		case ctx.Err() != nil:
			return "", fmt.Errorf("%w: no answer from %s within %s: the process may be stuck or overloaded", ErrNotHealthy, url, timeout)
		}
		return "", fmt.Errorf("%w: %s: %w", ErrNotHealthy, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return url + ": " + resp.Status, nil
	}
	return "", fmt.Errorf("%w: %s answered %s%s", ErrNotHealthy, url, resp.Status, explainReadiness(body))
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

// OpsAddrFrom is the ops address healthcheck asks, and where it came from: addr when given ("--addr"), else
// metrics_addr of the configuration file at cfgPath (CAPI_METRICS_ADDR still overrides it), else CAPI_METRICS_ADDR,
// else the default. Only metrics_addr is read: the rest of the configuration is the service's business, and a
// health check must not fail because of a setting it does not use. "" means the connector serves no ops endpoints.
func OpsAddrFrom(addr, cfgPath string, lookupEnv func(string) (string, bool)) (string, string, error) {
	if addr != "" {
		return addr, "--addr", nil
	}
	var v, source string
	switch {
	case cfgPath != "":
		cfg, err := config.Load(cfgPath, lookupEnv)
		if err != nil {
			return "", "", &ConfigError{Err: err}
		}
		v, source = cfg.MetricsAddr, "metrics_addr"
	default:
		var ok bool
		if v, ok = lookupEnv("CAPI_METRICS_ADDR"); ok {
			source = "CAPI_METRICS_ADDR"
		} else {
			v, source = config.Default().MetricsAddr, "the default metrics_addr"
		}
	}
	return strings.TrimSpace(v), source, nil
}
