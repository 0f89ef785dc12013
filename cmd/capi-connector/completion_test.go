package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/capi-connector/capi-connector/processor/reject"
)

// The bash script completes commands, a command's flags and replay's reasons: run in bash as the shell would.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	code, script, errOut := runMain(t, "completion", "bash")
	if code != exitOK {
		t.Fatalf("completion bash: exit %d: %s", code, errOut)
	}
	path := filepath.Join(t.TempDir(), "c.bash")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	complete := func(words ...string) []string {
		t.Helper()
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		prog := "source " + path + "; COMP_WORDS=(capi-connector " + strings.Join(quoted, " ") + "); COMP_CWORD=" +
			itoa(len(words)) + "; _capi_connector; printf '%s\\n' \"${COMPREPLY[@]}\""
		out, err := exec.Command(bash, "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	if got := complete("rep"); strings.Join(got, " ") != "replay" {
		t.Errorf("'rep' completes to %v", got)
	}
	if got := complete("replay", "--ex"); strings.Join(got, " ") != "--exclude-reason" {
		t.Errorf("'replay --ex' completes to %v", got)
	}
	if got := complete("replay", "--reason", "facebook"); strings.Join(got, " ") != string(reject.FacebookRejected) {
		t.Errorf("'replay --reason facebook' completes to %v", got)
	}
	if got := complete("check-config", "--o"); strings.Join(got, " ") != "--online" {
		t.Errorf("'check-config --o' completes to %v", got)
	}
	if got := complete("completion", "f"); strings.Join(got, " ") != "fish" {
		t.Errorf("'completion f' completes to %v", got)
	}
	for _, shell := range []string{"zsh", "fish"} {
		code, out, _ := runMain(t, "completion", shell)
		if code != exitOK || !strings.Contains(out, "replay") || !strings.Contains(out, "exclude-reason") {
			t.Errorf("completion %s: exit %d\n%s", shell, code, out)
		}
		if sh, err := exec.LookPath(shell); err == nil {
			if out, err := exec.Command(sh, "-n", "-c", out).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		}
	}
	if code, _, _ := runMain(t, "completion", "powershell"); code != exitUsage {
		t.Errorf("completion powershell: exit %d, want %d", code, exitUsage)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
