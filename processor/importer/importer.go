// Package importer turns files of offline conversions (CSV as spreadsheets and point-of-sale systems export it,
// or JSON Lines) into Commanders Act events on the source topic, so that the connector's pipeline (consent,
// mapping, hashing, eligibility, the 62-day physical-store window, DLQ, replay) handles them like any other event.
//
// Guarantees:
//   - Re-runnable: every event carries a deterministic integrations.facebook.event_id (the row's own id when a
//     column gives one, else a hash of the row's mapped content) and a record key from it, so importing a file
//     again sends the same event ids and Meta deduplicates them.
//   - Nothing silent: every row is produced (acknowledged by all in-sync replicas, idempotent producer) or
//     rejected with its line number and a reason that names columns and problems, never values; a rejected row
//     goes to the rejects file when one is given. Run reports rows that are neither as ErrUnaccounted.
//   - Bounded memory: rows stream through; at most Options.MaxInFlight produced rows wait for acknowledgement.
//   - Resumable: a state file records how many rows are done (acknowledged or rejected), written as acks arrive;
//     Resume skips them.
package importer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor"
)

// Producer is what the import needs of a Kafka client (*kgo.Client). The client must require acks from all
// in-sync replicas with the idempotent producer (franz-go's default with kgo.RequiredAcks(kgo.AllISRAcks())).
type Producer interface {
	Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
	Flush(ctx context.Context) error
}

// Processor runs one record through the connector's transformation (processor.Pipeline), for dry runs.
type Processor interface {
	Process(ctx context.Context, rec processor.Record, now time.Time, out []processor.Outcome) ([]processor.Outcome, error)
	Destinations() []processor.Destination
}

// Formats.
const (
	FormatCSV    = "csv"
	FormatNDJSON = "ndjson"
)

// ErrUnaccounted is returned (wrapped) when some rows were neither produced nor written to the rejects file.
var ErrUnaccounted = errors.New("rows neither produced nor written to the rejects file")

// ErrStateMismatch is returned when Resume finds a state file written for a different input.
var ErrStateMismatch = errors.New("resume state does not match")

// Options configure one import of one input.
type Options struct {
	Name   string // the input's name for the summary and the import-source header ("-" for stdin)
	Size   int64  // the input's size in bytes (progress and ETA); 0 when unknown
	Format string // FormatCSV or FormatNDJSON
	// Encoding: "" or "auto" detects (BOM, else UTF-8 when valid, else Windows-1252); see EncodingNames.
	Encoding     string
	Delimiter    rune  // 0 detects ',' ';' or tab from the header
	DecimalComma *bool // nil: a decimal comma when the delimiter is ';'
	Mapping      Mapping
	Topic        string

	// DryRun runs every row through Pipeline (as preview does) instead of producing; Now is "now" for its
	// time windows and the event_time of rows without a timestamp.
	DryRun   bool
	Pipeline Processor
	Now      time.Time

	Producer Producer
	// Rejects receives rejected rows in the input's format plus a reason; nil counts them as unaccounted.
	// RejectsHasHeader says the writer already holds a header (a resumed run appending to its rejects file).
	Rejects          io.Writer
	RejectsHasHeader bool

	// State records progress for Resume; nil keeps none (stdin, dry runs).
	State  *StateFile
	Resume bool

	MaxInFlight   int            // produced rows awaiting acknowledgement (default 10 000)
	MaxLineBytes  int            // JSON Lines: the longest line (default 1 MiB)
	MaxRowBytes   int            // CSV: the largest row (default 16 MiB); a larger one ends the input with ErrRowTooLarge
	MaxProblems   int            // rejected rows listed in the summary (default 20)
	Progress      func(Progress) // called every ProgressEvery and once at the end
	ProgressEvery time.Duration  // default 1 s
	StateEvery    time.Duration  // default 1 s
}

// Progress is a snapshot for progress displays.
type Progress struct {
	Rows, Produced, Rejected, Skipped int64
	BytesRead, Size                   int64
	Elapsed                           time.Duration
	Done                              bool
}

// Problem is a rejected row: its line and what is wrong (never the values).
type Problem struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// DestinationSummary is what a dry run's pipeline would do with the rows, for one destination.
type DestinationSummary struct {
	Name         string           `json:"name"`
	WouldDeliver int64            `json:"would_deliver"`
	WouldDLQ     map[string]int64 `json:"would_dead_letter"`
	Filtered     int64            `json:"filtered"`
	// MatchKeys counts the rows that would be delivered carrying each match key (em, ph, external_id, fbp, fbc).
	MatchKeys map[string]int64 `json:"match_keys"`
}

