package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// commandHelp is what `capi-connector <command> --help` prints around the command's flags. The flags and their
// defaults come from the command's own flag set, so they cannot drift from what the command accepts.
type commandHelp struct {
	synopsis string   // after "capi-connector ": "replay [flags]"
	about    string   // one paragraph: what the command does
	env      []string // "NAME  what it sets", the environment variables the command reads
	examples []string // at least two command lines, each with a comment
	exit     []string // "N  meaning", the exit statuses of this command
}

// Exit statuses shared by every command (README.md#exit-status).
const (
	exitLineOK     = "0    success"
	exitLineFail   = "1    failure at run time"
	exitLineUsage  = "2    unusable arguments (unknown flag, bad value)"
	exitLineConfig = "3    invalid configuration (every problem is printed, with its line or variable and the fix)"
	exitLineSignal = "130  a second SIGINT/SIGTERM during the graceful drain: stopped at once, unacknowledged work not committed"
)

// configEnv is what a command that reads the configuration says about the environment.
var configEnv = []string{
	"CAPI_*                  every configuration key (config/example.yaml lists them; check-config --print shows the result)",
	"CAPI_ALLOW_UNKNOWN_ENV  true: unknown CAPI_* variables are warnings instead of errors",
}

// kafkaEnv is what the Kafka tools (replay, produce-samples) read: the kafka section only.
var kafkaEnv = []string{
	"CAPI_KAFKA_BROKERS, CAPI_KAFKA_TOPIC, CAPI_KAFKA_GROUP, CAPI_DLQ_TOPIC, CAPI_KAFKA_CLIENT_ID",
	"CAPI_KAFKA_TLS_*, CAPI_KAFKA_SASL_*  connection security, as for run",
	"CAPI_LOG_LEVEL, CAPI_LOG_FORMAT",
	"CAPI_ALLOW_UNKNOWN_ENV  true: unknown CAPI_* variables are warnings instead of errors",
}

