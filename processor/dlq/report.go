package dlq

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The replay report: the progress line and the summary the replay command prints.

// NewProgressLine returns a progress line on w when w is a terminal, else nil.
func NewProgressLine(w io.Writer) *ProgressLine {
	if !IsTerminal(w) {
		return nil
	}
	return &ProgressLine{W: w}
}

// ProgressLine rewrites one terminal line: counts, rate and the time left to the snapshot end.
type ProgressLine struct {
	W       io.Writer
	printed bool
}

// Print rewrites the line with pr (Options.Progress).
func (p *ProgressLine) Print(pr Progress) {
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
	fmt.Fprintf(p.W, "\rscanned %d/%d (%.0f%%)  replayed %d  skipped %d  %.0f rec/s  ETA %s   ",
		pr.Scanned, pr.Total, pct, pr.Replayed, pr.Skipped, rate, eta)
}

// End ends the line, if one was printed.
func (p *ProgressLine) End() {
	if p.printed {
		fmt.Fprintln(p.W)
		p.printed = false
	}
}

// WriteSummary writes s as the replay command reports it: one JSON object, or a table followed by the samples
// and a note for every requested reason no scanned record has (f is the run's filter).
func WriteSummary(w io.Writer, s Summary, f Filter, asJSON bool, maxReplays int) error {
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
	if s.SkippedReference > 0 {
		fmt.Fprintf(tw, "skipped: references (value omitted; the original is in the source topic)\t%d\n", s.SkippedReference)
	}
	fmt.Fprintf(tw, "elapsed\t%s\n", time.Duration(s.ElapsedSeconds*float64(time.Second)).Round(time.Millisecond))
	if len(s.ByReason) > 0 {
		fmt.Fprintf(tw, "\nreason\tscanned\t%s\n", replayed)
		for _, reason := range sortedKeys(s.ByReason) {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", reason, s.ByReason[reason].Scanned, s.ByReason[reason].Replayed)
		}
	}
	if len(s.ReplayedTo) > 0 {
		fmt.Fprintf(tw, "\ntopic\t%s\n", replayed)
		for _, t := range sortedKeys(s.ReplayedTo) {
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
		if err := writeSamples(w, s.Sample); err != nil {
			return err
		}
	}
	if len(s.MaxReplaysSample) > 0 {
		fmt.Fprintf(w, "\nsample of refused records (replayed %d times already; left in the DLQ):\n", maxReplays)
		if err := writeSamples(w, s.MaxReplaysSample); err != nil {
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

func writeSamples(w io.Writer, ss []SampleRecord) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  dlq\treason\tdestination\tsource\tfailed at\treplays\terror")
	for _, s := range ss {
		dest := s.Destination
		if dest == "" {
			dest = "(all)"
		}
		fmt.Fprintf(tw, "  %d:%d\t%s\t%s\t%s/%s/%s\t%s\t%d\t%s\n", s.Partition, s.Offset, s.Reason, dest,
			s.SourceTopic, s.SourcePartition, s.SourceOffset, s.FailedAt, s.ReplayCount, oneLine(s.Error, 100))
	}
	return tw.Flush()
}

// oneLine keeps a sample's error text to one table cell.
func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > limit {
		return string(r[:limit-1]) + "…"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// IsTerminal reports whether w is a character device (a terminal), where a self-overwriting progress line helps;
// redirected to a file or a pipe it would only add noise.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// ParseStartOffsets reads the replay command's --start-offsets value, "partition:offset,…" ("" is none).
func ParseStartOffsets(v string) (map[int32]int64, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	out := map[int32]int64{}
	for item := range strings.SplitSeq(v, ",") {
		ps, os, ok := strings.Cut(strings.TrimSpace(item), ":")
		p, perr := strconv.ParseInt(ps, 10, 32)
		off, oerr := strconv.ParseInt(os, 10, 64)
		if !ok || perr != nil || oerr != nil || p < 0 || off < 0 {
			return nil, fmt.Errorf("%q is not partition:offset (e.g. 0:120)", item)
		}
		if _, dup := out[int32(p)]; dup {
			return nil, fmt.Errorf("partition %d is listed twice", p)
		}
		out[int32(p)] = off
	}
	return out, nil
}
