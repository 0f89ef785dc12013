package dlq

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/reject"
)

// Replay (docs/dlq.md) reads the DLQ topic from the replay group's checkpoint up to the end offsets seen at
// start, and re-produces the records that pass the filter to their source topic with capi-replay-count + 1.
//
// Guarantees:
//   - A DLQ offset is committed to the replay group only after every selected record before it was acknowledged
//     by the broker (acks=all, idempotent producer): an interrupted replay never skips a record.
//   - Cancelling the context stops at a batch boundary: the batch being produced is finished and committed (within
//     Options.DrainTimeout), so rerunning the same replay resumes without producing anything twice. Only a crash or
//     a drain timeout between the produce acknowledgment and the commit re-produces that batch on resume — harmless,
//     the events carry deterministic event_ids that Facebook deduplicates.
//   - Records produced during the run are never read back: the run stops at the end offsets snapshotted at start
//     (a replayed record that fails again lands in the DLQ after the snapshot, with its replay count carried over).
//   - Dry runs produce and commit nothing.

// Sentinel errors; match them with errors.Is.
var (
	// ErrInvalidOptions: New was given unusable options.
	ErrInvalidOptions = errors.New("invalid replay options")
	// ErrStalled: no record arrived for Options.IdleTimeout although the snapshot end was not reached (broker
	// unreachable, or records below the end offsets that can no longer be read).
	ErrStalled = errors.New("replay stalled")
)

// NoReason is the by_reason key of DLQ records without a capi-reason header.
const NoReason = "(none)"

// fromSlack widens the --from offset lookup: the lookup goes by record timestamp (set when the record was
// dead-lettered, or by the broker with LogAppendTime), the filter by capi-failed-at; a broker clock behind the
// service's by less than this skips nothing.
const fromSlack = 5 * time.Minute

// produceTimeout bounds how long a batch may wait for the broker's acknowledgment before the replay fails (with
// that batch uncommitted).
const produceTimeout = time.Minute

// DefaultExcludedReasons are excluded when a replay names no reason to include: an event refused for missing
// consent must not be re-sent because someone replayed "everything".
func DefaultExcludedReasons() []reject.Reason { return []reject.Reason{reject.NoConsent} }

// Filter selects DLQ records. Empty fields select everything.
type Filter struct {
	// Reasons to include (capi-reason); empty includes every reason not excluded.
	Reasons []reject.Reason
	// ExcludeReasons are never replayed, even if listed in Reasons. Applied as given: callers wanting the default
	// use DefaultExcludedReasons.
	ExcludeReasons []reject.Reason
	// Destinations to include (capi-destination). A record that failed for every destination (decode errors) has an
	// empty destination and matches no named destination.
	Destinations []string
	// SourceTopics to include (capi-source-topic).
	SourceTopics []string
	// From (inclusive) and Until (exclusive) bound the failure time: the capi-failed-at header, else the DLQ
	// record's timestamp. Zero means unbounded.
	From, Until time.Time
}

// Match reports whether the DLQ record r is selected.
func (f Filter) Match(r *kgo.Record) bool {
	reason, _ := Header(r.Headers, HeaderReason)
	if len(f.Reasons) > 0 && !slices.Contains(f.Reasons, reject.Reason(reason)) {
		return false
	}
	if slices.Contains(f.ExcludeReasons, reject.Reason(reason)) {
		return false
	}
	if len(f.Destinations) > 0 {
		d, _ := Header(r.Headers, HeaderDestination)
		if !slices.Contains(f.Destinations, d) {
			return false
		}
	}
	if len(f.SourceTopics) > 0 {
		t, _ := Header(r.Headers, HeaderSourceTopic)
		if !slices.Contains(f.SourceTopics, t) {
			return false
		}
	}
	if !f.From.IsZero() || !f.Until.IsZero() {
		at := FailedAt(r)
		if !f.From.IsZero() && at.Before(f.From) {
			return false
		}
		if !f.Until.IsZero() && !at.Before(f.Until) {
			return false
		}
	}
	return true
}

