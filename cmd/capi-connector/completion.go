package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/capi-connector/capi-connector/processor/reject"
)

// cmdCompletion prints a completion script for bash, zsh or fish: the commands, each command's flags (read from its
// own --help, so they cannot drift), and the DLQ reasons after replay's --reason and --exclude-reason.
func cmdCompletion(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("completion", stderr)
	if stop, err := parseFlags(fs, args); stop {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("name one shell: bash, zsh or fish")
	}
	spec := completionSpec(ctx)
	switch fs.Arg(0) {
	case "bash":
		writeBashCompletion(stdout, spec)
	case "zsh":
		fmt.Fprint(stdout, "#compdef capi-connector\nautoload -U +X bashcompinit && bashcompinit\n")
		writeBashCompletion(stdout, spec)
	case "fish":
		writeFishCompletion(stdout, spec)
	default:
		return usagef("unknown shell %q: use bash, zsh or fish", fs.Arg(0))
	}
	return nil
}

type completion struct {
	commands []string
	summary  map[string]string
	flags    map[string][]string
	reasons  []string
}

var helpFlagRE = regexp.MustCompile(`(?m)^  (--[a-z0-9-]+)`)

func completionSpec(ctx context.Context) completion {
	cmds := commands()
	c := completion{summary: map[string]string{}, flags: map[string][]string{}}
	for name, cmd := range cmds {
		c.commands = append(c.commands, name)
		c.summary[name] = cmd.summary
		var help bytes.Buffer
		_ = cmd.run(ctx, []string{"--help"}, nil, io.Discard, &help)
		for _, m := range helpFlagRE.FindAllStringSubmatch(help.String(), -1) {
			c.flags[name] = append(c.flags[name], m[1])
		}
		c.flags[name] = append(c.flags[name], "--help")
	}
	slices.Sort(c.commands)
	for _, r := range reject.All() {
		c.reasons = append(c.reasons, string(r))
	}
	return c
}

func writeBashCompletion(w io.Writer, c completion) {
	fmt.Fprintf(w, `# capi-connector completion for bash (and zsh through bashcompinit).
_capi_connector() {
	local cur prev cmd
	cur="${COMP_WORDS[COMP_CWORD]}"
	prev="${COMP_WORDS[COMP_CWORD-1]}"
	cmd="${COMP_WORDS[1]}"
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "%s help --version --help" -- "$cur"))
		return
	fi
	case "$cmd:$prev" in
	replay:--reason|replay:--exclude-reason)
		COMPREPLY=($(compgen -W "%s" -- "$cur"))
		return;;
	completion:completion)
		COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
		return;;
	help:help)
		COMPREPLY=($(compgen -W "%s" -- "$cur"))
		return;;
	esac
	local flags=""
	case "$cmd" in
`, strings.Join(c.commands, " "), strings.Join(c.reasons, " "), strings.Join(c.commands, " "))
	for _, name := range c.commands {
		fmt.Fprintf(w, "\t%s) flags=%q;;\n", name, strings.Join(c.flags[name], " "))
	}
	fmt.Fprint(w, `	esac
	if [[ "$cur" == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _capi_connector capi-connector
`)
}

func writeFishCompletion(w io.Writer, c completion) {
	fmt.Fprintln(w, "# capi-connector completion for fish.")
	fmt.Fprintf(w, "complete -c capi-connector -f -n '__fish_use_subcommand' -a help -d 'help of a command'\n")
	for _, name := range c.commands {
		fmt.Fprintf(w, "complete -c capi-connector -f -n '__fish_use_subcommand' -a %s -d %s\n", name, fishQuote(c.summary[name]))
		for _, f := range c.flags[name] {
			opt := strings.TrimPrefix(f, "--")
			line := fmt.Sprintf("complete -c capi-connector -n '__fish_seen_subcommand_from %s' -l %s", name, opt)
			if name == "replay" && (opt == "reason" || opt == "exclude-reason") {
				line += " -x -a " + fishQuote(strings.Join(c.reasons, " "))
			}
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintf(w, "complete -c capi-connector -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'\n")
}

func fishQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
