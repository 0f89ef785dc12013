package dlq_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

// mixed is a DLQ with every kind of record the filters distinguish.
var mixed = []failed{
	{key: "fb1", reason: reject.FacebookRejected, dest: "main", failedAt: t0},
	{key: "fb2", reason: reject.FacebookRejected, dest: "second", failedAt: t0.Add(time.Hour)},
	{key: "nc1", reason: reject.NoConsent, dest: "main", failedAt: t0},
	{key: "old1", reason: reject.EventTooOld, dest: "main", failedAt: t0.Add(2 * time.Hour)},
	{key: "dec1", reason: reject.SchemaError, dest: "", failedAt: t0.Add(3 * time.Hour)},
	{key: "oth1", reason: reject.FacebookRejected, dest: "main", srcTopic: "other", failedAt: t0.Add(4 * time.Hour)},
}

func TestReplayFilters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		filter dlq.Filter
		want   []string
	}{
		{"default excludes no_consent", dlq.Filter{ExcludeReasons: dlq.DefaultExcludedReasons()}, []string{"dec1", "fb1", "fb2", "old1", "oth1"}},
		{"nothing excluded", dlq.Filter{}, []string{"dec1", "fb1", "fb2", "nc1", "old1", "oth1"}},
		{"include one reason", dlq.Filter{Reasons: []reject.Reason{reject.FacebookRejected}}, []string{"fb1", "fb2", "oth1"}},
		{"include no_consent explicitly", dlq.Filter{Reasons: []reject.Reason{reject.NoConsent}}, []string{"nc1"}},
		{"exclude wins over include", dlq.Filter{Reasons: []reject.Reason{reject.FacebookRejected, reject.EventTooOld}, ExcludeReasons: []reject.Reason{reject.EventTooOld}}, []string{"fb1", "fb2", "oth1"}},
		{"destination", dlq.Filter{Destinations: []string{"second"}}, []string{"fb2"}},
		{"source topic", dlq.Filter{SourceTopics: []string{"other"}}, []string{"oth1"}},
		{"from inclusive", dlq.Filter{From: t0.Add(2 * time.Hour)}, []string{"dec1", "old1", "oth1"}},
		{"until exclusive", dlq.Filter{Until: t0.Add(time.Hour)}, []string{"fb1", "nc1"}},
		{"range and reason", dlq.Filter{From: t0.Add(30 * time.Minute), Until: t0.Add(5 * time.Hour), Reasons: []reject.Reason{reject.FacebookRejected}}, []string{"fb2", "oth1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kopts := newCluster(t)
			seed(t, kopts, mixed...)
			s := mustReplay(t, dlq.Options{Kafka: kopts, Filter: tt.filter})
			got := append(keys(servicetest.ReadAll(t, kopts, srcTopic)), keys(servicetest.ReadAll(t, kopts, "other"))...)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("replayed %v, want %v", got, tt.want)
			}
			if s.Replayed != int64(len(tt.want)) || s.Scanned != s.Replayed+s.SkippedFiltered {
				t.Errorf("summary scanned=%d replayed=%d skipped_filtered=%d, want replayed %d", s.Scanned, s.Replayed, s.SkippedFiltered, len(tt.want))
			}
			if tt.filter.From.IsZero() && s.Scanned != int64(len(mixed)) {
				t.Errorf("scanned %d, want %d", s.Scanned, len(mixed)) // without --from, every record is read
			}
		})
	}
}

