package service

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
)

// The client side of the ops server: what `capi-connector healthcheck` asks and how it reads the answer.

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