// helps is the help of every command, by name. TestEveryCommandHasHelp keeps it complete.
func helps() map[string]commandHelp {
	return map[string]commandHelp{
		"run": {
			synopsis: "run [--config FILE]",
			about: "Runs the connector: consumes the source topics as one consumer group, checks consent, maps, " +
				"normalizes and hashes each event, delivers it to every destination's Conversions API pixel in batches, " +
				"dead-letters what cannot go with the reason, and commits an offset only once every outcome of its record " +
				"is durable. It refuses to start on an invalid configuration (every problem printed at once), serves " +
				"/metrics, /healthz and /readyz on metrics_addr as soon as the configuration is valid, and drains on " +
				"SIGINT/SIGTERM within shutdown_timeout.",
			env: configEnv,
			examples: []string{
				"capi-connector run --config /etc/capi/config.yaml",
				"CAPI_KAFKA_BROKERS=kafka:9092 CAPI_PIXEL_ID=123 CAPI_ACCESS_TOKEN_FILE=/run/secrets/token capi-connector run",
			},
			exit: []string{exitLineOK + " (stopped by a signal after draining)", exitLineFail, exitLineUsage,
				exitLineConfig + "; also: the brokers refuse the TLS or SASL settings", exitLineSignal},
		},
		"demo": {
			synopsis: "demo [--events N] [--verbose] [--metrics-addr ADDR]",
			about: "Runs the whole product in one process with nothing to set up: an embedded Kafka (kfake), the Graph API " +
				"simulator over HTTP, and a few thousand realistic sample events (consented or not, with and without " +
				"personal data, one poisoned, one too old, one not JSON) through the real pipeline. It shows progress " +
				"and prints a summary: delivered, dead-lettered by reason, Graph requests, committed versus end offsets. " +
				"It succeeds only when every event was delivered or dead-lettered and every offset committed.",
			env: []string{"none: the demo configures itself"},
			examples: []string{
				"capi-connector demo",
				"capi-connector demo --events 100000 --metrics-addr 127.0.0.1:9464",
			},
			exit: []string{exitLineOK, exitLineFail + " (an event neither delivered nor dead-lettered, offsets behind)", exitLineUsage, exitLineSignal},
		},
		"preview": {
			synopsis: "preview [--config FILE] [--destination NAME] [--now TIME] [FILE|-]",
			about: "Reads newline-delimited JSON events from FILE (or stdin, or -) and prints, for each line and each " +
				"destination, the exact Conversions API server event the connector would send — or why it would not " +
				"(the DLQ reason, the stage and a detail), or that the destination's event filter excludes it. No Kafka " +
				"and no Graph call. Without --config it uses one destination with the built-in defaults and the " +
				"single-destination variables. Flags may come before or after FILE.",
			env: configEnv,
			examples: []string{
				"capi-connector preview --now 2026-11-29T12:00:00Z events.ndjson",
				"echo '{\"event_name\":\"page_view\"}' | CAPI_CONSENT_CATEGORY=2 capi-connector preview --destination default",
			},
			exit: []string{exitLineOK + " (the input was processed: rejections are results)", exitLineFail, exitLineUsage, exitLineConfig},
		},
		"check-config": {
			synopsis: "check-config [--config FILE] [--print] [--online]",
			about: "Checks a configuration the way run does before starting, and reports every problem in one pass: " +
				"unknown or misspelt YAML keys and CAPI_* variables (with the closest name), values that do not parse, " +
				"values out of range, missing secrets, tokens with whitespace — each with its file line or variable and " +
				"the fix. --print shows the effective configuration, secrets redacted, saying where each value came " +
				"from. --online then checks what the configuration points at: brokers, topics, group, each destination's " +
				"token for its pixel (no event is sent) and the schema registry, as a table of ✔ and ✖ with the fixes.",
			env: configEnv,
			examples: []string{
				"capi-connector check-config --config config.yaml --print",
				"CAPI_KAFKA_BROKERS=kafka:9092 CAPI_PIXEL_ID=123 CAPI_ACCESS_TOKEN_FILE=/run/secrets/token capi-connector check-config --online",
			},
			exit: []string{exitLineOK, "1    an --online check failed", exitLineUsage, exitLineConfig},
		},
		"replay": {
			synopsis: "replay [flags]",
			about: "Re-produces dead-lettered records to their source topic (or --to) with capi-replay-count " +
				"incremented, byte for byte, after the cause was fixed. Records are selected by reason, destination, " +
				"source topic and failure time; no_consent is excluded unless --reason is given; records replayed " +
				"--max-replays times are refused. Reasons and the target topic are checked before anything is read. " +
				"Progress is kept in a consumer group, so rerunning the same command resumes it; --dry-run lists what " +
				"would move. Replaying twice sends nothing twice to Facebook: event ids are deterministic.",
			env: kafkaEnv,
			examples: []string{
				"capi-connector replay --reason facebook_rejected --dry-run",
				"capi-connector replay --reason event_too_old,schema_error --from 2026-11-28T00:00:00Z --to events-retry",
			},
			exit: []string{exitLineOK, exitLineFail + " (Kafka errors; the summary says how far it got)",
				exitLineUsage + "; an unknown reason; a --to topic that does not exist", exitLineConfig, exitLineSignal},
		},
		"import": {
			synopsis: "import [flags] FILE...",
			about: "Produces the rows of CSV or JSON Lines files — offline conversions such as store sales, call-centre " +
				"orders, CRM exports — to the source topic as Commanders Act events, so the same pipeline (consent, " +
				"mapping, hashing, the 62-day physical_store window, DLQ, replay) handles them. Every event gets a " +
				"deterministic event id, so importing a file twice sends nothing twice to Facebook. Unparseable rows " +
				"are listed with their line and written to --rejects; --dry-run shows what would be delivered or " +
				"dead-lettered and produces nothing; --resume continues an interrupted import. - reads standard input; " +
				"flags may come before or after the files.",
			env: kafkaEnv,
			examples: []string{
				"capi-connector import --dry-run --rejects rejects.csv ventes.csv",
				"capi-connector import --mapping crm-mapping.yaml --resume export-2026-11.csv",
			},
			exit: []string{exitLineOK, "1    a row was neither produced nor written to the rejects file, or Kafka failed",
				exitLineUsage + "; a mapping or an input that cannot be read", exitLineConfig, exitLineSignal},
		},
		"graph-simulator": {
			synopsis: "graph-simulator [--listen ADDR] [flags]",
			about: "Serves the Graph API simulator: POST /{version}/{pixel_id}/events validated as strictly as the real " +
				"Conversions API (hash shapes, fbp/fbc, the 7-day window, required fields, 1000 events, token and " +
				"appsecret_proof), GET /{version}/{pixel_id} for token checks, and the control endpoints under /_sim/ " +
				"(faults, recorded events, stats). For the demo, tests and docker compose; faults can also be injected " +
				"at run time with PUT /_sim/faults.",
			env: []string{"none"},
			examples: []string{
				"capi-connector graph-simulator --listen 127.0.0.1:8090",
				"capi-connector graph-simulator --listen :8090 --pixels 123=EAABtoken --poison ord-1,ord-2 --latency 50ms",
			},
			exit: []string{exitLineOK + " (stopped by a signal)", exitLineFail + " (cannot listen)", exitLineUsage},
		},
		"produce-samples": {
			synopsis: "produce-samples [flags]",
			about: "Produces realistic Commanders Act sample events (the demo's generator) to a Kafka topic, for docker " +
				"compose and load tests: purchases, page views, leads, with and without consent and personal data, " +
				"optionally poisoned, too old or not JSON every Nth event. The same seed gives the same events and " +
				"event ids. It creates the topic when it is missing (unless --partitions 0) and reports the count by kind.",
			env: kafkaEnv,
			examples: []string{
				"capi-connector produce-samples --brokers localhost:29092 --events 5000",
				"capi-connector produce-samples --events 0 --rate 500 --poison-every 1000",
			},
			exit: []string{exitLineOK, exitLineFail + " (fewer events acknowledged than asked)", exitLineUsage, exitLineConfig},
		},
		"bench": {
			synopsis: "bench [--quick] [--json] [--parts LIST] [--brokers HOST:PORT]",
			about: "Measures the connector against ceilings measured in the same run, so figures compare across " +
				"machines: a bare franz-go consumer, the connector end to end with a zero-latency Graph simulator, the " +
				"transform alone, delivery bound by a 200 ms Graph latency, and a 2 million record backlog (peak memory). " +
				"The broker (kfake, or a real one with --brokers) and the simulator run in a child process so their " +
				"memory does not count.",
			env: []string{"none"},
			examples: []string{
				"capi-connector bench --quick",
				"capi-connector bench --json --parts e2e,transform --brokers 127.0.0.1:9092",
			},
			exit: []string{exitLineOK, exitLineFail, exitLineUsage},
		},
		"healthcheck": {
			synopsis: "healthcheck [--addr HOST:PORT | --config FILE] [--live] [--timeout D]",
			about: "Asks a running connector's ops server for /readyz (or /healthz with --live) and succeeds only on a " +
				"200; a 503 prints the failing readiness checks. For Docker's HEALTHCHECK and exec probes: the " +
				"distroless image has no curl. The address is --addr, else metrics_addr of --config, else " +
				"CAPI_METRICS_ADDR, else :9464; a wildcard host means this machine. It contacts nothing else.",
			env: []string{"CAPI_METRICS_ADDR  the ops address of the connector (default :9464)"},
			examples: []string{
				"capi-connector healthcheck",
				"capi-connector healthcheck --addr 127.0.0.1:9464 --live",
			},
			exit: []string{"0    the endpoint answered 200", "1    it answered something else, or nothing listens there", exitLineUsage, exitLineConfig},
		},
		"version": {
			synopsis: "version [--json]",
			about: "Prints the build's version (stamped with -ldflags \"-X main.version=…\": make build VERSION=…, or the " +
				"Dockerfile's VERSION argument; else the module version), the VCS revision and time it was built " +
				"from, the Go version and the platform, all read from the binary. `capi-connector --version` prints the same.",
			env: []string{"none"},
			examples: []string{
				"capi-connector --version",
				"capi-connector version --json | jq -r .vcs_revision",
			},
			exit: []string{exitLineOK, exitLineUsage},
		},
		"completion": {
			synopsis: "completion bash|zsh|fish",
			about: "Prints a shell completion script for the commands, their flags and the DLQ reasons of replay. " +
				"Load it in the current shell, or install it where the shell looks for completions.",
			env: []string{"none"},
			examples: []string{
				"source <(capi-connector completion bash)",
				"capi-connector completion fish > ~/.config/fish/completions/capi-connector.fish",
			},
			exit: []string{exitLineOK, exitLineUsage + " (no or an unknown shell)"},
		},
	}
}

