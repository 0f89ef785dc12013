package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/processor/service"
)

// cmdReplay re-produces dead-lettered records (PRODUCT.md §3). Brokers, topics, group and security come from the
// same configuration as run (file and/or CAPI_* environment), so in a running service's environment
// `capi-connector replay --reason facebook_rejected` needs no other flag. Progress goes to stderr when it is a
// terminal; the summary goes to stdout (also after an error or an interrupt, saying how far it got).
func cmdReplay(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
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
	if stop, err := parseFlags(fs, args); stop {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
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
	starts, err := parseStartOffsets(*startOffsets)
	if err != nil {
		return err
	}

	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if err := checkReplayConfig(cfg); err != nil {
		return err
	}
	log := service.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if log.GetLevel() < zerolog.WarnLevel && cfg.LogLevel != "debug" && cfg.LogLevel != "trace" {
		// franz-go's info messages (connections, producer ids) would drown the progress line.
		log = log.Level(zerolog.WarnLevel)
	}
	kopts, err := service.KafkaOpts(cfg.Kafka, log)
	if err != nil {
		return &configError{Err: err}
	}
	o := dlq.Options{
		Kafka:        kopts,
		DLQTopic:     cfg.Kafka.DLQTopic,
		Group:        *group,
		Filter:       filter,
		To:           strings.TrimSpace(*to),
		DefaultTo:    cfg.Kafka.Topics[0],
		MaxReplays:   *maxReplays,
		StartOffsets: starts,
		DryRun:       *dryRun,
		Sample:       *sample,
		BatchSize:    *batch,
	}
	if *sample == 0 {
		o.Sample = -1
	}
	if o.Group == "" {
		o.Group = cfg.Kafka.Group + "-replay-" + o.Fingerprint()
	}
	var progress *replayProgress
	if replayIsTerminal(stderr) {
		progress = &replayProgress{w: stderr}
		o.Progress = progress.print
	}
	r, err := dlq.New(o)
	if err != nil {
		return usagef("%v", err)
	}
	s, err := r.Run(ctx)
	if err != nil && errors.Is(err, dlq.ErrInvalidOptions) {
		return usagef("%v", err)
	}
	if progress != nil {
		progress.end()
	}
	if err == nil || s.Interrupted || s.Scanned > 0 {
		if perr := printReplaySummary(stdout, s, filter, *asJSON, *maxReplays); perr != nil && err == nil {
			err = perr
		}
	}
	return err
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

// parseStartOffsets reads "partition:offset,…".
func parseStartOffsets(v string) (map[int32]int64, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	out := map[int32]int64{}
	for item := range strings.SplitSeq(v, ",") {
		ps, os, ok := strings.Cut(strings.TrimSpace(item), ":")
		p, perr := strconv.ParseInt(ps, 10, 32)
		off, oerr := strconv.ParseInt(os, 10, 64)
		if !ok || perr != nil || oerr != nil || p < 0 || off < 0 {
			return nil, usagef("--start-offsets: %q is not partition:offset (e.g. 0:120)", item)
		}
		if _, dup := out[int32(p)]; dup {
			return nil, usagef("--start-offsets: partition %d is listed twice", p)
		}
		out[int32(p)] = off
	}
	return out, nil
}

// checkReplayConfig reports the configuration problems that concern replay (Kafka connection, topics, group, DLQ)
// and ignores the rest: replay needs no destination or decoder.
func checkReplayConfig(cfg config.Config) error {
	return checkKeys(cfg, "kafka.brokers", "kafka.topics", "kafka.group", "kafka.dlq_topic", "kafka.tls", "kafka.sasl", "kafka.client_id")
}

// replayIsTerminal reports whether w is a character device (a terminal), where a self-overwriting progress line helps;
// redirected to a file or a pipe it would only add noise.
func replayIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// replayProgress rewrites one stderr line: counts, rate and the time left to the snapshot end.
type replayProgress struct {
	w       io.Writer
	printed bool
}

func (p *replayProgress) print(pr dlq.Progress) {
	p.printed = true
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Scanned) / s
	}
	eta := "?"
	if rate > 0 && pr.Total >= pr.Scanned {
		eta = (time.Duration(float64(pr.Total-pr.Scanned)/rate) * time.Second).Round(time.Second).String()
	}
	pct := 100.0
	if pr.Total > 0 {
		pct = 100 * float64(pr.Scanned) / float64(pr.Total)
	}
	fmt.Fprintf(p.w, "\rscanned %d/%d (%.0f%%)  replayed %d  skipped %d  %.0f rec/s  ETA %s   ",
		pr.Scanned, pr.Total, pct, pr.Replayed, pr.Skipped, rate, eta)
}

