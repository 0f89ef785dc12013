package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strings"

	"github.com/capi-connector/capi-connector/processor/benchmark"
	"github.com/capi-connector/capi-connector/processor/service"
)

// cmdBench measures the connector against ceilings measured in the same run (issue 7; processor/benchmark holds the
// parts). The broker (kfake, unless --brokers names a real one) and the Graph API simulator run in a child
// process — this binary re-executed with the hidden --serve-env flag — so the memory figures of the backlog part
// are the connector's own: kfake holds every record in memory and the simulator every accepted event id.
func cmdBench(fs *flag.FlagSet) action {
	quick := fs.Bool("quick", false, "run a smaller version of every part (under a minute)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	brokers := fs.String("brokers", "", "bootstrap address of a real Kafka broker (test/kafka/start.sh); default: kfake")
	verbose := fs.Bool("verbose", false, "show the connector's warnings and errors on stderr")
	heapProfile := fs.String("heapprofile", "", "write a heap profile taken half way through the backlog part to this file")
	parts := fs.String("parts", "", "comma-separated parts to run ("+strings.Join(benchmark.PartNames, ",")+"); default all")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run (this process: the connector, not the broker) to this file")
	// Internal: the environment's child process, the smoke test's variant, and knobs for A/B comparisons.
	serveEnv := fs.Bool("serve-env", false, "(internal) serve the broker and simulator for a parent bench on stdin/stdout")
	inProcess := fs.Bool("in-process", false, "(internal) run broker and simulator in this process (their memory counts in the RSS)")
	tiny := fs.Bool("tiny", false, "(internal) smoke-test sizes: every part in a few seconds, figures meaningless")
	workers := fs.Int("workers", 0, "(internal) transform workers of the runtime (default GOMAXPROCS)")
	trace := fs.Bool("trace", false, "(internal) log end-to-end progress every 100ms")
	backlogEvents := fs.Int("backlog-events", 0, "(internal) records of the backlog part")
	envCPUProfile := fs.String("env-cpuprofile", "", "(internal) write a CPU profile of the environment's process (broker, simulator) to this file")
	return func(ctx context.Context, _ []string, stdin io.Reader, stdout, stderr io.Writer) error {
		var partList []string
		if *parts != "" {
			partList = strings.Split(*parts, ",")
			for _, p := range partList {
				if !slices.Contains(benchmark.PartNames, p) {
					return usagef("--parts: unknown part %q (want %s)", p, strings.Join(benchmark.PartNames, ","))
				}
			}
		}
		var brokerList []string
		if *brokers != "" {
			brokerList = strings.Split(*brokers, ",")
		}
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		if *serveEnv {
			return benchmark.Serve(ctx, brokerList, stdin, stdout)
		}

		sizes := benchmark.Full()
		switch {
		case *tiny:
			sizes = benchmark.Tiny()
		case *quick:
			sizes = benchmark.Quick()
		}
		if *backlogEvents > 0 {
			sizes.BacklogEvents = *backlogEvents
		}
		env, label, err := benchmark.NewEnv(brokerList, *inProcess, *envCPUProfile, stderr)
		if err != nil {
			return err
		}
		defer env.Close()

		log := service.VerboseLogger(stderr, *verbose, "warn")
		r := &benchmark.Runner{Env: env, Sizes: sizes, Broker: label, ExternalBroker: *brokers != "", Progress: stderr,
			Logger: log, Workers: *workers}
		r.Parts = partList
		r.Trace = *trace
		if *heapProfile != "" {
			f, err := os.Create(*heapProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			r.HeapProfile = f
		}
		res, err := r.Run(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(res)
		}
		res.WriteTable(stdout)
		fmt.Fprintln(stdout)
		return nil
	}
}