// wantsHelp reports whether args ask for help (-h, -help, --help) before a "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

// printHelp writes the help of command name: synopsis, paragraph, flags with defaults, environment, examples,
// exit statuses.
func printHelp(w io.Writer, name string, fs *flag.FlagSet) {
	h, ok := helps()[name]
	if !ok {
		h = commandHelp{synopsis: name + " [flags]"}
	}
	fmt.Fprintf(w, "usage: capi-connector %s\n", h.synopsis)
	if h.about != "" {
		fmt.Fprintf(w, "\n%s\n", wrap(h.about, 100))
	}
	if flags := flagLines(fs); len(flags) > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", strings.Join(flags, ""))
	}
	section := func(title string, lines []string) {
		if len(lines) > 0 {
			fmt.Fprintf(w, "\n%s:\n", title)
			for _, l := range lines {
				fmt.Fprintf(w, "  %s\n", l)
			}
		}
	}
	section("Environment", h.env)
	section("Examples", h.examples)
	section("Exit status", h.exit)
}

// flagLines formats the flags with double dashes, their argument name and default. Flags whose usage starts with
// "(internal)" are for the test harness and are not listed.
func flagLines(fs *flag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, "(internal)") {
			return
		}
		arg, usage := flag.UnquoteUsage(f)
		if a, ok := argNames[f.Name]; ok && (arg == "string" || arg == "value") {
			arg = a
		}
		line := "  --" + f.Name
		if arg != "" {
			line += " " + strings.ToUpper(arg)
		}
		if f.DefValue != "" && f.DefValue != "false" && !strings.Contains(usage, "default") {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		out = append(out, line+"\n"+indent(wrap(usage, 92), "        ")+"\n")
	})
	return out
}

