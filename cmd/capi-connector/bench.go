package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/rs/zerolog"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/stream"
	"github.com/capi-connector/capi-connector/test/bench"
)

// cmdBench measures the connector against ceilings measured in the same run (issue 7; test/bench holds the
// parts). The broker (kfake, unless --brokers names a real one) and the Graph API simulator run in a child
// process — this binary re-executed with the hidden --serve-env flag — so the memory figures of the backlog part
// are the connector's own: kfake holds every record in memory and the simulator every accepted event id.
func cmdBench(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "run a smaller version of every part (under a minute)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	brokers := fs.String("brokers", "", "bootstrap address of a real Kafka broker (test/kafka/start.sh); default: kfake")
	verbose := fs.Bool("verbose", false, "show the connector's warnings and errors on stderr")
	// Hidden: the child process of the environment, and the in-process variant and tiny sizes of the smoke test.
	serveEnv := fs.Bool("serve-env", false, "")
	inProcess := fs.Bool("in-process", false, "")
	tiny := fs.Bool("tiny", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usagef("%v", err)
	}
	var brokerList []string
	if *brokers != "" {
		brokerList = strings.Split(*brokers, ",")
	}
	if *serveEnv {
		return bench.Serve(ctx, brokerList, stdin, stdout)
	}

	sizes := bench.Full()
	switch {
	case *tiny:
		sizes = bench.Tiny()
	case *quick:
		sizes = bench.Quick()
	}
	var env bench.Env
	label := "kfake (separate process)"
	if *inProcess {
		label = "kfake (in process: its records count in the RSS)"
		e, err := bench.InProcess(brokerList)
		if err != nil {
			return err
		}
		env = e
	} else {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		childArgs := []string{"bench", "--serve-env"}
		if *brokers != "" {
			childArgs = append(childArgs, "--brokers", *brokers)
		}
		cmd := exec.Command(exe, childArgs...)
		cmd.Stderr = stderr
		e, err := bench.Child(cmd)
		if err != nil {
			return err
		}
		env = e
	}
	defer env.Close()
	if *brokers != "" {
		label = *brokers
	}

	log := zerolog.Nop()
	if *verbose {
		log = newLogger(stderr, "warn", config.LogJSON)
	}
	r := &bench.Runner{Env: env, Sizes: sizes, Broker: label, Progress: stderr,
		Wire: func(cfg config.Config) (stream.Options, error) {
			p, err := buildPipeline(cfg)
			if err != nil {
				return stream.Options{}, err
			}
			return streamOptions(cfg, p, log, nil)
		}}
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
