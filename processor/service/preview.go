package service

// preview: what the pipeline would send, line by line, without Kafka or Graph.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// Preview writes, for every line of in, the exact server event p would send for each destination, or why it would
// not (the format is cmd/capi-connector's preview contract, README "preview"). Blank lines produce nothing; line
// numbers still count them.
func Preview(ctx context.Context, p *processor.Pipeline, in io.Reader, out io.Writer, now time.Time) error {
	dests := p.Destinations()
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriter(out)
	defer w.Flush()
	var outs []processor.Outcome
	var buf []byte
	for line := 1; ; line++ {
		raw, readErr := r.ReadBytes('\n')
		if len(bytes.TrimSpace(raw)) > 0 {
			var err error
			outs, err = p.Process(ctx, processor.Record{Value: bytes.TrimRight(raw, "\r\n"), Timestamp: now}, now, outs[:0])
			if err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			for _, o := range outs {
				buf = appendPreviewLine(buf[:0], line, dests[o.Destination].Name, o)
				if _, err := w.Write(buf); err != nil {
					return err
				}
			}
		}
		if readErr == io.EOF {
			return nil
		}
		if readErr != nil {
			return readErr
		}
	}
}

func appendPreviewLine(b []byte, line int, dest string, o processor.Outcome) []byte {
	b = fmt.Appendf(b, `{"line":%d,"destination":`, line)
	b = fbevent.AppendString(b, dest)
	switch {
	case o.Filtered:
		b = append(b, `,"filtered":{"detail":"the destination's event filter excludes this event"}`...)
	case o.Rejection != nil:
		b = append(b, `,"rejected":{"reason":`...)
		b = fbevent.AppendString(b, string(o.Rejection.Reason))
		b = append(b, `,"stage":`...)
		b = fbevent.AppendString(b, o.Rejection.Stage)
		b = append(b, `,"detail":`...)
		b = fbevent.AppendString(b, o.Rejection.Detail)
		b = append(b, '}')
	default:
		b = append(b, `,"event":`...)
		b = append(b, o.JSON...)
	}
	if o.Dropped.Any() {
		// The user_data fields normalization dropped, and why; never their values.
		b = append(b, `,"dropped":`...)
		b = o.Dropped.AppendJSON(b)
	}
	return append(b, "}\n"...)
}