// Summary is the account of one import.
type Summary struct {
	Input       string `json:"input"`
	Topic       string `json:"topic,omitempty"`
	Dialect     string `json:"dialect"`
	DryRun      bool   `json:"dry_run"`
	Interrupted bool   `json:"interrupted"`
	EventIDs    string `json:"event_ids"` // where event ids come from
	// Rows counts data rows read (not the header, not blank lines), skipped ones included.
	Rows           int64     `json:"rows"`
	Skipped        int64     `json:"skipped_resumed"`
	Produced       int64     `json:"produced"`
	Rejected       int64     `json:"rejected"`
	RejectsWritten int64     `json:"rejects_written"`
	Unaccounted    int64     `json:"unaccounted"`
	Problems       []Problem `json:"problems,omitempty"` // the first MaxProblems rejected rows
	// IgnoredColumns are header names that map to no field (their values are not imported).
	IgnoredColumns []string `json:"ignored_columns,omitempty"`
	// SameIDAsPrevious counts rows whose event id is the previous row's (a line-item export keyed by order id):
	// Meta keeps one event per (event_id, event_name), so such rows collapse into one.
	SameIDAsPrevious int64 `json:"same_id_as_previous,omitempty"`
	// NoTimestamp: no column gives context.event_timestamp, so event_time is when the connector reads the record.
	NoTimestamp    bool                 `json:"no_timestamp,omitempty"`
	Destinations   []DestinationSummary `json:"destinations,omitempty"`
	ElapsedSeconds float64              `json:"elapsed_seconds"`
	Error          string               `json:"error,omitempty"`
}

