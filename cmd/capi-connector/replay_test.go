package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

// replayEnv starts a cluster holding a DLQ with one record per reason given, and points the CAPI_* environment
// at it the way a running service's environment would. It returns the brokers.
func replayEnv(t *testing.T, reasons ...reject.Reason) string {
	t.Helper()
	brokers := newSamplesCluster(t, kfake.SeedTopics(1, "events", "events.dlq", "elsewhere"))
	t.Setenv("CAPI_KAFKA_BROKERS", brokers)
	t.Setenv("CAPI_KAFKA_TOPIC", "events")
	t.Setenv("CAPI_DLQ_TOPIC", "events.dlq")
	t.Setenv("CAPI_KAFKA_GROUP", "svc")
	t.Setenv("CAPI_LOG_LEVEL", "warn")
	servicetest.DeadLetter(t, seed(brokers), "events.dlq", "events", reasons...)
	return brokers
}

func runReplay(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = realMain(append([]string{"replay"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestReplayCommandJSON(t *testing.T) {
	brokers := replayEnv(t, reject.FacebookRejected, reject.NoConsent, reject.EventTooOld)
	code, out, errOut := runReplay(t, "--reason", "facebook_rejected", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// The summary's keys are a contract (docs/dlq.md): read them by name.
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("not one JSON object (%v): %s", err, out)
	}
	field := func(path ...string) any {
		var v any = s
		for _, k := range path {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		return v
	}
	if field("dlq_topic") != "events.dlq" || !strings.HasPrefix(fmt.Sprint(field("group")), "svc-replay-") || field("dry_run") != false ||
		field("interrupted") != false || field("to") != "" || field("scanned") != 3.0 || field("replayed") != 1.0 ||
		field("skipped_filtered") != 2.0 || field("skipped_max_replays") != 0.0 || field("replayed_to", "events") != 1.0 ||
		field("by_reason", "facebook_rejected", "replayed") != 1.0 || field("by_reason", "no_consent", "scanned") != 1.0 {
		t.Errorf("summary %s", out)
	}
	if got := readTopic(t, brokers, "events", 1); string(got[0].Key) != "facebook_rejected" {
		t.Errorf("replayed %q", got[0].Key)
	}
	// The same command resumes from its checkpoint: nothing left.
	code, out, _ = runReplay(t, "--reason", "facebook_rejected", "--json")
	if code != exitOK || !strings.Contains(out, `"scanned":0`) {
		t.Errorf("rerun exit %d: %s", code, out)
	}
	// A different selection has its own checkpoint.
	code, out, _ = runReplay(t, "--reason", "event_too_old", "--json", "--to", "elsewhere")
	if code != exitOK || !strings.Contains(out, `"replayed":1`) || !strings.Contains(out, `"to":"elsewhere"`) {
		t.Errorf("other selection exit %d: %s", code, out)
	}
}

func TestReplayCommandDefaultExclusion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no reason: no_consent excluded", nil, []string{"event_too_old", "facebook_rejected"}},
		{"explicit empty exclusion", []string{"--exclude-reason", ""}, []string{"event_too_old", "facebook_rejected", "no_consent"}},
		{"explicit reason", []string{"--reason", "no_consent,event_too_old"}, []string{"event_too_old", "no_consent"}},
		{"explicit exclusion replaces the default", []string{"--exclude-reason", "event_too_old"}, []string{"facebook_rejected", "no_consent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers := replayEnv(t, reject.FacebookRejected, reject.NoConsent, reject.EventTooOld)
			code, out, errOut := runReplay(t, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got []string
			for _, r := range readTopic(t, brokers, "events", len(tt.want)) {
				got = append(got, string(r.Key))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("replayed %v, want %v\n%s", got, tt.want, out)
			}
		})
	}
}

func TestReplayCommandDryRun(t *testing.T) {
	brokers := replayEnv(t, reject.FacebookRejected, reject.NoConsent)
	code, out, errOut := runReplay(t, "--dry-run", "--reason", "facebook_rejected,event_too_old")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"DRY RUN", "would replay", "facebook_rejected", "no_consent", "sample of the records to replay", `note: no record scanned has reason "event_too_old"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if ends := servicetest.EndOffsets(t, seed(brokers), "events"); ends[0] != 0 {
		t.Errorf("dry run produced %d records", ends[0])
	}
}

func TestReplayCommandUsage(t *testing.T) {
	replayEnv(t)
	for _, args := range [][]string{
		{"--from", "yesterday"},
		{"--until", "2025-13-01T00:00:00Z"},
		{"--from", "2025-03-02T00:00:00Z", "--until", "2025-03-01T00:00:00Z"},
		{"--start-offsets", "0=1"},
		{"--start-offsets", "0:1,0:2"},
		{"--max-replays", "0"},
		{"--to", "events.dlq"},
		{"stray"},
	} {
		if code, _, errOut := runReplay(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errOut)
		}
	}
	t.Setenv("CAPI_KAFKA_BROKERS", "not-a-host-port")
	if code, _, errOut := runReplay(t); code != exitConfig || !strings.Contains(errOut, "kafka.brokers") {
		t.Errorf("bad brokers: exit %d (%s)", code, errOut)
	}
}

// The mistakes: an unknown reason is refused before connecting (nothing listens at the brokers here), with
// the valid reasons listed; a --to topic that does not exist is refused before anything is read, with no summary.
func TestReplayRefusesMistakesBeforeWork(t *testing.T) {
	clearCAPIEnv(t)
	t.Setenv("CAPI_KAFKA_BROKERS", servicetest.ClosedAddr(t))
	start := time.Now()
	code, out, errOut := runReplay(t, "--reason", "facebok_rejected")
	if code != exitUsage || !strings.Contains(errOut, "unknown reason facebok_rejected; the reasons are no_consent, ") ||
		!strings.Contains(errOut, "facebook_rejected") || out != "" {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s: the reason must be checked before connecting", d)
	}

	replayEnv(t, reject.FacebookRejected)
	code, out, errOut = runReplay(t, "--reason", "facebook_rejected", "--to", "nonexistent-topic")
	if code != exitUsage || !strings.Contains(errOut, `target topic "nonexistent-topic" does not exist`) || out != "" {
		t.Errorf("--to nonexistent-topic: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}