func TestReplayRecordContents(t *testing.T) {
	t.Parallel()
	kopts := newCluster(t)
	seed(t, kopts, failed{key: "a", reason: reject.FacebookRejected, dest: "main", replayCount: 1})
	dl := servicetest.ReadAll(t, kopts, dlqTopic)[0]
	s := mustReplay(t, dlq.Options{Kafka: kopts})
	if s.ReplayedTo[srcTopic] != 1 {
		t.Fatalf("replayed_to = %v", s.ReplayedTo)
	}
	got := servicetest.ReadAll(t, kopts, srcTopic)
	if len(got) != 1 {
		t.Fatalf("got %d records", len(got))
	}
	r := got[0]
	if string(r.Key) != "a" || string(r.Value) != string(dl.Value) {
		t.Errorf("key/value changed: %q %q", r.Key, r.Value)
	}
	wantHeaders := []kgo.RecordHeader{{Key: "trace", Value: []byte("t-a")}, {Key: dlq.HeaderReplayCount, Value: []byte("2")}}
	if len(r.Headers) != len(wantHeaders) {
		t.Fatalf("headers %v, want %v", r.Headers, wantHeaders)
	}
	for i, h := range wantHeaders {
		if r.Headers[i].Key != h.Key || string(r.Headers[i].Value) != string(h.Value) {
			t.Errorf("header %d = %s=%s, want %s=%s", i, r.Headers[i].Key, r.Headers[i].Value, h.Key, h.Value)
		}
	}
	if want := t0.Add(-time.Hour); !r.Timestamp.Equal(want) {
		t.Errorf("timestamp %v, want the source record's %v", r.Timestamp, want)
	}
}

// The runtime dead-letters a replayed record that fails again with its replay count (dlq.Record carries it), so
// the limit holds across rounds.
func TestReplayCountSurvivesAnotherFailure(t *testing.T) {
	t.Parallel()
	src := &kgo.Record{Topic: srcTopic, Key: []byte("k"), Headers: []kgo.RecordHeader{{Key: dlq.HeaderReplayCount, Value: []byte("0")}}}
	for round := 1; round <= 3; round++ {
		d := dlq.Record(dlqTopic, src, dlq.Failure{Rejection: reject.New(reject.FacebookRejected, reject.StageDelivery, "x"), FailedAt: t0})
		src = dlq.ReplayRecord(d, srcTopic)
		if got := dlq.ReplayCount(src.Headers); got != round {
			t.Fatalf("round %d: replay count %d", round, got)
		}
	}
}

func TestReplayMaxReplays(t *testing.T) {
	t.Parallel()
	kopts := newCluster(t)
	seed(t, kopts,
		failed{key: "r0", reason: reject.FacebookRejected, replayCount: 0},
		failed{key: "r2", reason: reject.FacebookRejected, replayCount: 2},
		failed{key: "r3", reason: reject.FacebookRejected, replayCount: 3},
		failed{key: "r5", reason: reject.FacebookRejected, replayCount: 5},
	)
	s := mustReplay(t, dlq.Options{Kafka: kopts, MaxReplays: 3})
	wantKeys(t, kopts, srcTopic, "r0", "r2")
	if s.SkippedMaxReplays != 2 || len(s.MaxReplaysSample) != 2 {
		t.Fatalf("skipped_max_replays=%d sample=%v", s.SkippedMaxReplays, s.MaxReplaysSample)
	}
	for _, sr := range s.MaxReplaysSample {
		if sr.ReplayCount < 3 {
			t.Errorf("sample %+v was not over the limit", sr)
		}
	}
	counts := map[string]string{}
	for _, r := range servicetest.ReadAll(t, kopts, srcTopic) {
		v, _ := dlq.Header(r.Headers, dlq.HeaderReplayCount)
		counts[string(r.Key)] = v
	}
	if counts["r0"] != "1" || counts["r2"] != "3" {
		t.Errorf("replay counts %v, want r0=1 r2=3", counts)
	}
	// The refused records count as processed: a rerun finds nothing left.
	again := mustReplay(t, dlq.Options{Kafka: kopts, MaxReplays: 3})
	if again.Scanned != 0 {
		t.Errorf("rerun scanned %d, want 0", again.Scanned)
	}
}