// FailedAt is when the DLQ record r was dead-lettered: its capi-failed-at header, else its timestamp.
func FailedAt(r *kgo.Record) time.Time {
	if v, ok := Header(r.Headers, HeaderFailedAt); ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t
		}
	}
	return r.Timestamp
}

// ReplayRecord is the record to re-produce to topic for the DLQ record r: the source key, value and non-capi
// headers (shared with r), capi-replay-count one more than r's, and the source record's timestamp when r carries it
// (capi-source-timestamp), else r's own.
func ReplayRecord(r *kgo.Record, topic string) *kgo.Record {
	hs := make([]kgo.RecordHeader, 0, len(r.Headers)+1)
	for _, h := range r.Headers {
		if !strings.HasPrefix(h.Key, headerPrefix) {
			hs = append(hs, h)
		}
	}
	hs = append(hs, kgo.RecordHeader{Key: HeaderReplayCount, Value: []byte(strconv.Itoa(ReplayCount(r.Headers) + 1))})
	ts := r.Timestamp
	if v, ok := Header(r.Headers, HeaderSourceTimestamp); ok {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
			ts = time.UnixMilli(ms)
		}
	}
	return &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: hs, Timestamp: ts}
}

// Options configure a Replayer. Zero values take the documented defaults.
type Options struct {
	// Kafka are the connection options (seed brokers, TLS, SASL, client id, logger), the same as the service's.
	// Producer acks and consumer assignment are set by the replayer.
	Kafka []kgo.Opt
	// DLQTopic is read. Required.
	DLQTopic string
	// Group is the consumer group whose committed offsets are the replay's checkpoint. Required. It only stores
	// offsets (the replayer assigns partitions itself, it never joins): two replays sharing a group at the same time
	// would overwrite each other's progress. The checkpoint is valid for one selection only — see Fingerprint.
	Group  string
	Filter Filter
	// To is the topic every selected record goes to. Empty sends each record to its capi-source-topic, or to
	// DefaultTo when the header is missing.
	To        string
	DefaultTo string
	// MaxReplays refuses records already replayed that many times (capi-replay-count ≥ MaxReplays): they are
	// reported, not produced, and their offset counts as processed. Default 3.
	MaxReplays int
	// StartOffsets sets where partitions start (partition → offset) when the group has no later checkpoint.
	StartOffsets map[int32]int64
	// DryRun reads and counts without producing or committing.
	DryRun bool
	// Sample is how many selected records (and how many refused ones) the summary describes. Default 5; negative
	// means none.
	Sample int
	// BatchSize is the most records read, produced and committed per step. Larger is faster; an interruption
	// always finishes the step in progress. Default 500.
	BatchSize int
	// Progress, when set, is called at most every ProgressEvery (default 1s) while the replay runs, and once at the
	// end, from the goroutine that called Run.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// IdleTimeout fails the replay with ErrStalled when no record arrives for that long before the snapshot end is
	// reached. Default 30s.
	IdleTimeout time.Duration
	// DrainTimeout bounds how long the batch in progress may take to be produced and committed after the context is
	// cancelled. Default 30s.
	DrainTimeout time.Duration
}