func (p *replayProgress) end() {
	if p.printed {
		fmt.Fprintln(p.w)
		p.printed = false
	}
}

func printReplaySummary(w io.Writer, s dlq.Summary, f dlq.Filter, asJSON bool, maxReplays int) error {
	if asJSON {
		return json.NewEncoder(w).Encode(s)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	to := s.To
	if to == "" {
		to = "each record's source topic"
	}
	state := "done"
	switch {
	case s.Interrupted:
		state = "INTERRUPTED (rerun the same command to resume)"
	case s.DryRun:
		state = "DRY RUN: nothing produced, no progress recorded"
	}
	fmt.Fprintf(tw, "replay of\t%s → %s\n", s.DLQTopic, to)
	fmt.Fprintf(tw, "progress group\t%s\n", s.Group)
	fmt.Fprintf(tw, "state\t%s\n", state)
	replayed := "replayed"
	if s.DryRun {
		replayed = "would replay"
	}
	fmt.Fprintf(tw, "scanned\t%d\n", s.Scanned)
	fmt.Fprintf(tw, "%s\t%d\n", replayed, s.Replayed)
	fmt.Fprintf(tw, "skipped: filtered out\t%d\n", s.SkippedFiltered)
	fmt.Fprintf(tw, "skipped: same source record\t%d\n", s.SkippedDuplicate)
	fmt.Fprintf(tw, "refused: max replays (%d)\t%d\n", maxReplays, s.SkippedMaxReplays)
	fmt.Fprintf(tw, "elapsed\t%s\n", time.Duration(s.ElapsedSeconds*float64(time.Second)).Round(time.Millisecond))
	if len(s.ByReason) > 0 {
		fmt.Fprintf(tw, "\nreason\tscanned\t%s\n", replayed)
		for _, reason := range replaySortedKeys(s.ByReason) {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", reason, s.ByReason[reason].Scanned, s.ByReason[reason].Replayed)
		}
	}
	if len(s.ReplayedTo) > 0 {
		fmt.Fprintf(tw, "\ntopic\t%s\n", replayed)
		for _, t := range replaySortedKeys(s.ReplayedTo) {
			fmt.Fprintf(tw, "%s\t%d\n", t, s.ReplayedTo[t])
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Sample) > 0 {
		what := "replayed"
		if s.DryRun {
			what = "to replay"
		}
		fmt.Fprintf(w, "\nsample of the records %s:\n", what)
		if err := printReplaySamples(w, s.Sample); err != nil {
			return err
		}
	}
	if len(s.MaxReplaysSample) > 0 {
		fmt.Fprintf(w, "\nsample of refused records (replayed %d times already; left in the DLQ):\n", maxReplays)
		if err := printReplaySamples(w, s.MaxReplaysSample); err != nil {
			return err
		}
	}
	for _, reason := range f.Reasons {
		if _, ok := s.ByReason[string(reason)]; !ok && s.Scanned > 0 {
			fmt.Fprintf(w, "\nnote: no record scanned has reason %q (misspelt?)\n", reason)
		}
	}
	return nil
}

func printReplaySamples(w io.Writer, ss []dlq.SampleRecord) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  dlq\treason\tdestination\tsource\tfailed at\treplays\terror")
	for _, s := range ss {
		dest := s.Destination
		if dest == "" {
			dest = "(all)"
		}
		fmt.Fprintf(tw, "  %d:%d\t%s\t%s\t%s/%s/%s\t%s\t%d\t%s\n", s.Partition, s.Offset, s.Reason, dest,
			s.SourceTopic, s.SourcePartition, s.SourceOffset, s.FailedAt, s.ReplayCount, replayOneLine(s.Error, 100))
	}
	return tw.Flush()
}

// replayOneLine keeps a sample's error text to one table cell.
func replayOneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > limit {
		return string(r[:limit-1]) + "…"
	}
	return s
}

func replaySortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