func TestReplayDryRun(t *testing.T) {
	t.Parallel()
	kopts := newCluster(t)
	seed(t, kopts, mixed...)
	s := mustReplay(t, dlq.Options{Kafka: kopts, DryRun: true, Filter: dlq.Filter{Reasons: []reject.Reason{reject.FacebookRejected}}, Sample: 2})
	if n := len(servicetest.ReadAll(t, kopts, srcTopic)) + len(servicetest.ReadAll(t, kopts, "other")); n != 0 {
		t.Fatalf("dry run produced %d records", n)
	}
	if !s.DryRun || s.Replayed != 3 || s.Scanned != 6 || len(s.Sample) != 2 || s.ElapsedSeconds <= 0 {
		t.Fatalf("summary %+v", s)
	}
	wantByReason := map[string]dlq.ReasonCount{
		"facebook_rejected": {Scanned: 3, Replayed: 3}, "no_consent": {Scanned: 1}, "event_too_old": {Scanned: 1}, "schema_error": {Scanned: 1},
	}
	if !maps.Equal(s.ByReason, wantByReason) {
		t.Errorf("by_reason %v, want %v", s.ByReason, wantByReason)
	}
	if sr := s.Sample[0]; sr.Reason != "facebook_rejected" || sr.SourceTopic == "" || sr.To == "" || sr.FailedAt == "" {
		t.Errorf("sample %+v", sr)
	}
	// Nothing committed: the real run still sees everything.
	real := mustReplay(t, dlq.Options{Kafka: kopts, Filter: dlq.Filter{Reasons: []reject.Reason{reject.FacebookRejected}}})
	if real.Replayed != 3 {
		t.Errorf("real run after dry run replayed %d, want 3", real.Replayed)
	}
}

