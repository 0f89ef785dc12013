package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"time"

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
		now, err := parseNow(*nowFlag, time.Now())
		if err != nil {
			return err
		}
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		p, err := service.PreviewPipeline(cfg, *destName)
		if errors.Is(err, service.ErrUnknownDestination) {
			return usagef("--%v", err)
		}
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
		return service.Preview(ctx, p, in, stdout, now)
	}
}

// parseNow reads a --now flag: an RFC 3339 time, or def when v is "".
func parseNow(v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, usagef("--now %q is not an RFC 3339 time: write it like 2026-11-29T12:00:00Z (UTC) or 2026-11-29T13:00:00+01:00", v)
	}
	return t, nil
}
