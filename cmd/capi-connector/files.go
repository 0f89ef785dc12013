package main

// The commands that read files of events: preview shows what the pipeline would send for each, import produces
// them to the source topic (or, with --dry-run, previews them in bulk).

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/importer"
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

// cmdImport produces the rows of CSV or JSON Lines files (offline conversions) to the source topic as Commanders
// Act events with deterministic event ids (processor/importer). Kafka settings come from the same configuration
// as run. The summary goes to stdout, progress to stderr. Exit status 1 when a row was neither produced nor
// written to the rejects file.
func cmdImport(fs *flag.FlagSet) action {
	cfgPath := fs.String("config", "", "configuration file (default: CAPI_* environment only)")
	topic := fs.String("topic", "", "topic to produce to (default: the first source topic, kafka.topics)")
	mappingPath := fs.String("mapping", "", "YAML mapping file: column renames, constants, date layouts, list splits (default: columns named like field paths)")
	format := fs.String("format", "", "csv or ndjson (default: ndjson for .ndjson/.jsonl files, else csv)")
	dryRun := fs.Bool("dry-run", false, "run every row through the pipeline and print what would happen; produce nothing")
	rejects := fs.String("rejects", "", "write unparseable rows here (same format plus a reason column); a directory when importing several files")
	resume := fs.Bool("resume", false, "skip the rows an interrupted import of the same file already finished (from its state file)")
	statePath := fs.String("state", "", "resume state file (default: FILE.capi-import-state next to the input)")
	stateEvery := fs.Duration("state-interval", time.Second, "how often the resume state is saved (rows acknowledged after the last save are produced again by --resume, under the same event ids)")
	encoding := fs.String("encoding", "auto", "input encoding: "+importer.EncodingNames)
	delimiter := fs.String("delimiter", "", "CSV delimiter: , ; tab (default: detected from the header)")
	decimalComma := fs.String("decimal-comma", "auto", "read 59,90 as 59.90: true, false or auto (true when the delimiter is ;)")
	nowFlag := fs.String("now", "", "dry run: RFC 3339 time used as now (default: the current time)")
	asJSON := fs.Bool("json", false, "print the summary as JSON (one object per file)")
	return func(ctx context.Context, files []string, stdin io.Reader, stdout, stderr io.Writer) error {
		if len(files) == 0 {
			return usagef("no input file (give one or more files, or - for standard input)")
		}
		o := importer.Options{Encoding: *encoding, DryRun: *dryRun, Format: *format, StateEvery: *stateEvery}
		if *stateEvery <= 0 {
			return usagef("--state-interval must be positive")
		}
		switch strings.ToLower(*delimiter) {
		case "":
		case ",", ";":
			o.Delimiter = rune((*delimiter)[0])
		case "tab", `\t`, "\t":
			o.Delimiter = '\t'
		default:
			return usagef("--delimiter must be , ; or tab")
		}
		switch *decimalComma {
		case "auto":
		case "true", "false":
			b := *decimalComma == "true"
			o.DecimalComma = &b
		default:
			return usagef("--decimal-comma must be true, false or auto")
		}
		var err error
		if o.Now, err = parseNow(*nowFlag, time.Time{}); err != nil {
			return err
		}
		if *mappingPath != "" {
			b, err := os.ReadFile(*mappingPath)
			if err != nil {
				return usagef("--mapping: %v", err)
			}
			if o.Mapping, err = importer.ParseMapping(b); err != nil {
				return usagef("--mapping %s: %v", *mappingPath, err)
			}
		}
		if *statePath != "" && len(files) > 1 {
			return usagef("--state names one file: import one input at a time with it")
		}

		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		if *topic != "" {
			cfg.Kafka.Topics = []string{strings.TrimSpace(*topic)}
		}
		if len(cfg.Kafka.Topics) == 0 {
			return usagef("no topic: set kafka.topics (CAPI_KAFKA_TOPIC) or --topic")
		}
		o.Topic = cfg.Kafka.Topics[0]
		if topicFormat := cfg.Kafka.TopicFormat(o.Topic); topicFormat != "" && topicFormat != config.FormatJSON {
			return usagef("topic %q is read as %s: import produces JSON events; import to a topic read as json", o.Topic, topicFormat)
		}
		if o.DryRun {
			if o.Pipeline, err = service.PreviewPipeline(cfg, ""); err != nil {
				return err
			}
		} else {
			if err := service.CheckKeys(cfg, service.ProducerKeys...); err != nil {
				return err
			}
			cl, err := service.NewProducer(cfg.Kafka, service.ToolLogger(stderr, cfg.LogLevel, cfg.LogFormat), "import", o.Topic,
				kgo.MaxBufferedRecords(20000), kgo.RecordDeliveryTimeout(2*time.Minute))
			if err != nil {
				return &configError{Err: err}
			}
			defer cl.Close()
			o.Producer = cl
		}

		f := importer.File{Rejects: *rejects, StatePath: *statePath, Resume: *resume}
		err = importer.RunFiles(ctx, files, f, o, stdin, stderr, func(s importer.Summary) error {
			if *asJSON {
				return json.NewEncoder(stdout).Encode(s)
			}
			return s.WriteText(stdout)
		})
		var ae *importer.ArgError
		if errors.As(err, &ae) {
			return usagef("%v", err)
		}
		return err
	}
}
