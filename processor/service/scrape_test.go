package service_test

// What the service tests read from the ops server: an HTTP GET and the /metrics series.

import (
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// get fetches url and returns its status code and body.
func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // test
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// families is one /metrics scrape.
type families map[string]*dto.MetricFamily

func scrape(t testing.TB, base string) families {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := families{}
	for name, f := range mf {
		out[name] = f
		// Expose histogram counts and sums as plain series, the way PromQL names them.
		for _, m := range f.Metric {
			if h := m.GetHistogram(); h != nil {
				out.add(name+"_count", m.Label, float64(h.GetSampleCount()))
				out.add(name+"_sum", m.Label, h.GetSampleSum())
			}
		}
	}
	return out
}

func (f families) add(name string, labels []*dto.LabelPair, v float64) {
	fam := f[name]
	if fam == nil {
		fam = &dto.MetricFamily{Name: &name}
		f[name] = fam
	}
	fam.Metric = append(fam.Metric, &dto.Metric{Label: labels, Untyped: &dto.Untyped{Value: &v}})
}

func (f families) series(name string) []*dto.Metric {
	if fam := f[name]; fam != nil {
		return fam.Metric
	}
	return nil
}

// sum adds the values of name's series whose labels include want.
func (f families) sum(name string, want map[string]string) float64 {
	var total float64
	for _, m := range f.series(name) {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && have[k] == v
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	return total
}

func eq(want float64) func(float64) bool { return func(v float64) bool { return v == want } }
func gt(min float64) func(float64) bool  { return func(v float64) bool { return v > min } }
func ge(min float64) func(float64) bool  { return func(v float64) bool { return v >= min } }