func TestReplayInterruptedResumes(t *testing.T) {
	t.Parallel()
	kopts := newCluster(t)
	fs := rejected(40, "k%02d")
	seed(t, kopts, fs...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := replay(t, ctx, dlq.Options{Kafka: kopts, BatchSize: 5, ProgressEvery: time.Nanosecond,
		Progress: func(p dlq.Progress) {
			if p.Replayed > 0 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) || !first.Interrupted {
		t.Fatalf("first run: err=%v interrupted=%v", err, first.Interrupted)
	}
	if first.Replayed == 0 || first.Replayed >= 40 {
		t.Fatalf("first run replayed %d, want a part", first.Replayed)
	}
	second := mustReplay(t, dlq.Options{Kafka: kopts, BatchSize: 5})
	if first.Replayed+second.Replayed != 40 || first.Scanned+second.Scanned != 40 {
		t.Errorf("replayed %d+%d, scanned %d+%d, want 40 in all", first.Replayed, second.Replayed, first.Scanned, second.Scanned)
	}
	var want []string
	for _, f := range fs {
		want = append(want, f.key)
	}
	wantKeys(t, kopts, srcTopic, want...) // each record once
}

func TestReplayStopsAtSnapshotEnd(t *testing.T) {
	t.Parallel()
	kopts := newCluster(t)
	seed(t, kopts, rejected(10, "k%d")...)
	added := false
	s := mustReplay(t, dlq.Options{Kafka: kopts, BatchSize: 2, ProgressEvery: time.Nanosecond, Progress: func(dlq.Progress) {
		if !added {
			added = true
			seed(t, kopts, failed{key: "late1", reason: reject.FacebookRejected}, failed{key: "late2", reason: reject.FacebookRejected})
		}
	}})
	if s.Scanned != 10 || s.Replayed != 10 {
		t.Fatalf("scanned %d replayed %d, want the 10 records present at start", s.Scanned, s.Replayed)
	}
	// The next run picks up the late ones only.
	next := mustReplay(t, dlq.Options{Kafka: kopts})
	if next.Replayed != 2 {
		t.Errorf("next run replayed %d, want 2", next.Replayed)
	}
}

// Which records a run replays, where to, and what its summary counts of the others.
func TestReplaySelection(t *testing.T) {
	t.Parallel()
	hourly := rejected(6, "k%d")
	for i := range hourly {
		hourly[i].failedAt = t0.Add(time.Duration(i) * time.Hour)
	}
	tests := []struct {
		name string
		seed []failed
		opts dlq.Options // Kafka is filled in
		to   string      // the topic the records land in; "" is srcTopic
		want []string    // keys replayed
		ok   func(dlq.Summary) bool
	}{
		// A reference record holds no value: replay skips and counts it rather than producing an empty record (a
		// tombstone) to the source topic.
		{"references skipped", []failed{{key: "whole", reason: reject.InvalidPayload}, {key: "ref", reason: reject.InvalidPayload, reference: true}},
			dlq.Options{}, "", []string{"whole"}, func(s dlq.Summary) bool { return s.SkippedReference == 1 && s.Replayed == 1 }},
		// One source record dead-lettered by two destinations is replayed once per run.
		{"one source record once per run", []failed{
			{key: "x", reason: reject.FacebookRejected, dest: "main", srcOffset: 7},
			{key: "x", reason: reject.FacebookRejected, dest: "second", srcOffset: 7},
			{key: "y", reason: reject.FacebookRejected, dest: "main", srcOffset: 8},
		}, dlq.Options{}, "", []string{"x", "y"}, func(s dlq.Summary) bool { return s.SkippedDuplicate == 1 }},
		{"to another topic", []failed{{key: "a", reason: reject.FacebookRejected}, {key: "b", reason: reject.FacebookRejected, srcTopic: "other"}},
			dlq.Options{To: "retarget"}, "retarget", []string{"a", "b"}, func(s dlq.Summary) bool { return s.To == "retarget" }},
		// Only the 2 records after --from are read: the start offsets come from an offset lookup by timestamp.
		{"from uses offset lookup", hourly, dlq.Options{Filter: dlq.Filter{From: t0.Add(4 * time.Hour)}}, "", []string{"k4", "k5"},
			func(s dlq.Summary) bool { return s.Scanned == 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kopts := newCluster(t)
			seed(t, kopts, tt.seed...)
			o := tt.opts
			o.Kafka = kopts
			s := mustReplay(t, o)
			to := cmp.Or(tt.to, srcTopic)
			wantKeys(t, kopts, to, tt.want...)
			if !tt.ok(s) {
				t.Errorf("summary %+v", s)
			}
			for _, topic := range []string{srcTopic, "other"} {
				if n := len(servicetest.ReadAll(t, kopts, topic)); topic != to && n != 0 {
					t.Errorf("%d records went to %s", n, topic)
				}
			}
		})
	}
}

func TestReplayStartOffsetsAndCheckpointPerGroup(t *testing.T) {
	t.Parallel()
	kopts := newCluster(t)
	seed(t, kopts, rejected(8, "k%d")...) // 4 per partition
	s := mustReplay(t, dlq.Options{Kafka: kopts, Group: "g1", StartOffsets: map[int32]int64{0: 3, 1: 4}})
	wantKeys(t, kopts, srcTopic, "k6")
	if s.Scanned != 1 {
		t.Fatalf("scanned %d, ranges %v", s.Scanned, s.Ranges)
	}
	// Another group has its own checkpoint.
	if s2 := mustReplay(t, dlq.Options{Kafka: kopts, Group: "g2"}); s2.Scanned != 8 {
		t.Errorf("group g2 scanned %d, want 8", s2.Scanned)
	}
}

func TestReplayErrors(t *testing.T) {
	t.Parallel()
	kopts := newCluster(t)
	if _, err := dlq.New(dlq.Options{DLQTopic: dlqTopic, Group: "g", To: dlqTopic}); !errors.Is(err, dlq.ErrInvalidOptions) {
		t.Errorf("target = DLQ: err %v", err)
	}
	if _, err := dlq.New(dlq.Options{DLQTopic: dlqTopic, Group: "g", DefaultTo: srcTopic, Filter: dlq.Filter{From: t0, Until: t0}}); !errors.Is(err, dlq.ErrInvalidOptions) {
		t.Errorf("empty range: err %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := replay(t, ctx, dlq.Options{Kafka: kopts, DLQTopic: "missing"}); err == nil {
		t.Error("missing DLQ topic: no error")
	}
	if _, err := replay(t, ctx, dlq.Options{Kafka: kopts, StartOffsets: map[int32]int64{9: 0}}); !errors.Is(err, dlq.ErrInvalidOptions) {
		t.Errorf("unknown partition: err %v", err)
	}
}

// Mistakes are refused before anything moves: an unknown reason (the set is fixed) before connecting, with the
// valid ones listed; a --to topic that does not exist before the DLQ is read.
func TestReplayRefusesMistakesFirst(t *testing.T) {
	for _, f := range []dlq.Filter{
		{Reasons: []reject.Reason{"facebok_rejected"}},
		{ExcludeReasons: []reject.Reason{reject.NoConsent, "no-consent"}},
	} {
		_, err := dlq.New(dlq.Options{DLQTopic: dlqTopic, Group: "g", DefaultTo: srcTopic, Filter: f})
		if !errors.Is(err, dlq.ErrInvalidOptions) || !strings.Contains(err.Error(), "facebook_rejected, missing_event_name") {
			t.Errorf("filter %+v: err %v, want the valid reasons listed", f, err)
		}
	}
	if _, err := dlq.New(dlq.Options{DLQTopic: dlqTopic, Group: "g", DefaultTo: srcTopic,
		Filter: dlq.Filter{Reasons: reject.All()}}); err != nil {
		t.Errorf("every known reason: %v", err)
	}

	kopts := newCluster(t)
	seed(t, kopts, mixed...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := replay(t, ctx, dlq.Options{Kafka: kopts, To: "nonexistent-topic"})
	if !errors.Is(err, dlq.ErrInvalidOptions) || !strings.Contains(err.Error(), `"nonexistent-topic" does not exist`) {
		t.Fatalf("--to a missing topic: err %v", err)
	}
	if s.Scanned != 0 || s.Replayed != 0 {
		t.Errorf("records were read before the target was checked: %+v", s)
	}
	if offs := servicetest.Committed(t, kopts, "replay-test", dlqTopic); len(offs) != 0 {
		t.Errorf("progress recorded: %v", offs)
	}
}

func TestSummaryJSONShape(t *testing.T) {
	t.Parallel()
	kopts := newCluster(t)
	seed(t, kopts, mixed...)
	s := mustReplay(t, dlq.Options{Kafka: kopts, DryRun: true})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dlq_topic", "group", "dry_run", "interrupted", "to", "scanned", "replayed", "skipped_filtered",
		"skipped_duplicate", "skipped_max_replays", "skipped_reference", "by_reason", "replayed_to", "ranges", "sample", "max_replays_sample", "elapsed_seconds"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON summary lacks %q: %s", k, b)
		}
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	base := dlq.Options{DLQTopic: dlqTopic, Filter: dlq.Filter{Reasons: []reject.Reason{"a", "b"}}}
	same := dlq.Options{DLQTopic: dlqTopic, Filter: dlq.Filter{Reasons: []reject.Reason{"b", "a"}}, MaxReplays: 3, DryRun: true, BatchSize: 7}
	if base.Fingerprint() != same.Fingerprint() {
		t.Error("order of reasons, defaults or run settings changed the fingerprint")
	}
	for name, o := range map[string]dlq.Options{
		"reason":  {DLQTopic: dlqTopic, Filter: dlq.Filter{Reasons: []reject.Reason{"a"}}},
		"to":      {DLQTopic: dlqTopic, Filter: base.Filter, To: "x"},
		"from":    {DLQTopic: dlqTopic, Filter: dlq.Filter{Reasons: base.Filter.Reasons, From: t0}},
		"max":     {DLQTopic: dlqTopic, Filter: base.Filter, MaxReplays: 5},
		"offsets": {DLQTopic: dlqTopic, Filter: base.Filter, StartOffsets: map[int32]int64{0: 1}},
	} {
		if o.Fingerprint() == base.Fingerprint() {
			t.Errorf("%s does not change the fingerprint", name)
		}
	}
}
