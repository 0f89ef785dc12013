package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/schema/sample"
	"github.com/capi-connector/capi-connector/test/proctest"
)

const dashboardFile = "grafana/capi-connector.json"

// connector is the capi-connector binary, built once per run.
var connector = proctest.Binary{ModuleRoot: ".."}

// TestMain only removes the connector binary.
func TestMain(m *testing.M) {
	code := m.Run()
	connector.Remove()
	os.Exit(code)
}

// TestPrometheusEndToEnd runs the real pieces together: the capi-connector binary (kfake + the Graph API
// simulator), a real Prometheus server scraping it with the alert rules of deploy/prometheus/alerts.yml (their
// `for:` shortened so the test takes seconds), and checks through Prometheus's HTTP API that
//   - every metric named by the alert rules and the Grafana dashboard is one the running connector exports;
//   - a Facebook rejection fires CapiFacebookRejected;
//   - an expired token fires CapiDestinationMisconfigured (and CapiNotReady with the failing check as label);
//   - fixing it (new token, restart) resolves the alert while Prometheus scrapes the fixed connector, and the
//     events held during the outage are delivered.
func TestPrometheusEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the connector and a Prometheus server")
	}
	promBin := tool(t, "prometheus", installPrometheus)
	bin := connector.Path(t)

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "events"), kfake.SeedTopics(1, "events.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := cluster.ListenAddrs()

	events := trafficMix()
	var poisoned []string
	for _, e := range events {
		if e.Kind == sample.Poisoned {
			poisoned = append(poisoned, e.EventID)
		}
	}
	// Two transient failures first (retries, outcome transient), then Facebook "rejects" the poisoned ids.
	sim, srv := capitest.NewTestServer(t, capitest.Config{AcceptAnyPixel: true, MaxRecordedEvents: 10000,
		Faults: capitest.Faults{FailNext: 2, PoisonedEventIDs: poisoned}})

	metricsAddr := proctest.FreeAddr(t)
	vars := map[string]string{
		"CAPI_KAFKA_BROKERS":                strings.Join(brokers, ","),
		"CAPI_KAFKA_TOPIC":                  "events",
		"CAPI_KAFKA_GROUP":                  "capi-e2e",
		"CAPI_DLQ_TOPIC":                    "events.dlq",
		"CAPI_KAFKA_SESSION_TIMEOUT":        "6s",
		"CAPI_PIXEL_ID":                     "1234567890123",
		"CAPI_ACCESS_TOKEN":                 "token-before-expiry",
		"CAPI_GRAPH_URL":                    srv.URL,
		"CAPI_CONSENT_CATEGORY":             sample.ConsentCategory,
		"CAPI_DEFAULT_PHONE_REGION":         "FR",
		"CAPI_BATCH_MAX_EVENTS":             "50",
		"CAPI_BATCH_LINGER":                 "20ms",
		"CAPI_RETRY_INITIAL_BACKOFF":        "10ms",
		"CAPI_RETRY_MAX_BACKOFF":            "100ms",
		"CAPI_BREAKER_CONSECUTIVE_FAILURES": "5",
		"CAPI_BREAKER_OPEN_TIMEOUT":         "300ms",
		"CAPI_METRICS_ADDR":                 metricsAddr,
		"CAPI_SHUTDOWN_TIMEOUT":             "5s",
	}

	prom := startPrometheus(t, promBin, metricsAddr)
	conn := proctest.StartConnector(t, bin, "connector-1", vars, 10*time.Second)
	produce(t, brokers, events)

	// Phase 1: everything delivered or dead-lettered and committed; every named metric is exported.
	waitFor(t, 90*time.Second, "the connector to deliver and commit the first events", func() (bool, string) {
		conn.RequireRunning()
		m := scrape(t, metricsAddr)
		lag, ok := m.sum("capi_consumer_lag")
		done := ok && lag == 0 && m.has(`capi_events_rejected_total{destination="default",reason="facebook_rejected"}`) &&
			m.has(`capi_graph_retries_total`)
		return done, fmt.Sprintf("lag %v (reported %v)", lag, ok)
	})
	checkNamesExported(t, scrape(t, metricsAddr).names())
	start := time.Now()
	t.Logf("phase 1: %d events delivered or dead-lettered and committed; metric names checked", len(events))

	waitAlert(t, prom, "CapiFacebookRejected", map[string]string{"destination": "default", "job": "capi"}, true)
	t.Logf("CapiFacebookRejected firing after %s", time.Since(start).Round(100*time.Millisecond))

	// Phase 2: the token expires. Held events must not be dead-lettered; the alert fires.
	if err := sim.SetFaults(capitest.Faults{TokenExpired: true}); err != nil {
		t.Fatal(err)
	}
	held := onlyKind(20, sample.Deliverable, 99)
	produce(t, brokers, held)
	expiredAt := time.Now()
	waitAlert(t, prom, "CapiDestinationMisconfigured", map[string]string{"destination": "default", "job": "capi", "severity": "critical"}, true)
	t.Logf("token expired: CapiDestinationMisconfigured firing after %s", time.Since(expiredAt).Round(100*time.Millisecond))
	waitAlert(t, prom, "CapiNotReady", map[string]string{"check": "destination:default", "job": "capi"}, true)
	t.Logf("CapiNotReady{check=destination:default} firing after %s", time.Since(expiredAt).Round(100*time.Millisecond))

	// Phase 3: the operator puts a valid token in place and restarts; the alert resolves while Prometheus scrapes
	// the fixed connector (not because the target went away), and the held events are delivered.
	if err := sim.SetFaults(capitest.Faults{}); err != nil {
		t.Fatal(err)
	}
	// SIGTERM with work held by the misconfigured destination: the connector gives up on it after
	// shutdown_timeout (not committed, consumed again after the restart), so any exit status is accepted here.
	conn.Stop(30 * time.Second)
	t.Logf("connector-1 stopped while misconfigured: %v", conn.Err())
	restartedAt := time.Now()
	vars["CAPI_ACCESS_TOKEN"] = "token-after-rotation"
	conn = proctest.StartConnector(t, bin, "connector-2", vars, 10*time.Second)
	waitFor(t, 90*time.Second, "Prometheus to scrape the fixed connector", func() (bool, string) {
		conn.RequireRunning()
		v, ok := prom.queryScalar(t, `max(capi_destination_misconfigured{job="capi",destination="default"})`)
		at, _ := prom.queryScalar(t, `max(timestamp(capi_destination_misconfigured{job="capi",destination="default"}))`)
		scraped := time.UnixMilli(int64(at * 1000))
		up, _ := prom.queryScalar(t, `up{job="capi"}`)
		ready, _ := prom.queryScalar(t, `min(capi_ready{job="capi",check="destination:default"})`)
		return ok && v == 0 && ready == 1 && up == 1 && scraped.After(restartedAt),
			fmt.Sprintf("misconfigured %v, ready %v, scraped at %v, up %v", v, ready, scraped, up)
	})
	waitAlert(t, prom, "CapiDestinationMisconfigured", map[string]string{"destination": "default"}, false)
	waitAlert(t, prom, "CapiNotReady", map[string]string{"check": "destination:default"}, false)
	t.Logf("fixed: both alerts resolved %s after the restart", time.Since(restartedAt).Round(100*time.Millisecond))
	waitFor(t, 90*time.Second, "the held events to be delivered", func() (bool, string) {
		got := sim.EventIDs()
		missing := 0
		for _, e := range held {
			if got[e.EventID] == 0 {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d held events not delivered", missing, len(held))
	})
	conn.Terminate(30 * time.Second)
}

// trafficMix is sample traffic that makes every series appear: deliveries with every match key, each DLQ reason
// the samples produce (no_consent, insufficient_user_data, missing_pii_for_purchase, event_too_old,
// invalid_payload, facebook_rejected), and user data that normalization drops (an email that is no address, a
// placeholder city).
func trafficMix() []sample.Event {
	g := sample.New(11, time.Now())
	g.PoisonEvery, g.TooOldEvery, g.InvalidEvery = 60, 37, 41
	out := make([]sample.Event, 0, 301)
	for range 300 {
		out = append(out, g.Next())
	}
	ts := time.Now().Add(-time.Minute).UnixMilli()
	out = append(out, sample.Event{Key: []byte("user-drop"), EventID: "e2e-dropped-fields", Kind: sample.Deliverable, Value: []byte(
		`{"event_name":"purchase","id":"ORD-E2E","value":10,"currency":"EUR","consent_categories":["2"],` +
			`"user":{"email":"not-an-address","phone":"06 12 34 56 78","firstname":"Jean","lastname":"Dupont","city":"n/a","zipcode":"69003","country":"France"},` +
			`"context":{"event_timestamp":` + strconv.FormatInt(ts, 10) + `,"page":{"url":"https://shop.example.com/merci"},` +
			`"device":{"ip":"203.0.113.7","user_agent":"Mozilla/5.0","cookie":"_fbp=fb.1.1795950000000.1098115397"}},` +
			`"integrations":{"facebook":{"event_id":"e2e-dropped-fields"}}}`)})
	return out
}

func onlyKind(n int, k sample.Kind, seed uint64) []sample.Event {
	g := sample.New(seed, time.Now())
	var out []sample.Event
	for len(out) < n {
		if e := g.Next(); e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func produce(t *testing.T, brokers []string, events []sample.Event) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs := make([]*kgo.Record, len(events))
	for i, e := range events {
		recs[i] = &kgo.Record{Key: e.Key, Value: e.Value}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// checkNamesExported fails for every metric named by an alert rule or a dashboard expression that the running
// connector does not export (recording rules' own names excepted).
func checkNamesExported(t *testing.T, exported map[string]bool) {
	t.Helper()
	recorded := map[string]bool{}
	var ruleExprs []string
	for _, r := range allRules(loadRules(t, rulesFile)) {
		if r.Record != "" {
			recorded[r.Record] = true
		}
		ruleExprs = append(ruleExprs, r.Expr)
	}
	check := func(where string, exprs []string) {
		n := 0
		for _, e := range exprs {
			for _, name := range metricNames(e) {
				n++
				if !exported[name] && !recorded[name] {
					t.Errorf("%s: %q names %s, which a running connector does not export", where, e, name)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no metric names found", where)
		}
	}
	check(rulesFile, ruleExprs)
	check(dashboardFile, dashboardExprs(t))
	if t.Failed() {
		t.Logf("exported: %s", strings.Join(sortedKeys(exported), " "))
	}
}

// dashboardExprs returns every PromQL expression of the dashboard: panel targets and templating queries (the
// label argument of label_values removed).
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	d := loadDashboard(t)
	var out []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			if err := json.Unmarshal(v.Query, &q.Query); err != nil {
				t.Fatalf("templating %s: query: %v", v.Name, err)
			}
		}
		if m := labelValuesRE.FindStringSubmatch(q.Query); m != nil {
			out = append(out, m[1])
		} else {
			out = append(out, q.Query)
		}
	}
	return out
}

var labelValuesRE = regexp.MustCompile(`^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

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

// exposition is one scrape of /metrics: sample lines by series (name{labels}) and the metric family names.
type exposition struct {
	samples  map[string]float64
	families map[string]bool
}

func scrape(t *testing.T, addr string) exposition {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return exposition{samples: map[string]float64{}, families: map[string]bool{}}
	}
	defer resp.Body.Close()
	e := exposition{samples: map[string]float64{}, families: map[string]bool{}}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				e.families[f[0]] = true
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		e.samples[line[:i]] = v
	}
	return e
}

// names are the metric names a query can select: family names and sample names (_bucket, _sum, _count).
func (e exposition) names() map[string]bool {
	out := map[string]bool{}
	for f := range e.families {
		out[f] = true
	}
	for s := range e.samples {
		name, _, _ := strings.Cut(s, "{")
		out[name] = true
	}
	return out
}

// has reports whether a series exists whose text starts with prefix: a bare name, or name{first labels (label
// order as exposed, which is sorted).
func (e exposition) has(prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "}")
	for s := range e.samples {
		if strings.Contains(prefix, "{") && strings.HasPrefix(s, prefix) || s == prefix || strings.HasPrefix(s, prefix+"{") {
			return true
		}
	}
	return false
}

// sum adds every sample of the named metric; ok is false when there is none.
func (e exposition) sum(name string) (float64, bool) {
	total, ok := 0.0, false
	for s, v := range e.samples {
		if n, _, _ := strings.Cut(s, "{"); n == name {
			total += v
			ok = true
		}
	}
	return total, ok
}
