package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	rulesFile     = "prometheus/alerts.yml"
	rulesTestFile = "prometheus/alerts_test.yml"
	runbookFile   = "../docs/runbook.md"
)

type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T, p string) ruleFile {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(data, &rf); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return rf
}

func allRules(rf ruleFile) []rule {
	var out []rule
	for _, g := range rf.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// promtool validates the rules and runs their unit tests (alerts_test.yml).
func TestAlertRulesPromtool(t *testing.T) {
	promtool := tool(t, "promtool", installPrometheus)
	for _, args := range [][]string{
		{"check", "rules", rulesFile},
		{"test", "rules", rulesTestFile},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// Every alert says what happened and what to do, has a runbook section, a severity, and unit tests that show it
// firing and not firing.
func TestAlertRulesDocumentedAndTested(t *testing.T) {
	rf := loadRules(t, rulesFile)
	runbook, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	anchors := markdownAnchors(string(runbook))
	tests := loadRuleTests(t)

	alerts := 0
	for _, r := range allRules(rf) {
		if r.Alert == "" {
			continue
		}
		alerts++
		t.Run(r.Alert, func(t *testing.T) {
			for _, a := range []string{"summary", "description", "runbook"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("no %s annotation", a)
				}
			}
			if d := r.Annotations["description"]; len(d) < 80 {
				t.Errorf("description %q is too short to say what to do", d)
			}
			file, anchor, _ := strings.Cut(r.Annotations["runbook"], "#")
			if filepath.ToSlash(filepath.Join("..", file)) != filepath.ToSlash(runbookFile) || !anchors[anchor] {
				t.Errorf("runbook %q: want docs/runbook.md#<a heading of docs/runbook.md>", r.Annotations["runbook"])
			}
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" {
				t.Errorf("severity %q, want critical or warning", sev)
			}
			fires, quiet := tests[r.Alert][true], tests[r.Alert][false]
			if fires == 0 || quiet == 0 {
				t.Errorf("alerts_test.yml: %d evaluations where it fires, %d where it must not; want both", fires, quiet)
			}
		})
	}
	if alerts < 8 {
		t.Errorf("%d alerts, want at least the 8 of the issue", alerts)
	}
}

// loadRuleTests counts, per alert name, the alert_rule_test evaluations expecting alerts (true) and none (false).
func loadRuleTests(t *testing.T) map[string]map[bool]int {
	t.Helper()
	data, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			AlertRuleTest []struct {
				AlertName string           `yaml:"alertname"`
				ExpAlerts []map[string]any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", rulesTestFile, err)
	}
	if !slices.Contains(f.RuleFiles, filepath.Base(rulesFile)) {
		t.Fatalf("%s does not test %s (rule_files %q)", rulesTestFile, rulesFile, f.RuleFiles)
	}
	out := map[string]map[bool]int{}
	for _, tc := range f.Tests {
		for _, a := range tc.AlertRuleTest {
			if out[a.AlertName] == nil {
				out[a.AlertName] = map[bool]int{}
			}
			out[a.AlertName][len(a.ExpAlerts) > 0]++
		}
	}
	return out
}

var headingRE = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*$`)

// markdownAnchors returns the GitHub-style anchors of the document's headings.
func markdownAnchors(doc string) map[string]bool {
	out := map[string]bool{}
	for _, m := range headingRE.FindAllStringSubmatch(doc, -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}