// Fingerprint identifies the selection (DLQ topic, filter, start offsets, target topic, max replays): a replay
// group's checkpoint only holds for the selection that wrote it, since records skipped by one filter were never
// examined by another. Callers derive the default group name from it, so rerunning a command resumes it while a
// different selection starts afresh.
func (o Options) Fingerprint() string {
	h := sha256.New()
	w := func(k string, vs ...string) {
		vs = slices.Clone(vs)
		slices.Sort(vs)
		fmt.Fprintf(h, "%s=%q\n", k, vs)
	}
	reasons := func(rs []reject.Reason) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = string(r)
		}
		return out
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	var starts []string
	for p, off := range o.StartOffsets {
		starts = append(starts, fmt.Sprintf("%d:%d", p, off))
	}
	w("dlq", o.DLQTopic)
	w("reasons", reasons(o.Filter.Reasons)...)
	w("exclude", reasons(o.Filter.ExcludeReasons)...)
	w("destinations", o.Filter.Destinations...)
	w("source_topics", o.Filter.SourceTopics...)
	w("from", ts(o.Filter.From))
	w("until", ts(o.Filter.Until))
	w("start", starts...)
	w("to", o.To)
	w("max_replays", strconv.Itoa(o.maxReplays()))
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func (o Options) maxReplays() int {
	if o.MaxReplays == 0 {
		return 3
	}
	return o.MaxReplays
}

// Progress is a snapshot of a running replay.
type Progress struct {
	Scanned  int64 // DLQ records read so far
	Replayed int64 // produced and acknowledged (dry run: selected)
	Skipped  int64 // filtered out, duplicates, refused for max replays
	// Total is the number of offsets between the start positions and the snapshot end: Scanned reaches it when
	// the replay ends (unless offsets are missing, e.g. compacted).
	Total   int64
	Elapsed time.Duration
}

// Summary is the outcome of a replay. Its JSON form is the --json output of capi-connector replay.
type Summary struct {
	DLQTopic    string `json:"dlq_topic"`
	Group       string `json:"group"`
	DryRun      bool   `json:"dry_run"`
	Interrupted bool   `json:"interrupted"`
	// To is the target topic when one was forced; "" when each record went to its capi-source-topic.
	To       string `json:"to"`
	Scanned  int64  `json:"scanned"`
	Replayed int64  `json:"replayed"` // dry run: would be replayed
	// SkippedFiltered did not match the filter; SkippedDuplicate had the same source record (topic, partition,
	// offset) as a record already replayed in this run (one source record is dead-lettered once per destination
	// that refused it; re-producing it once reaches them all); SkippedMaxReplays were refused by MaxReplays.
	SkippedFiltered   int64 `json:"skipped_filtered"`
	SkippedDuplicate  int64 `json:"skipped_duplicate"`
	SkippedMaxReplays int64 `json:"skipped_max_replays"`
	// SkippedReference are reference records (capi-value-omitted: the source record was too large for the DLQ
	// topic): they hold no value to replay; the original is still in the source topic at capi-source-offset.
	SkippedReference int64                  `json:"skipped_reference"`
	ByReason         map[string]ReasonCount `json:"by_reason"`
	ReplayedTo       map[string]int64       `json:"replayed_to"` // target topic → records
	// Ranges are the offsets examined per partition (Start inclusive, End exclusive: the snapshot end).
	Ranges           []Range        `json:"ranges"`
	Sample           []SampleRecord `json:"sample"`
	MaxReplaysSample []SampleRecord `json:"max_replays_sample"`
	ElapsedSeconds   float64        `json:"elapsed_seconds"`
}

// ReasonCount counts records of one capi-reason.
type ReasonCount struct {
	Scanned  int64 `json:"scanned"`
	Replayed int64 `json:"replayed"`
}

// Range is the part of one DLQ partition a replay examined.
type Range struct {
	Partition int32 `json:"partition"`
	Start     int64 `json:"start"`
	End       int64 `json:"end"`
}

// SampleRecord describes one DLQ record without its key or value (which may hold personal data).
type SampleRecord struct {
	Partition       int32  `json:"partition"`
	Offset          int64  `json:"offset"`
	Reason          string `json:"reason"`
	Stage           string `json:"stage,omitempty"`
	Destination     string `json:"destination,omitempty"`
	SourceTopic     string `json:"source_topic,omitempty"`
	SourcePartition string `json:"source_partition,omitempty"`
	SourceOffset    string `json:"source_offset,omitempty"`
	FailedAt        string `json:"failed_at,omitempty"`
	ReplayCount     int    `json:"replay_count"`
	Error           string `json:"error,omitempty"`
	To              string `json:"to,omitempty"`
}

