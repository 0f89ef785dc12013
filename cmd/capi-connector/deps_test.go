package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestBinaryDoesNotLinkTesting guards the service binary against package testing (and so the test flags and
// helpers) creeping in through a non-test package, as the benchmark harness and the simulator once did.
func TestBinaryDoesNotLinkTesting(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if slices.Contains(strings.Fields(string(out)), "testing") {
		t.Fatal("the capi-connector binary links package testing; find the non-test importer with go list -deps -f '{{.ImportPath}} {{.Imports}}' .")
	}
}
