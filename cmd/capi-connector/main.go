// Command capi-connector consumes Commanders Act events from Kafka and delivers them to the Meta Conversions API.
//
// Data flow from here: config (config.Load) → processor/service (the pipeline of stages and the Kafka runtime,
// wired from the configuration) → sink (stream.Runner: processor/capi for Graph, the DLQ topic for rejections).
// This package keeps flags, printing and exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/service"
)

// exit codes
const (
	exitOK     = 0
	exitFail   = 1   // runtime failure
	exitUsage  = 2   // unusable arguments
	exitConfig = 3   // invalid configuration
	exitSignal = 130 // a second SIGINT/SIGTERM during the drain
)

// usageError marks errors caused by the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// configError marks errors caused by the configuration (exit status 3); the service returns the same type.
type configError = service.ConfigError

// loadConfig loads path (may be "") plus the CAPI_* environment.
func loadConfig(path string) (config.Config, error) {
	cfg, problems := config.Read(path, os.Environ())
	if len(problems) > 0 {
		return cfg, &configError{Err: &config.ValidationError{Problems: problems}}
	}
	return cfg, nil
}

// newFlagSet returns the flag set of a command: -h/--help prints the whole help (help.go) to stderr (main makes it
// stdout when the help was asked for), and parsing never exits.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses a command's flags. When stop is true the command returns err at once: nil after -h/--help
// (the help was printed), a usage error (exit status 2) for anything else.
func parseFlags(fs *flag.FlagSet, args []string) (stop bool, err error) {
	// The flag package prints its error and calls Usage; the error is returned instead (main prints it once, with
	// where the help is), and Usage prints the help only when it was asked for.
	out := fs.Output()
	help := wantsHelp(args)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		if help {
			printHelp(out, fs.Name(), fs)
		}
	}
	err = fs.Parse(args)
	fs.SetOutput(out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return true, usagef("%v (see 'capi-connector %s --help')", err, fs.Name())
	}
	return false, nil
}

// parseFlagsAnywhere is parseFlags for a command with positional arguments: flags may come before, between or
// after them (preview FILE --now T). Everything after "--" is positional.
func parseFlagsAnywhere(fs *flag.FlagSet, args []string) (positional []string, stop bool, err error) {
	for {
		if stop, err := parseFlags(fs, args); stop {
			return nil, true, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, false, nil
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(positional, rest...), false, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// action is a command once its flags are parsed; args are its positional arguments.
type action func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// argRule says what a command does with the words that are not flags.
type argRule int

const (
	argsIgnored    argRule = iota // passed to the action, which may ignore them
	argsAnywhere                  // positional arguments between the flags (parseFlagsAnywhere)
	argsNone                      // refused
	argsConfigFile                // refused, saying the file goes after --config
)

type command struct {
	args  argRule
	flags func(fs *flag.FlagSet) action // defines the command's flags and returns what runs once they are parsed
}

// run is the flag parsing and usage block every command shares: it parses args into the command's flag set and
// runs the command, or returns nil after -h/--help and a usage error (exit status 2) for a flag or argument
// mistake.
func (c command) run(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet(name, stderr)
	act := c.flags(fs)
	var stop bool
	var err error
	if c.args == argsAnywhere {
		args, stop, err = parseFlagsAnywhere(fs, args)
	} else {
		stop, err = parseFlags(fs, args)
		args = fs.Args()
	}
	switch {
	case stop:
		return err
	case c.args == argsNone && len(args) > 0:
		return usagef("unexpected argument %q (flags start with --; see capi-connector %s --help)", args[0], name)
	case c.args == argsConfigFile && len(args) > 0:
		return usagef("unexpected argument %q (the file goes after --config)", args[0])
	}
	return act(ctx, args, stdin, stdout, stderr)
}

func commands() map[string]command {
	return map[string]command{
		"run":             {argsConfigFile, cmdRun},
		"demo":            {argsIgnored, cmdDemo},
		"preview":         {argsAnywhere, cmdPreview},
		"check-config":    {argsConfigFile, cmdCheckConfig},
		"graph-simulator": {argsIgnored, cmdGraphSimulator},
		"produce-samples": {argsNone, cmdProduceSamples},
		"replay":          {argsNone, cmdReplay},
		"import":          {argsAnywhere, cmdImport},
		"bench":           {argsIgnored, cmdBench},
		"healthcheck":     {argsNone, cmdHealthcheck},
		"version":         {argsNone, cmdVersion},
		"completion":      {argsIgnored, cmdCompletion},
	}
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func realMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) >= 2 && args[0] == "help" {
		args = []string{args[1], "--help"} // capi-connector help replay
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout, cmds)
		return exitOK
	}
	if args[0] == "--version" || args[0] == "-version" {
		args[0] = "version"
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "capi-connector: unknown command %q\n\n", args[0])
		printUsage(stderr, cmds)
		return exitUsage
	}
	say := func(msg string) { fmt.Fprintln(stderr, "capi-connector: "+msg) }
	ctx, stop := service.SignalContext(context.Background(), say, func() { os.Exit(exitSignal) })
	defer stop()
	if wantsHelp(args[1:]) {
		stderr = stdout // asked for, the help is the output
	}
	err := c.run(ctx, args[0], args[1:], stdin, stdout, stderr)
	if err == nil {
		return exitOK
	}
	var ve *config.ValidationError
	var reported *reportedError
	switch {
	case errors.As(err, &reported):
		// Already in the command's log.
	case errors.As(err, &ve) && len(ve.Problems) > 1:
		fmt.Fprintf(stderr, "capi-connector %s: %d problems in the configuration:\n", args[0], len(ve.Problems))
		for _, p := range ve.Problems {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
	default:
		fmt.Fprintf(stderr, "capi-connector %s: %v\n", args[0], err)
	}
	var ue *usageError
	var ce *configError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ce):
		return exitConfig
	}
	return exitFail
}

func printUsage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: capi-connector <command> [flags]\n\ncommands:")
	for _, n := range slices.Sorted(maps.Keys(cmds)) {
		fmt.Fprintf(w, "  %-16s %s\n", n, summary(n))
	}
	fmt.Fprintln(w, "\nRun 'capi-connector <command> --help' (or 'capi-connector help <command>') for what a command does, its flags,\n"+
		"the environment it reads, examples and exit statuses. 'capi-connector --version' prints the version.\n\n"+
		"Exit status: 0 success, 1 failure at run time, 2 unusable arguments, 3 invalid configuration,\n"+
		"130 interrupted by a second SIGINT/SIGTERM during the drain.")
}