func sampleOf(r *kgo.Record, to string) SampleRecord {
	h := func(k string) string { v, _ := Header(r.Headers, k); return v }
	reason := h(HeaderReason)
	if reason == "" {
		reason = NoReason
	}
	return SampleRecord{
		Partition: r.Partition, Offset: r.Offset, Reason: reason, Stage: h(HeaderStage), Destination: h(HeaderDestination),
		SourceTopic: h(HeaderSourceTopic), SourcePartition: h(HeaderSourcePartition), SourceOffset: h(HeaderSourceOffset),
		FailedAt: h(HeaderFailedAt), ReplayCount: ReplayCount(r.Headers), Error: h(HeaderError), To: to,
	}
}

// Replayer re-produces dead-lettered records. Create it with New; each Run is a separate pass (a second Run
// resumes from the checkpoint the first one left).
type Replayer struct {
	o Options
}

// New checks o and applies the defaults.
func New(o Options) (*Replayer, error) {
	var problems []string
	if o.DLQTopic == "" {
		problems = append(problems, "the DLQ topic is required")
	}
	if o.Group == "" {
		problems = append(problems, "the replay group is required")
	}
	if o.To == "" && o.DefaultTo == "" {
		problems = append(problems, "a target topic (or a default for records without capi-source-topic) is required")
	}
	if o.DLQTopic != "" && (o.To == o.DLQTopic || o.DefaultTo == o.DLQTopic) {
		problems = append(problems, fmt.Sprintf("the target topic cannot be the DLQ topic %q (records would loop)", o.DLQTopic))
	}
	if o.MaxReplays < 0 {
		problems = append(problems, "max replays must be at least 1")
	}
	if !o.Filter.From.IsZero() && !o.Filter.Until.IsZero() && !o.Filter.From.Before(o.Filter.Until) {
		problems = append(problems, "the time range is empty (from must be before until)")
	}
	var unknown []string
	for _, r := range slices.Concat(o.Filter.Reasons, o.Filter.ExcludeReasons) {
		if !reject.Known(r) && !slices.Contains(unknown, string(r)) {
			unknown = append(unknown, string(r))
		}
	}
	if len(unknown) > 0 {
		valid := make([]string, 0, len(reject.All()))
		for _, r := range reject.All() {
			valid = append(valid, string(r))
		}
		problems = append(problems, fmt.Sprintf("unknown reason %s; the reasons are %s", strings.Join(unknown, ", "), strings.Join(valid, ", ")))
	}
	for p, off := range o.StartOffsets {
		if off < 0 {
			problems = append(problems, fmt.Sprintf("start offset of partition %d is negative", p))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidOptions, strings.Join(problems, "; "))
	}
	o.MaxReplays = o.maxReplays()
	if o.Sample == 0 {
		o.Sample = 5
	}
	o.BatchSize = positiveOr(o.BatchSize, 500)
	o.ProgressEvery = positiveOr(o.ProgressEvery, time.Second)
	o.IdleTimeout = positiveOr(o.IdleTimeout, 30*time.Second)
	o.DrainTimeout = positiveOr(o.DrainTimeout, 30*time.Second)
	return &Replayer{o: o}, nil
}