// Run imports one input. The summary is meaningful also when err is not nil (how far it got).
func Run(ctx context.Context, in io.Reader, o Options) (Summary, error) {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 10000
	}
	if o.MaxProblems <= 0 {
		o.MaxProblems = 20
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.StateEvery <= 0 {
		o.StateEvery = time.Second
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	s := Summary{Input: o.Name, Topic: o.Topic, DryRun: o.DryRun}
	switch {
	case o.DryRun && o.Pipeline == nil:
		return s, errors.New("importer: a dry run needs the pipeline")
	case !o.DryRun && o.Producer == nil:
		return s, errors.New("importer: no producer")
	case !o.DryRun && o.Topic == "":
		return s, errors.New("importer: no topic")
	}
	start := time.Now()
	im := &run{o: o, s: &s, start: start}
	var bytesRead atomic.Int64
	im.bytesRead = &bytesRead
	text, err := decodeText(countingReader{in, &bytesRead}, o.Encoding)
	if err != nil {
		return s, err
	}
	var src source
	switch o.Format {
	case FormatCSV, "":
		cs, err := newCSVSource(text, o.Mapping, o.Delimiter, o.DecimalComma, cmp.Or(o.MaxRowBytes, maxRowBytes))
		if err != nil {
			return s, err
		}
		s.EventIDs = cs.plan.idSource()
		s.IgnoredColumns = cs.plan.ignored
		s.NoTimestamp = !cs.plan.hasField(pathTimestamp)
		src = cs
	case FormatNDJSON:
		ns, err := newNDJSONSource(text, o.Mapping, o.MaxLineBytes)
		if err != nil {
			return s, err
		}
		s.EventIDs = "integrations.facebook.event_id, else event_id, else context.event_id, else id, else a hash of the event"
		src = ns
	default:
		return s, fmt.Errorf("%w: unknown format %q (csv or ndjson)", ErrInput, o.Format)
	}
	s.Dialect = src.dialect()
	im.src = src
	err = im.loop(ctx)
	s.ElapsedSeconds = time.Since(start).Seconds()
	if !o.DryRun {
		s.Unaccounted = s.Rows - s.Skipped - s.Produced - s.RejectsWritten
		if s.Unaccounted > 0 && err == nil {
			err = fmt.Errorf("%w: %d of %d rows", ErrUnaccounted, s.Unaccounted, s.Rows)
		}
	}
	if err != nil {
		s.Error = err.Error()
	}
	return s, err
}

// run is the state of one Run.
type run struct {
	o         Options
	s         *Summary
	src       source
	start     time.Time
	bytesRead *atomic.Int64
	rows      atomic.Int64 // mirrors of the summary's counters, read by the progress goroutine
	produced  atomic.Int64
	rejected  atomic.Int64
	skipped   atomic.Int64

	rmu     sync.Mutex // the rejects writer (main loop writes, the state saver flushes)
	rejects *rejectsWriter

	win    *window
	lastID string
}

func (im *run) progress(done bool) {
	if im.o.Progress == nil {
		return
	}
	im.o.Progress(Progress{
		Rows: im.rows.Load(), Produced: im.produced.Load(), Rejected: im.rejected.Load(), Skipped: im.skipped.Load(),
		BytesRead: im.bytesRead.Load(), Size: im.o.Size, Elapsed: time.Since(im.start), Done: done,
	})
}

func (im *run) loop(ctx context.Context) (err error) {
	o, s := im.o, im.s
	var skip int64
	if o.State != nil && !o.DryRun && o.Resume {
		st, err := o.State.Load()
		if err != nil {
			return err
		}
		skip = st.Rows
	}
	if o.Rejects != nil {
		im.rejects = newRejectsWriter(o.Rejects)
		if !o.RejectsHasHeader {
			if h := im.src.rejectsHeader(); h != nil {
				im.rejects.write(h)
			}
		}
	}
	im.win = newWindow(o.MaxInFlight, skip)
	stopCtx, stopBackground := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	defer func() {
		stopBackground()
		bg.Wait()
		im.progress(true)
	}()
	everyTick(stopCtx, &bg, o.ProgressEvery, func() { im.progress(false) })
	if o.State != nil && !o.DryRun {
		// retried at the next tick; the final save reports its error
		everyTick(stopCtx, &bg, o.StateEvery, func() { _ = im.saveState(false) })
	}

	if o.DryRun {
		err = im.dryRun(ctx, skip)
	} else {
		err = im.produce(ctx, skip)
	}
	if im.rejects != nil {
		im.rmu.Lock()
		if ferr := im.rejects.flush(); ferr != nil && err == nil {
			err = fmt.Errorf("rejects file: %w", ferr)
		}
		im.rmu.Unlock()
	}
	if o.State != nil && !o.DryRun {
		complete := err == nil && !s.Interrupted && s.Rows-s.Skipped == s.Produced+s.RejectsWritten
		if serr := im.saveState(complete); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// reject accounts for a rejected row: listed (the first MaxProblems), written to the rejects file.
func (im *run) reject(r row) error {
	s := im.s
	s.Rejected++
	im.rejected.Add(1)
	if len(s.Problems) < im.o.MaxProblems {
		s.Problems = append(s.Problems, Problem{Line: r.line, Reason: string(r.problem)})
	}
	if im.rejects == nil {
		return nil
	}
	im.rmu.Lock()
	defer im.rmu.Unlock()
	if err := im.rejects.write(im.src.appendReject(im.rejects.scratch[:0], r)); err != nil {
		return fmt.Errorf("rejects file: %w", err)
	}
	s.RejectsWritten++
	return nil
}

func (im *run) produce(ctx context.Context, skip int64) error {
	o, s, w := im.o, im.s, im.win
	stop := context.AfterFunc(ctx, w.wake)
	defer stop()
	// An interrupt stops reading, not the records already handed to the client: they are sent and acknowledged
	// (Flush below, bounded) so that the state file counts them and a resumed run does not produce them again.
	pctx := context.WithoutCancel(ctx)
	var loopErr error
	for seq := int64(1); ; seq++ {
		r, err := im.src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			loopErr = fmt.Errorf("reading %s: %w", o.Name, err)
			break
		}
		s.Rows++
		im.rows.Add(1)
		if seq <= skip {
			s.Skipped++
			im.skipped.Add(1)
			continue
		}
		if err := w.acquire(ctx, seq, r.line); err != nil {
			s.Rows--
			im.rows.Add(-1)
			if ctx.Err() != nil {
				s.Interrupted = true
				break
			}
			if w.err() == nil {
				loopErr = err
			} // else a produce error, reported below with its topic
			break
		}
		if r.problem != "" {
			if err := im.reject(r); err != nil {
				loopErr = err
				break
			}
			w.done(seq, nil)
			continue
		}
		im.checkSameID(r.id)
		rec := &kgo.Record{
			Topic: o.Topic,
			Key:   []byte(r.id),
			Value: append([]byte(nil), r.value...),
			// Where the row came from, kept by the DLQ (which reserves capi-* for its own headers).
			Headers: []kgo.RecordHeader{
				{Key: "import-source", Value: []byte(o.Name)},
				{Key: "import-line", Value: fmt.Appendf(nil, "%d", r.line)},
			},
		}
		seq := seq
		o.Producer.Produce(pctx, rec, func(_ *kgo.Record, err error) {
			if err == nil {
				im.produced.Add(1)
			}
			w.done(seq, err)
		})
	}
	// Wait for what was handed to the client, also after an interrupt (bounded), so that the state file
	// records every acknowledgement.
	fctx, cancel := context.WithTimeout(pctx, 30*time.Second)
	defer cancel()
	if err := o.Producer.Flush(fctx); err != nil && loopErr == nil && !s.Interrupted {
		loopErr = fmt.Errorf("waiting for acknowledgements: %w", err)
	}
	s.Produced = im.produced.Load()
	if perr := w.err(); perr != nil && loopErr == nil {
		hint := ""
		if errors.Is(perr, kerr.UnknownTopicOrPartition) {
			hint = " (create the topic, or check --topic / kafka.topics)"
		}
		loopErr = fmt.Errorf("producing to %s: %w%s", o.Topic, perr, hint)
	}
	if ctx.Err() != nil {
		s.Interrupted = true
	}
	return loopErr
}

func (im *run) dryRun(ctx context.Context, skip int64) error {
	o, s := im.o, im.s
	dests := o.Pipeline.Destinations()
	s.Destinations = make([]DestinationSummary, len(dests))
	for i, d := range dests {
		s.Destinations[i] = DestinationSummary{Name: d.Name, WouldDLQ: map[string]int64{}, MatchKeys: map[string]int64{}}
	}
	var outs []processor.Outcome
	for seq := int64(1); ; seq++ {
		if ctx.Err() != nil {
			s.Interrupted = true
			return nil
		}
		r, err := im.src.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", o.Name, err)
		}
		s.Rows++
		im.rows.Add(1)
		if seq <= skip {
			continue
		}
		if r.problem != "" {
			if err := im.reject(r); err != nil {
				return err
			}
			continue
		}
		im.checkSameID(r.id)
		outs, err = o.Pipeline.Process(ctx, processor.Record{Topic: o.Topic, Value: r.value, Timestamp: o.Now}, o.Now, outs[:0])
		if err != nil {
			return fmt.Errorf("line %d: %w", r.line, err)
		}
		for _, out := range outs {
			d := &s.Destinations[out.Destination]
			switch {
			case out.Filtered:
				d.Filtered++
			case out.Rejection != nil:
				d.WouldDLQ[string(out.Rejection.Reason)]++
			default:
				d.WouldDeliver++
				for i, name := range processor.MatchKeyNames {
					if out.MatchKeys&(1<<i) != 0 {
						d.MatchKeys[name]++
					}
				}
			}
		}
	}
}

// checkSameID counts a row whose event id repeats the previous produced row's. Only neighbours are compared:
// line-item exports group an order's rows, and remembering every id would not fit a bounded memory.
func (im *run) checkSameID(id string) {
	if id == im.lastID {
		im.s.SameIDAsPrevious++
	}
	im.lastID = id
}

func (im *run) saveState(complete bool) error {
	rows, line := im.win.watermark()
	if im.rejects != nil {
		im.rmu.Lock()
		err := im.rejects.flush()
		im.rmu.Unlock()
		if err != nil {
			return fmt.Errorf("rejects file: %w", err)
		}
	}
	return im.o.State.Save(State{Rows: rows, Line: line, Complete: complete})
}

// window tracks the rows between the first one not yet done (produced and acknowledged, or rejected) and the
// next one to read; at most size rows are in it, which bounds the records waiting in the client.
type window struct {
	mu       sync.Mutex
	cond     *sync.Cond
	size     int64
	fin      []bool
	lines    []int
	low      int64 // first row not done
	high     int64 // next row to enter
	lastLine int   // line of row low-1
	first    error // first produce error
}

func newWindow(size int, skip int64) *window {
	w := &window{size: int64(size), fin: make([]bool, size), lines: make([]int, size), low: skip + 1, high: skip + 1}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// acquire waits until row seq fits the window, then enters it. It fails when ctx ends or a produce failed.
func (w *window) acquire(ctx context.Context, seq int64, line int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for seq-w.low >= w.size && w.first == nil && ctx.Err() == nil {
		w.cond.Wait()
	}
	if w.first != nil {
		return w.first
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w.lines[seq%w.size] = line
	w.high = seq + 1
	return nil
}

func (w *window) done(seq int64, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.first == nil {
			w.first = err
		}
		w.cond.Broadcast()
		return
	}
	w.fin[seq%w.size] = true
	for w.low < w.high && w.fin[w.low%w.size] {
		w.fin[w.low%w.size] = false
		w.lastLine = w.lines[w.low%w.size]
		w.low++
	}
	w.cond.Broadcast()
}

func (w *window) wake() {
	w.mu.Lock()
	w.cond.Broadcast()
	w.mu.Unlock()
}

func (w *window) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first
}

// watermark returns how many rows are done from the start, and the line of the last of them.
func (w *window) watermark() (int64, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.low - 1, w.lastLine
}

// SortedReasons returns the keys of a count map, largest count first.
func SortedReasons(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}

// everyTick runs f every d in a goroutine counted by bg until ctx is done.
func everyTick(ctx context.Context, bg *sync.WaitGroup, d time.Duration, f func()) {
	bg.Add(1)
	go func() {
		defer bg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				f()
			}
		}
	}()
}
