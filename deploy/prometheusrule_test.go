package deploy

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite generated files (kubernetes/components/alerts/prometheusrule.yaml)")

const prometheusRuleFile = "kubernetes/components/alerts/prometheusrule.yaml"

const prometheusRuleHeader = `# GENERATED from deploy/prometheus/alerts.yml by ` + "`go test ./deploy -run PrometheusRule -update`" + `: edit alerts.yml.
`

// The PrometheusRule of the alerts component carries exactly the groups of alerts.yml, the file promtool tests and
// the real Prometheus loads.
func TestPrometheusRuleInSync(t *testing.T) {
	var rules struct {
		Groups []any `yaml:"groups"`
	}
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatal(err)
	}
	type promRule struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name   string            `yaml:"name"`
			Labels map[string]string `yaml:"labels,omitempty"`
		} `yaml:"metadata"`
		Spec struct {
			Groups []any `yaml:"groups"`
		} `yaml:"spec"`
	}
	if *update {
		var pr promRule
		pr.APIVersion, pr.Kind = "monitoring.coreos.com/v1", "PrometheusRule"
		pr.Metadata.Name = "capi-connector"
		pr.Metadata.Labels = map[string]string{"app.kubernetes.io/name": "capi-connector"}
		pr.Spec.Groups = rules.Groups
		var buf bytes.Buffer
		buf.WriteString(prometheusRuleHeader)
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(pr); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(prometheusRuleFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(prometheusRuleFile)
	if err != nil {
		t.Fatal(err)
	}
	var pr promRule
	if err := yaml.Unmarshal(got, &pr); err != nil {
		t.Fatalf("%s: %v", prometheusRuleFile, err)
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" {
		t.Errorf("%s: %s %s, want monitoring.coreos.com/v1 PrometheusRule", prometheusRuleFile, pr.APIVersion, pr.Kind)
	}
	if !reflect.DeepEqual(pr.Spec.Groups, rules.Groups) {
		t.Errorf("%s differs from %s: run go test ./deploy -run PrometheusRule -update", prometheusRuleFile, rulesFile)
	}
}
