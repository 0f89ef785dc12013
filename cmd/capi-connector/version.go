package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"

	"github.com/capi-connector/capi-connector/processor/service"
)

// version is stamped at build time: go build -ldflags "-X main.version=1.2.0" (make build VERSION=1.2.0, or the
// Dockerfile's VERSION build argument). Empty means "not stamped": the module version from the build info is shown
// instead ("(devel)" for a build from a checkout, the tag for go install …@v1.2.0).
var version string

// cmdVersion prints what the binary was built from.
func cmdVersion(fs *flag.FlagSet) action {
	asJSON := fs.Bool("json", false, "print one JSON object")
	return func(_ context.Context, _ []string, _ io.Reader, stdout, stderr io.Writer) error {
		b := service.ReadBuildInfo(version)
		if *asJSON {
			return json.NewEncoder(stdout).Encode(b)
		}
		b.WriteText(stdout)
		return nil
	}
}
