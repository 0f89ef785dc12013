package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/capi-connector/capi-connector/processor/importer"
)

func runImport(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := realMain(append([]string{"import"}, args...), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestImportCommand(t *testing.T) {
	brokers := newSamplesCluster(t, kfake.SeedTopics(2, "events"))
	t.Setenv("CAPI_KAFKA_BROKERS", brokers)
	t.Setenv("CAPI_KAFKA_TOPIC", "events")
	dir := t.TempDir()
	csv := "\xEF\xBB\xBFevent_name;id;value;user.email\r\npurchase;A-1;59,90;a@example.fr\r\npurchase;A-2;oops;b@example.fr\r\n"
	path := filepath.Join(dir, "sales.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}

	// Without a rejects file the bad row is neither produced nor rejected: exit 1, the good row produced.
	code, out, errOut := runImport(t, "", path)
	if code != exitFail || !strings.Contains(out, "neither produced nor rejected  1") || !strings.Contains(errOut, "rows neither produced nor written") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// With one, exit 0; --json gives the summary as an object.
	rej := filepath.Join(dir, "rejects.csv")
	code, out, errOut = runImport(t, "", "--rejects", rej, "--json", path)
	var s importer.Summary
	if code != exitOK || json.Unmarshal([]byte(out), &s) != nil || s.Produced != 1 || s.RejectsWritten != 1 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	recs := readTopic(t, brokers, "events", 2)
	if string(recs[0].Key) != "A-1" || string(recs[1].Key) != "A-1" {
		t.Errorf("keys %q %q: both imports send the row's id", recs[0].Key, recs[1].Key)
	}
	// --resume after a complete import produces nothing.
	code, out, _ = runImport(t, "", "--rejects", rej, "--resume", path)
	if code != exitOK || !strings.Contains(out, "skipped (done in an earlier run)  2") {
		t.Errorf("resume of a complete import: exit %d\n%s", code, out)
	}

	// Dry run from standard input, JSON Lines, no Kafka needed.
	t.Setenv("CAPI_KAFKA_BROKERS", "")
	code, out, errOut = runImport(t, `{"event_name":"purchase","user":{"email":"a@example.fr"}}`+"\n", "--dry-run", "--format", "ndjson", "-")
	if code != exitOK || !strings.Contains(out, "DRY RUN") || !strings.Contains(out, "would produce           1") || !strings.Contains(out, "insufficient_user_data  1") {
		t.Errorf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestImportUsageErrors(t *testing.T) {
	t.Setenv("CAPI_KAFKA_BROKERS", "127.0.0.1:1")
	dir := t.TempDir()
	path := filepath.Join(dir, "a.csv")
	_ = os.WriteFile(path, []byte("event_name,id\npurchase,1\n"), 0o600)
	badMapping := filepath.Join(dir, "m.yaml")
	_ = os.WriteFile(badMapping, []byte("columns:\n  Nope: user.email\n"), 0o600)
	for _, args := range [][]string{
		{},
		{"--delimiter", "x", path},
		{"--decimal-comma", "maybe", path},
		{"--mapping", filepath.Join(dir, "missing.yaml"), path},
		{"--mapping", badMapping, "--dry-run", path},
		{"--encoding", "ebcdic", "--dry-run", path},
		{"--resume", "-"},
		{"--dry-run", filepath.Join(dir, "missing.csv")},
	} {
		if code, _, errOut := runImport(t, "", args...); code != exitUsage {
			t.Errorf("import %v: exit %d, want %d\n%s", args, code, exitUsage, errOut)
		}
	}
}
