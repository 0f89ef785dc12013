package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/fbevent"
	"github.com/capi-connector/capi-connector/processor/service"
)

// cmdPreview prints, for every input line, the exact server event the service would send, or why it would not.
//
//	{"line":N,"destination":"<name>","event":{…}}
//	{"line":N,"destination":"<name>","event":{…},"dropped":{"ph":"invalid_phone","db":"unparseable_date"}}
//	{"line":N,"destination":"<name>","rejected":{"reason":"<code>","stage":"<stage>","detail":"…"}}
//	{"line":N,"destination":"<name>","rejected":{…},"dropped":{…}}
//	{"line":N,"destination":"<name>","filtered":{"detail":"…"}}   (the destination's event filter excludes it)
//
// Blank lines produce nothing (line numbers still count them). With several destinations and no --destination,
// every line yields one output line per destination, in configuration order.
func cmdPreview(fs *flag.FlagSet) action {
	cfgPath := fs.String("config", "", "configuration file (default: built-in defaults + CAPI_* environment)")
	destName := fs.String("destination", "", "only this destination (default: all configured)")
	nowFlag := fs.String("now", "", "`TIME` used as \"now\" and as event_time of events without a timestamp, RFC 3339 like 2026-11-29T12:00:00Z (default: the current time)")
	return func(ctx context.Context, files []string, stdin io.Reader, stdout, stderr io.Writer) error {
		if len(files) > 1 {
			return usagef("at most one input file, got %d: %s", len(files), strings.Join(files, " "))
		}
		now := time.Now()
		if *nowFlag != "" {
			t, err := time.Parse(time.RFC3339, *nowFlag)
			if err != nil {
				return usagef("--now %q is not an RFC 3339 time: write it like 2026-11-29T12:00:00Z (UTC) or 2026-11-29T13:00:00+01:00", *nowFlag)
			}
			now = t
		}
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		if len(cfg.Destinations) == 0 {
			cfg.Destinations = []config.Destination{config.DefaultDestination()}
		}
		if *destName != "" {
			var keep []config.Destination
			for _, d := range cfg.Destinations {
				if d.Name == *destName {
					keep = append(keep, d)
				}
			}
			if len(keep) == 0 {
				names := make([]string, len(cfg.Destinations))
				for i, d := range cfg.Destinations {
					names[i] = d.Name
				}
				return usagef("--destination %q is not configured; the destinations are: %s", *destName, strings.Join(names, ", "))
			}
			cfg.Destinations = keep
		}
		p, err := service.BuildPipeline(cfg)
		if err != nil {
			return err
		}
		in := stdin
		if len(files) == 1 && files[0] != "-" {
			name := files[0]
			f, err := os.Open(name)
			if err != nil {
				return usagef("%v", err)
			}
			defer f.Close()
			in = f
		}
		return preview(ctx, p, in, stdout, now)
	}
}

func preview(ctx context.Context, p *processor.Pipeline, in io.Reader, out io.Writer, now time.Time) error {
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