// argNames name the argument of string and list flags whose usage does not (flag.UnquoteUsage says "string").
var argNames = map[string]string{
	"config": "FILE", "to": "TOPIC", "from": "TIME", "until": "TIME", "group": "GROUP", "addr": "HOST:PORT",
	"listen": "ADDR", "brokers": "HOST:PORT,…", "topic": "TOPIC", "reason": "REASON,…", "exclude-reason": "REASON,…",
	"destination": "NAME", "source-topic": "TOPIC,…", "start-offsets": "PARTITION:OFFSET,…", "pixels": "PIXEL=TOKEN,…",
	"poison": "EVENT_ID,…", "app-secret": "SECRET", "metrics-addr": "HOST:PORT", "parts": "PART,…",
	"cpuprofile": "FILE", "heapprofile": "FILE", "mapping": "FILE", "rejects": "FILE", "state": "FILE",
	"format": "csv|ndjson", "encoding": "ENC", "delimiter": "CHAR", "decimal-comma": "true|false|auto",
}

// flagNames lists the flags of a command as --name, for completion.
func flagNames(fs *flag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Usage, "(internal)") {
			out = append(out, "--"+f.Name)
		}
	})
	slices.Sort(out)
	return out
}

func wrap(s string, width int) string {
	var b strings.Builder
	col := 0
	for i, word := range strings.Fields(s) {
		if i > 0 {
			if col+1+len([]rune(word)) > width {
				b.WriteByte('\n')
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += len([]rune(word))
	}
	return b.String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
