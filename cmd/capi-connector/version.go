package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is stamped at build time: go build -ldflags "-X main.version=1.2.0" (make build VERSION=1.2.0, or the
// Dockerfile's VERSION build argument). Empty means "not stamped": the module version from the build info is shown
// instead ("(devel)" for a build from a checkout, the tag for go install …@v1.2.0).
var version string

// buildInfo is what `version` prints. Every field comes from the binary itself (the linker and runtime/debug), so it
// describes the running build, whatever the source tree says.
type buildInfo struct {
	Version   string `json:"version"`
	Module    string `json:"module"`
	ModuleVer string `json:"module_version"`
	Revision  string `json:"vcs_revision,omitempty"`
	Time      string `json:"vcs_time,omitempty"`
	Modified  bool   `json:"vcs_modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

func readBuildInfo(stamped string) buildInfo {
	b := buildInfo{Version: stamped, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b.Module, b.ModuleVer = bi.Main.Path, bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = b.ModuleVer
	}
	if b.Version == "" {
		b.Version = "(unknown)"
	}
	return b
}

func (b buildInfo) write(w io.Writer) {
	fmt.Fprintf(w, "capi-connector %s\n", b.Version)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-9s %s\n", k, v)
		}
	}
	mod := b.Module
	if b.ModuleVer != "" {
		mod += " " + b.ModuleVer
	}
	row("module", mod)
	rev := b.Revision
	if rev != "" && b.Modified {
		rev += " (modified)"
	}
	row("revision", rev)
	row("time", b.Time)
	row("go", b.GoVersion)
	row("platform", b.Platform)
}

// cmdVersion prints what the binary was built from.
func cmdVersion(fs *flag.FlagSet) action {
	asJSON := fs.Bool("json", false, "print one JSON object")
	return func(_ context.Context, _ []string, _ io.Reader, stdout, stderr io.Writer) error {
		b := readBuildInfo(version)
		if *asJSON {
			return json.NewEncoder(stdout).Encode(b)
		}
		b.write(stdout)
		return nil
	}
}
