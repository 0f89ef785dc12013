package importer

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/dlq"
)

// WriteText prints the summary for people. It never prints a value of the input: line numbers, column names,
// counts and reasons only.
func (s Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	state := "done"
	switch {
	case s.Interrupted:
		state = "INTERRUPTED (rerun with --resume to continue; rows produced again keep their event ids)"
	case s.Error != "":
		state = "FAILED: " + s.Error
	case s.DryRun:
		state = "DRY RUN: nothing produced"
	}
	target := s.Topic
	if s.DryRun {
		target += " (dry run)"
	}
	fmt.Fprintf(tw, "import of\t%s → %s\n", s.Input, target)
	fmt.Fprintf(tw, "read as\t%s\n", s.Dialect)
	fmt.Fprintf(tw, "state\t%s\n", state)
	fmt.Fprintf(tw, "rows read\t%d\n", s.Rows)
	if s.Skipped > 0 {
		fmt.Fprintf(tw, "skipped (done in an earlier run)\t%d\n", s.Skipped)
	}
	if !s.DryRun {
		fmt.Fprintf(tw, "produced (acknowledged)\t%d\n", s.Produced)
	} else {
		fmt.Fprintf(tw, "would produce\t%d\n", s.Rows-s.Skipped-s.Rejected)
	}
	fmt.Fprintf(tw, "rejected (unparseable)\t%d\n", s.Rejected)
	if s.Rejected > 0 {
		fmt.Fprintf(tw, "  written to the rejects file\t%d\n", s.RejectsWritten)
	}
	if !s.DryRun {
		fmt.Fprintf(tw, "neither produced nor rejected\t%d\n", s.Unaccounted)
	}
	fmt.Fprintf(tw, "elapsed\t%s\n", (time.Duration(s.ElapsedSeconds * float64(time.Second))).Round(time.Millisecond))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nevent ids: %s. Importing the same file again sends the same event ids, which Meta deduplicates.\n", s.EventIDs)
	if s.SameIDAsPrevious > 0 {
		fmt.Fprintf(w, "warning: %d rows have the same event id as the row before them (one order on several lines?): Meta keeps one event per event id and event name; map a column that is unique per row to integrations.facebook.event_id, or one row per order.\n", s.SameIDAsPrevious)
	}
	if s.NoTimestamp {
		fmt.Fprintln(w, "note: no column gives context.event_timestamp: event_time is the time the connector reads each record.")
	}
	if len(s.IgnoredColumns) > 0 {
		fmt.Fprintf(w, "ignored columns (not a field path, not in the mapping): %s\n", quoteList(s.IgnoredColumns))
	}
	for _, d := range s.Destinations {
		if err := d.writeText(w, s.Rows-s.Skipped-s.Rejected); err != nil {
			return err
		}
	}
	if len(s.Problems) > 0 {
		fmt.Fprintln(w, "\nrejected rows:")
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  line %d: %s\n", p.Line, p.Reason)
		}
		if more := s.Rejected - int64(len(s.Problems)); more > 0 {
			fmt.Fprintf(w, "  … and %d more%s\n", more, map[bool]string{true: " (all in the rejects file)", false: ""}[s.RejectsWritten == s.Rejected])
		}
	}
	return nil
}

func (d DestinationSummary) writeText(w io.Writer, parsed int64) error {
	pct := func(n, of int64) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
	}
	fmt.Fprintf(w, "\ndestination %q, through the connector's pipeline:\n", d.Name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  would be delivered\t%d\t%s\n", d.WouldDeliver, pct(d.WouldDeliver, parsed))
	var dlq int64
	for _, n := range d.WouldDLQ {
		dlq += n
	}
	fmt.Fprintf(tw, "  would be dead-lettered\t%d\t%s\n", dlq, pct(dlq, parsed))
	for _, r := range SortedReasons(d.WouldDLQ) {
		fmt.Fprintf(tw, "    %s\t%d\t%s\n", r, d.WouldDLQ[r], pct(d.WouldDLQ[r], parsed))
	}
	if d.Filtered > 0 {
		fmt.Fprintf(tw, "  excluded by the event filter\t%d\t%s\n", d.Filtered, pct(d.Filtered, parsed))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if d.WouldDeliver == 0 {
		return nil
	}
	keys := make([]string, 0, len(processor.MatchKeyNames))
	for _, k := range processor.MatchKeyNames {
		keys = append(keys, fmt.Sprintf("%s %s", k, pct(d.MatchKeys[k], d.WouldDeliver)))
	}
	_, err := fmt.Fprintf(w, "  match keys (share of the rows that would be delivered): %s\n", strings.Join(keys, ", "))
	return err
}

// WriteProgress renders p on one line: rows, rate, and the share of the input read with an ETA when its size is
// known. Terminal displays prefix it with \r.
func WriteProgress(w io.Writer, p Progress) {
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Rows) / s
	}
	fmt.Fprintf(w, "rows %d  produced %d  rejected %d", p.Rows, p.Produced, p.Rejected)
	if p.Skipped > 0 {
		fmt.Fprintf(w, "  skipped %d", p.Skipped)
	}
	fmt.Fprintf(w, "  %.0f rows/s", rate)
	if p.Size > 0 {
		frac := min(float64(p.BytesRead)/float64(p.Size), 1)
		eta := "?"
		if frac > 0 && !p.Done {
			eta = (time.Duration(p.Elapsed.Seconds()*(1-frac)/frac) * time.Second).Round(time.Second).String()
		}
		const width = 20
		bar := strings.Repeat("█", int(frac*width)) + strings.Repeat("·", width-int(frac*width))
		fmt.Fprintf(w, "  %s %3.0f%%", bar, 100*frac)
		if !p.Done {
			fmt.Fprintf(w, "  ETA %s", eta)
		}
	}
}

// ProgressDisplay returns the Options.Progress and Options.ProgressEvery for w: a bar rewritten in place every
// 200 ms on a terminal, a plain line every 10 s otherwise (a log file or a pipe gets no carriage returns).
func ProgressDisplay(w io.Writer, name string) (func(Progress), time.Duration) {
	if dlq.IsTerminal(w) {
		return func(p Progress) {
			fmt.Fprint(w, "\r")
			WriteProgress(w, p)
			fmt.Fprint(w, "   ")
			if p.Done {
				fmt.Fprintln(w)
			}
		}, 200 * time.Millisecond
	}
	return func(p Progress) {
		if !p.Done {
			fmt.Fprintf(w, "import %s: ", name)
			WriteProgress(w, p)
			fmt.Fprintln(w)
		}
	}, 10 * time.Second
}
