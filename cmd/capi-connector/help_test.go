package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// helpSection returns the lines of a section ("Examples") of a --help output, without their indent.
func helpSection(out, title string) []string {
	_, body, ok := strings.Cut(out, "\n"+title+":\n")
	if !ok {
		return nil
	}
	body, _, _ = strings.Cut(body, "\n\n")
	var lines []string
	for l := range strings.SplitSeq(strings.TrimRight(body, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	return lines
}

var updateHelp = flag.Bool("update", false, "rewrite testdata/help/*.golden from the current --help output")

// Every command answers --help with one paragraph, its flags with defaults, the environment it reads, two examples
// and its exit statuses, on stdout with status 0; the examples use only flags the command has. The whole output is
// pinned by testdata/help/<command>.golden (go test ./cmd/capi-connector -run Help -update rewrites them).
func TestEveryCommandHasHelp(t *testing.T) {
	flagRE := regexp.MustCompile(`(?m)^  (--[a-z0-9-]+)`)
	for name := range commands() {
		t.Run(name, func(t *testing.T) {
			text, err := helpFS.ReadFile("help/" + name + ".txt")
			if err != nil {
				t.Fatalf("no help/%s.txt: %v", name, err)
			}
			code, out, errOut := runMain(t, name, "--help")
			if code != exitOK || errOut != "" {
				t.Fatalf("%s --help: exit %d, stderr %q", name, code, errOut)
			}
			summary, rest, _ := strings.Cut(string(text), "\n\n")
			synopsis, rest, _ := strings.Cut(rest, "\n\n")
			about, _, _ := strings.Cut(rest, "\n\n")
			if summary == "" || strings.Contains(summary, "\n") {
				t.Errorf("help/%s.txt does not start with a one-line summary", name)
			}
			examples := helpSection(out, "Examples")
			if len(about) < 80 || len(examples) < 2 || len(helpSection(out, "Environment")) == 0 || len(helpSection(out, "Exit status")) < 2 {
				t.Errorf("incomplete help:\n%s", out)
			}
			for _, want := range []string{"usage: capi-connector " + strings.Fields(synopsis)[0], "\nEnvironment:\n", "\nExamples:\n", "\nExit status:\n  0 "} {
				if !strings.Contains(out, want) {
					t.Errorf("%s --help lacks %q:\n%s", name, want, out)
				}
			}
			flags := map[string]bool{"--help": true, "--version": true}
			for _, m := range flagRE.FindAllStringSubmatch(out, -1) {
				flags[m[1]] = true
			}
			for _, ex := range examples {
				if !strings.Contains(ex, "capi-connector") {
					t.Errorf("example %q does not run the binary", ex)
				}
				for _, word := range strings.Fields(ex) {
					if f, _, _ := strings.Cut(word, "="); strings.HasPrefix(f, "--") && !flags[f] && strings.Contains(ex, "capi-connector "+name) {
						t.Errorf("example %q uses %s, which %s does not have", ex, f, name)
					}
				}
			}
			if _, viaHelp, _ := runMain(t, "help", name); viaHelp != out {
				t.Errorf("'help %s' differs from '%s --help'", name, name)
			}
			checkGolden(t, name, out)
		})
	}
	files, err := helpFS.ReadDir("help")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(f.Name(), ".txt"); commands()[name].flags == nil {
			t.Errorf("help/%s, which is not a command", f.Name())
		}
	}
	_, out, _ := runMain(t, "--help")
	checkGolden(t, "capi-connector", out)
}

// checkGolden compares a --help output with testdata/help/<name>.golden.
func checkGolden(t *testing.T, name, out string) {
	t.Helper()
	path := filepath.Join("testdata", "help", name+".golden")
	if *updateHelp {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("%s --help differs from %s:\n%s", name, path, out)
	}
}

// A flag mistake is one line on stderr, naming the flag and where the help is, with status 2.
func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{{"run", "--bogus"}, {"replay", "--max-replays", "x"}, {"healthcheck", "--live=maybe"}} {
		code, out, errOut := runMain(t, args...)
		if code != exitUsage || out != "" {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
		if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 || !strings.Contains(errOut, "'capi-connector "+args[0]+" --help'") {
			t.Errorf("%v: want one line pointing at the help, got:\n%s", args, errOut)
		}
	}
}