// positiveOr is v when it is positive, else the default def.
func positiveOr[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// run is the state of one Run.
type run struct {
	o       Options
	s       Summary
	prod    *kgo.Client
	adm     *kadm.Client
	cons    *kgo.Client
	started time.Time
	total   int64
	end     map[int32]int64 // snapshot end per partition still being read
	seen    map[string]bool // source records replayed in this run
}

// Run replays until the snapshot end offsets are reached, ctx is cancelled (the summary then says Interrupted and
// the error wraps ctx's), or an error stops it. The summary is filled in every case.
func (rp *Replayer) Run(ctx context.Context) (Summary, error) {
	o := rp.o
	r := &run{o: o, started: time.Now(), seen: map[string]bool{}, end: map[int32]int64{}}
	r.s = Summary{DLQTopic: o.DLQTopic, Group: o.Group, DryRun: o.DryRun, To: o.To,
		ByReason: map[string]ReasonCount{}, ReplayedTo: map[string]int64{},
		Ranges: []Range{}, Sample: []SampleRecord{}, MaxReplaysSample: []SampleRecord{}}
	err := r.run(ctx)
	r.s.ElapsedSeconds = time.Since(r.started).Seconds()
	return r.s, err
}

func (r *run) run(ctx context.Context) error {
	prod, err := kgo.NewClient(append(slices.Clone(r.o.Kafka),
		// acks=all is the default, stated: a replayed record must survive a broker loss. No RecordDeliveryTimeout:
		// kgo measures it from the record timestamp, which replay sets to the (past) source time.
		kgo.RequiredAcks(kgo.AllISRAcks()),
	)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer prod.Close()
	r.prod, r.adm = prod, kadm.NewClient(prod)

	// An explicit target is checked before anything is read: a missing one would otherwise fail only at the first
	// produce, after the summary had counted records as moving.
	if r.o.To != "" {
		td, err := r.adm.ListTopics(ctx, r.o.To)
		if err != nil {
			return fmt.Errorf("target topic %q: %w", r.o.To, err)
		}
		if d, ok := td[r.o.To]; !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
			return fmt.Errorf("%w: target topic %q does not exist: create it, or leave --to out to replay each record to its source topic", ErrInvalidOptions, r.o.To)
		} else if d.Err != nil {
			return fmt.Errorf("target topic %q: %w", r.o.To, d.Err)
		}
	}

	starts, err := r.plan(ctx)
	if err != nil {
		return err
	}
	if len(starts) > 0 {
		cons, err := kgo.NewClient(append(slices.Clone(r.o.Kafka),
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{r.o.DLQTopic: starts}),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), // records deleted by retention meanwhile: go on from the oldest left
		)...)
		if err != nil {
			return fmt.Errorf("kafka client: %w", err)
		}
		defer cons.Close()
		r.cons = cons
		err = r.loop(ctx)
		r.progress()
		return err
	}
	r.progress()
	return nil
}

// plan snapshots the end offsets and picks each partition's start: the latest of the log start, the group's
// checkpoint, the --from time and the explicit start offset.
func (r *run) plan(ctx context.Context) (map[int32]kgo.Offset, error) {
	topic := r.o.DLQTopic
	ends, err := r.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	if len(ends[topic]) == 0 {
		return nil, fmt.Errorf("end offsets of %s: topic not found", topic)
	}
	begins, err := r.adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = begins.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("start offsets of %s: %w", topic, err)
	}
	committed, err := r.adm.FetchOffsets(ctx, r.o.Group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		committed, err = nil, nil // first run of this group: no checkpoint yet
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint of group %s: %w", r.o.Group, err)
	}
	var afterFrom kadm.ListedOffsets
	if !r.o.Filter.From.IsZero() {
		afterFrom, err = r.adm.ListOffsetsAfterMilli(ctx, r.o.Filter.From.Add(-fromSlack).UnixMilli(), topic)
		if err == nil {
			err = afterFrom.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("offsets of %s after %s: %w", topic, r.o.Filter.From.Format(time.RFC3339), err)
		}
	}
	for p := range r.o.StartOffsets {
		if _, ok := ends[topic][p]; !ok {
			return nil, fmt.Errorf("%w: %s has no partition %d", ErrInvalidOptions, topic, p)
		}
	}
	starts := map[int32]kgo.Offset{}
	parts := make([]int32, 0, len(ends[topic]))
	for p := range ends[topic] {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	for _, p := range parts {
		end := ends[topic][p].Offset
		start := begins[topic][p].Offset
		if c, ok := committed.Lookup(topic, p); ok && c.Err == nil {
			start = max(start, c.At)
		}
		if l, ok := afterFrom[topic][p]; ok {
			start = max(start, l.Offset)
		}
		if off, ok := r.o.StartOffsets[p]; ok {
			start = max(start, off)
		}
		start = min(start, end)
		r.s.Ranges = append(r.s.Ranges, Range{Partition: p, Start: start, End: end})
		if start < end {
			r.total += end - start
			r.end[p] = end
			starts[p] = kgo.NewOffset().At(start)
		}
	}
	return starts, nil
}

