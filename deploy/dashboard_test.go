package deploy

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

const dashboardFile = "grafana/capi-connector.json"

type dashboard struct {
	Title         string `json:"title"`
	UID           string `json:"uid"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource *struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		GridPos struct {
			H, W, X, Y int
		} `json:"gridPos"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// The dashboard is importable (unique panel ids, a datasource variable, grid positions inside 24 columns) and
// shows what the issue asks for: throughput delivered and dead-lettered by reason, Graph latency and outcome by
// code, breaker state, lag per partition, in-flight records, match-key coverage, readiness. That every metric it
// names is exported is checked against a running connector in TestPrometheusEndToEnd.
func TestDashboard(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || d.SchemaVersion == 0 {
		t.Errorf("uid %q, title %q, schemaVersion %d: all needed for import", d.UID, d.Title, d.SchemaVersion)
	}
	hasDS := false
	for _, v := range d.Templating.List {
		hasDS = hasDS || v.Type == "datasource" && v.Name == "datasource"
	}
	if !hasDS {
		t.Error("no datasource variable: the dashboard would be bound to one Prometheus uid")
	}
	ids := map[int]bool{}
	names := map[string]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want uid ${datasource}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.Expr == "" || refs[tg.RefID] {
				t.Errorf("panel %q: empty expression or duplicate refId %q", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			for _, n := range metricNames(tg.Expr) {
				names[n] = true
			}
		}
	}
	for _, want := range []string{
		"capi_events_delivered_total", "capi_events_rejected_total", "capi_records_consumed_total",
		"capi_graph_request_duration_seconds_bucket", "capi_graph_requests_total", "capi_breaker_state",
		"capi_consumer_lag", "capi_in_flight_records", "capi_match_key_events_total", "capi_ready",
		"capi_destination_misconfigured",
	} {
		if !names[want] {
			t.Errorf("no panel shows %s", want)
		}
	}
	if got := dashboardExprs(t); !slices.ContainsFunc(got, func(e string) bool { return len(metricNames(e)) > 0 }) {
		t.Error("no expression names a metric")
	}
}
