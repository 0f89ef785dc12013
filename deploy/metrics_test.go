package deploy

import (
	"bufio"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/schema/sample"
)

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

// trafficMix is sample traffic that makes every series appear: deliveries with every match key, each DLQ reason
// the samples produce (no_consent, insufficient_user_data, missing_pii_for_purchase, event_too_old,
// invalid_payload, facebook_rejected), and user data that normalization drops (an email that is no address, a
// placeholder city). poisoned are the ids of the events Facebook is to reject (the simulator's fault).
func trafficMix() (events []sample.Event, poisoned []string) {
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
	for _, e := range out {
		if e.Kind == sample.Poisoned {
			poisoned = append(poisoned, e.EventID)
		}
	}
	return out, poisoned
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