// batch is one step's output, counted into the summary only once acknowledged.
type batch struct {
	recs       []*kgo.Record
	byReason   map[string]int64
	commit     kadm.Offsets
	samples    []SampleRecord
	replayedTo map[string]int64
}

func (r *run) loop(ctx context.Context) error {
	// dctx outlives ctx by DrainTimeout: the step in progress when ctx ends is produced and committed, so a rerun
	// resumes exactly after it.
	dctx, dcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer dcancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(r.o.DrainTimeout, dcancel) })
	defer stop()

	lastProgress := time.Now()
	for len(r.end) > 0 {
		pctx, cancel := context.WithTimeout(ctx, r.o.IdleTimeout)
		fetches := r.cons.PollRecords(pctx, r.o.BatchSize)
		idle := pctx.Err() != nil && ctx.Err() == nil
		cancel()
		if ctx.Err() != nil {
			r.s.Interrupted = true
			return fmt.Errorf("replay interrupted (rerun the same command to resume): %w", ctx.Err())
		}
		if err := fetchError(fetches); err != nil {
			return fmt.Errorf("reading %s: %w", r.o.DLQTopic, err)
		}
		if fetches.NumRecords() == 0 {
			if idle {
				return fmt.Errorf("%w: no record for %s before reaching the end offsets of %s partitions %v",
					ErrStalled, r.o.IdleTimeout, r.o.DLQTopic, r.pending())
			}
			continue
		}
		b := r.step(fetches)
		if err := r.flush(dctx, b); err != nil {
			return err
		}
		if time.Since(lastProgress) >= r.o.ProgressEvery {
			lastProgress = time.Now()
			r.progress()
		}
	}
	return nil
}

// fetchError returns the first error that stops the replay: context ends are handled by the caller, and data loss
// (records deleted by retention before they were read) is not an error, they can no longer be replayed.
func fetchError(fs kgo.Fetches) error {
	for _, fe := range fs.Errors() {
		var dl *kgo.ErrDataLoss
		if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, context.DeadlineExceeded) || errors.As(fe.Err, &dl) {
			continue
		}
		return fmt.Errorf("partition %d: %w", fe.Partition, fe.Err)
	}
	return nil
}

