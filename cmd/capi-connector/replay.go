package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/processor/service"
)

// cmdReplay re-produces dead-lettered records (docs/dlq.md). Brokers, topics, group and security come from the
// same configuration as run (file and/or CAPI_* environment), so in a running service's environment
// `capi-connector replay --reason facebook_rejected` needs no other flag. Progress goes to stderr when it is a
// terminal; the summary goes to stdout (also after an error or an interrupt, saying how far it got).
func cmdReplay(fs *flag.FlagSet) action {
	var reasons, excluded, dests, srcTopics replayList
	cfgPath := fs.String("config", "", "configuration file (default: CAPI_* environment only); only its kafka section is used")
	fs.Var(&reasons, "reason", "replay only records with this capi-reason (repeatable or comma-separated; default: every reason not excluded)")
	fs.Var(&excluded, "exclude-reason", "never replay records with this capi-reason (repeatable or comma-separated; default: no_consent when no --reason is given; '' excludes nothing)")
	fs.Var(&dests, "destination", "replay only records that failed for this destination (capi-destination; repeatable or comma-separated)")
	fs.Var(&srcTopics, "source-topic", "replay only records read from this topic (capi-source-topic; repeatable or comma-separated)")
	from := fs.String("from", "", "replay only records that failed at or after this time (RFC 3339, e.g. 2025-03-10T00:00:00Z)")
	until := fs.String("until", "", "replay only records that failed before this time (RFC 3339)")
	startOffsets := fs.String("start-offsets", "", "start DLQ partitions at these offsets, e.g. 0:120,3:0 (a later checkpoint of the group still wins)")
	to := fs.String("to", "", "produce every record to this topic (default: the record's capi-source-topic, else the first configured source topic)")
	maxReplays := fs.Int("max-replays", 3, "refuse records already replayed this many times (capi-replay-count); they are reported, not produced")
	dryRun := fs.Bool("dry-run", false, "read and count without producing or recording progress")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	group := fs.String("group", "", "consumer group holding the replay's progress (default: <kafka.group>-replay-<selection fingerprint>, so rerunning the same command resumes it)")
	sample := fs.Int("sample", 5, "describe this many selected records (and refused ones) in the summary")
	batch := fs.Int("batch", 500, "records read, produced and checkpointed per step")
	return func(ctx context.Context, _ []string, _ io.Reader, stdout, stderr io.Writer) error {
		if *maxReplays < 1 {
			return usagef("--max-replays must be ≥ 1, got %d", *maxReplays)
		}
		if *sample < 0 || *batch < 1 {
			return usagef("--sample must be ≥ 0 and --batch ≥ 1")
		}
		filter := dlq.Filter{
			Reasons:        replayReasons(reasons.vals),
			ExcludeReasons: replayReasons(excluded.vals),
			Destinations:   dests.vals,
			SourceTopics:   srcTopics.vals,
		}
		if !excluded.set && !reasons.set {
			filter.ExcludeReasons = dlq.DefaultExcludedReasons()
		}
		var err error
		if filter.From, err = parseReplayTime("from", *from); err != nil {
			return err
		}
		if filter.Until, err = parseReplayTime("until", *until); err != nil {
			return err
		}
		starts, err := dlq.ParseStartOffsets(*startOffsets)
		if err != nil {
			return usagef("--start-offsets: %v", err)
		}

		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		o := dlq.Options{Group: *group, Filter: filter, To: strings.TrimSpace(*to), MaxReplays: *maxReplays, StartOffsets: starts,
			DryRun: *dryRun, Sample: *sample, BatchSize: *batch}
		if *sample == 0 {
			o.Sample = -1
		}
		err = service.Replay(ctx, cfg, o, *asJSON, stdout, stderr)
		if errors.Is(err, dlq.ErrInvalidOptions) {
			return usagef("%v", err)
		}
		return err
	}
}

// replayList is a repeatable, comma-separated flag; set tells an explicit empty value from an absent flag.
type replayList struct {
	vals []string
	set  bool
}

func (l *replayList) String() string { return strings.Join(l.vals, ",") }

func (l *replayList) Set(v string) error {
	l.set = true
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" && !slices.Contains(l.vals, item) {
			l.vals = append(l.vals, item)
		}
	}
	return nil
}

func replayReasons(vs []string) []reject.Reason {
	out := make([]reject.Reason, len(vs))
	for i, v := range vs {
		out[i] = reject.Reason(v)
	}
	return out
}

func parseReplayTime(flagName, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, usagef("--%s: %q is not an RFC 3339 time such as 2025-03-10T14:00:00Z", flagName, v)
	}
	return t, nil
}
