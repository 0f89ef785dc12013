package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/test/proctest"
)

// promServer is a real Prometheus server started for one test.
type promServer struct {
	url  string
	proc *proctest.Proc
}

// forRE matches the `for:` of a rule; the test copy of the rules shortens it.
var forRE = regexp.MustCompile(`(?m)^(\s+for:\s*)\S+\s*$`)

// startPrometheus starts Prometheus scraping target every second with a copy of alerts.yml whose `for:` are 2s,
// evaluated every second, and waits until it is ready.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	short := forRE.ReplaceAll(rules, []byte("${1}2s"))
	if string(short) == string(rules) {
		t.Fatal("no `for:` found to shorten in the rules")
	}
	writeFile(t, filepath.Join(dir, "alerts.yml"), string(short))
	writeFile(t, filepath.Join(dir, "prometheus.yml"), fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files: [alerts.yml]
scrape_configs:
  - job_name: capi
    static_configs:
      - targets: [%q]
`, target))
	addr := proctest.FreeAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn")
	cmd.Dir = dir
	p := &promServer{url: "http://" + addr, proc: proctest.Start(t, "prometheus", cmd, 10*time.Second)}
	waitFor(t, 90*time.Second, "Prometheus to be ready", func() (bool, string) {
		p.proc.RequireRunning()
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	// The real server loaded every rule of the file.
	var rl struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name string `json:"name"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	p.get(t, "/api/v1/rules", nil, &rl)
	loaded := 0
	for _, g := range rl.Data.Groups {
		loaded += len(g.Rules)
	}
	if want := len(allRules(loadRules(t, rulesFile))); loaded != want {
		t.Fatalf("Prometheus loaded %d rules, alerts.yml has %d", loaded, want)
	}
	return p
}

func (p *promServer) get(t *testing.T, path string, q url.Values, v any) {
	t.Helper()
	u := p.url + path
	if q != nil {
		u += "?" + q.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", u, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// queryScalar evaluates an instant query that yields one sample and returns its value.
func (p *promServer) queryScalar(t *testing.T, q string) (float64, bool) {
	t.Helper()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]json.RawMessage `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	p.get(t, "/api/v1/query", url.Values{"query": {q}}, &r)
	if len(r.Data.Result) != 1 {
		return 0, false
	}
	var s string
	if json.Unmarshal(r.Data.Result[0].Value[1], &s) != nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func (p *promServer) alerts(t *testing.T) []promAlert {
	t.Helper()
	var r struct {
		Data struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	p.get(t, "/api/v1/alerts", nil, &r)
	return r.Data.Alerts
}

// waitAlert waits until Prometheus reports the alert firing with labels (firing true), or until no alert of that
// name with those labels is pending or firing (firing false).
func waitAlert(t *testing.T, p *promServer, name string, labels map[string]string, firing bool) {
	t.Helper()
	what := fmt.Sprintf("%s%v to fire", name, labels)
	if !firing {
		what = fmt.Sprintf("%s%v to resolve", name, labels)
	}
	waitFor(t, 90*time.Second, what, func() (bool, string) {
		p.proc.RequireRunning()
		var states []string
		match := false
		for _, a := range p.alerts(t) {
			if a.Labels["alertname"] != name {
				continue
			}
			states = append(states, fmt.Sprintf("%v:%s", a.Labels, a.State))
			ok := true
			for k, v := range labels {
				ok = ok && a.Labels[k] == v
			}
			if ok && (!firing || a.State == "firing") {
				match = true
			}
		}
		return match == firing, fmt.Sprintf("alerts: %v", states)
	})
}

// waitFor polls cond every 250 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, detail)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