func (r *run) pending() []int32 {
	ps := make([]int32, 0, len(r.end))
	for p := range r.end {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// step classifies one poll's records and returns what to produce and commit.
func (r *run) step(fetches kgo.Fetches) *batch {
	b := &batch{byReason: map[string]int64{}, replayedTo: map[string]int64{}, commit: kadm.Offsets{}}
	var done []int32
	fetches.EachRecord(func(rec *kgo.Record) {
		end, ok := r.end[rec.Partition]
		if !ok || rec.Offset >= end {
			return // past the snapshot: records that arrived during the run
		}
		b.commit.Add(kadm.Offset{Topic: rec.Topic, Partition: rec.Partition, At: rec.Offset + 1, LeaderEpoch: -1})
		if rec.Offset+1 >= end {
			delete(r.end, rec.Partition)
			done = append(done, rec.Partition)
		}
		r.s.Scanned++
		reason, _ := Header(rec.Headers, HeaderReason)
		if reason == "" {
			reason = NoReason
		}
		rc := r.s.ByReason[reason]
		rc.Scanned++
		r.s.ByReason[reason] = rc
		if !r.o.Filter.Match(rec) {
			r.s.SkippedFiltered++
			return
		}
		if IsReference(rec.Headers) {
			r.s.SkippedReference++
			return
		}
		to := r.target(rec)
		if ReplayCount(rec.Headers) >= r.o.MaxReplays {
			r.s.SkippedMaxReplays++
			if len(r.s.MaxReplaysSample) < r.o.Sample {
				r.s.MaxReplaysSample = append(r.s.MaxReplaysSample, sampleOf(rec, ""))
			}
			return
		}
		if key, ok := sourceKey(rec); ok {
			if r.seen[key] {
				r.s.SkippedDuplicate++
				return
			}
			r.seen[key] = true
		}
		b.recs = append(b.recs, ReplayRecord(rec, to))
		b.byReason[reason]++
		b.replayedTo[to]++
		if len(r.s.Sample)+len(b.samples) < r.o.Sample {
			b.samples = append(b.samples, sampleOf(rec, to))
		}
	})
	if len(done) > 0 {
		r.cons.PauseFetchPartitions(map[string][]int32{r.o.DLQTopic: done})
	}
	return b
}

// flush produces the batch, waits for every acknowledgment, then commits the batch's offsets: never the other
// way round, so a checkpoint never covers a record that is not durably in its target topic.
func (r *run) flush(ctx context.Context, b *batch) error {
	if !r.o.DryRun {
		if len(b.recs) > 0 {
			pctx, cancel := context.WithTimeout(ctx, produceTimeout)
			err := r.prod.ProduceSync(pctx, b.recs...).FirstErr()
			cancel()
			if err != nil {
				return fmt.Errorf("producing replayed records (their DLQ offsets are not committed): %w", err)
			}
		}
		if len(b.commit) > 0 {
			if err := r.adm.CommitAllOffsets(ctx, r.o.Group, b.commit); err != nil {
				return fmt.Errorf("committing replay progress to group %s (the last batch will be replayed again on resume): %w", r.o.Group, err)
			}
		}
	}
	r.s.Replayed += int64(len(b.recs))
	for reason, n := range b.byReason {
		rc := r.s.ByReason[reason]
		rc.Replayed += n
		r.s.ByReason[reason] = rc
	}
	for t, n := range b.replayedTo {
		r.s.ReplayedTo[t] += n
	}
	r.s.Sample = append(r.s.Sample, b.samples...)
	return nil
}

// target is the topic a selected record goes to.
func (r *run) target(rec *kgo.Record) string {
	if r.o.To != "" {
		return r.o.To
	}
	if t, ok := Header(rec.Headers, HeaderSourceTopic); ok && t != "" && t != r.o.DLQTopic {
		return t
	}
	return r.o.DefaultTo
}

// sourceKey identifies the source record a DLQ record was made from.
func sourceKey(rec *kgo.Record) (string, bool) {
	t, ok1 := Header(rec.Headers, HeaderSourceTopic)
	p, ok2 := Header(rec.Headers, HeaderSourcePartition)
	o, ok3 := Header(rec.Headers, HeaderSourceOffset)
	if !ok1 || !ok2 || !ok3 {
		return "", false
	}
	return t + "\x00" + p + "\x00" + o, true
}

func (r *run) progress() {
	if r.o.Progress == nil {
		return
	}
	r.o.Progress(Progress{
		Scanned:  r.s.Scanned,
		Replayed: r.s.Replayed,
		Skipped:  r.s.SkippedFiltered + r.s.SkippedDuplicate + r.s.SkippedMaxReplays + r.s.SkippedReference,
		Total:    r.total,
		Elapsed:  time.Since(r.started),
	})
}
