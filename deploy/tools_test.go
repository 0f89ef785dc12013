// Package deploy holds no code: its tests check the deployment artefacts beside them (deploy/kubernetes,
// deploy/prometheus, deploy/grafana) against the connector — the configuration loader, the metrics a running
// connector exports — and with the real tools where they can be had (kustomize, promtool, a Prometheus server).
package deploy

import (
	"os"
	"os/exec"
	"testing"
)

// requireToolsEnv, when set to 1 (the Makefile does after installing the tools), turns a missing tool into a test
// failure instead of a skip, so CI cannot pass by skipping.
const requireToolsEnv = "DEPLOY_TOOLS_REQUIRED"

// tool returns the path of the named executable, or skips the test (fails it under DEPLOY_TOOLS_REQUIRED=1).
func tool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv(requireToolsEnv) == "1" {
		t.Fatalf("%s not on PATH (%s=1): %s", name, requireToolsEnv, install)
	}
	t.Skipf("%s not on PATH: %s (make test installs it)", name, install)
	return ""
}

const (
	installPrometheus = "apt-get install prometheus, or .ci/ensure-prometheus.sh"
	installKustomize  = "make deploy-tools (go install sigs.k8s.io/kustomize/kustomize/v5)"
	installValidator  = "make deploy-tools (go -C deploy/kubernetes/validate build -o $TOOLS_BIN/capi-k8s-validate .)"
)
