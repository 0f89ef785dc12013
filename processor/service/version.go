package service

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// BuildInfo is what `capi-connector version` prints. Every field comes from the binary itself (the linker and runtime/debug), so it
// describes the running build, whatever the source tree says.
type BuildInfo struct {
	Version   string `json:"version"`
	Module    string `json:"module"`
	ModuleVer string `json:"module_version"`
	Revision  string `json:"vcs_revision,omitempty"`
	Time      string `json:"vcs_time,omitempty"`
	Modified  bool   `json:"vcs_modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// ReadBuildInfo describes the running binary; stamped is the version set at build time with -ldflags
// "-X main.version=…" ("" when not stamped: the module version is shown instead).
func ReadBuildInfo(stamped string) BuildInfo {
	b := BuildInfo{Version: stamped, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
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

// WriteText writes the build information as version prints it: the version, then one indented line a field.
func (b BuildInfo) WriteText(w io.Writer) {
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
