package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

const previewEvent = `{"event_name":"purchase","id":"ORD-1","value":59.9,"currency":"EUR","user":{"email":"jean.dupont@example.fr","firstname":"Jean","lastname":"Dupont","city":"Lyon","zipcode":"69003","country":"France"},"context":{"page":{"url":"https://shop.example.com/merci"},"device":{"ip":"203.0.113.7","user_agent":"Mozilla/5.0"}}}` + "\n"

// Flags go before or after the file; the mistakes say what the choices are and what the format looks like.
func TestPreviewFlags(t *testing.T) {
	clearCAPIEnv(t)
	file := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(file, []byte(previewEvent), 0o600); err != nil {
		t.Fatal(err)
	}
	_, before, errOut := runMain(t, "preview", "--now", "2026-11-29T12:00:00Z", file)
	if !strings.Contains(before, `"event_time":1795953600`) {
		t.Fatalf("flags before the file: %s%s", before, errOut)
	}
	for _, args := range [][]string{
		{file, "--now", "2026-11-29T12:00:00Z"},
		{"--destination", "default", file, "--now=2026-11-29T12:00:00Z"},
	} {
		code, out, errOut := runMain(t, append([]string{"preview"}, args...)...)
		if code != exitOK || out != before {
			t.Errorf("preview %v: exit %d, output differs from flags-first:\n%s\n%s", args, code, out, errOut)
		}
	}
	if code, _, errOut := runMain(t, "preview", file, file); code != exitUsage || !strings.Contains(errOut, "at most one input file, got 2") {
		t.Errorf("two files: exit %d %s", code, errOut)
	}

	path := servicetest.WriteYAML(t, "destinations:\n  - {name: shop, pixel_id: \"1\", access_token: a}\n  - {name: shop-fr, pixel_id: \"2\", access_token: b}\n")
	code, _, errOut := runMain(t, "preview", "--config", path, "--destination", "shopp", file)
	if code != exitUsage || !strings.Contains(errOut, `--destination "shopp" is not configured; the destinations are: shop, shop-fr`) {
		t.Errorf("unknown destination: exit %d %s", code, errOut)
	}
	code, _, errOut = runMain(t, "preview", file, "--now", "yesterday")
	if code != exitUsage || !strings.Contains(errOut, `--now "yesterday" is not an RFC 3339 time: write it like 2026-11-29T12:00:00Z`) || strings.Contains(errOut, "2006-01-02") {
		t.Errorf("--now yesterday: exit %d %s", code, errOut)
	}
}
