package main

import (
	"bytes"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/capi-connector/capi-connector/processor/reject"
)

// cmdCompletion prints a completion script for bash, zsh or fish: the commands, each command's flags (read from its
// own --help, so they cannot drift), and the DLQ reasons after replay's --reason and --exclude-reason.
func cmdCompletion(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		if len(args) != 1 {
			return usagef("name one shell: bash, zsh or fish")
		}
		spec := completionSpec(ctx)
		switch args[0] {
		case "bash":
			return writeBashCompletion(stdout, spec)
		case "zsh":
			fmt.Fprint(stdout, "#compdef capi-connector\nautoload -U +X bashcompinit && bashcompinit\n")
			return writeBashCompletion(stdout, spec)
		case "fish":
			return writeFishCompletion(stdout, spec)
		default:
			return usagef("unknown shell %q: use bash, zsh or fish", args[0])
		}
	}
}

type completion struct {
	Commands []string
	Summary  map[string]string
	Flags    map[string][]string
	Reasons  []string
}

var helpFlagRE = regexp.MustCompile(`(?m)^  (--[a-z0-9-]+)`)

func completionSpec(ctx context.Context) completion {
	cmds := commands()
	c := completion{Summary: map[string]string{}, Flags: map[string][]string{}}
	for name, cmd := range cmds {
		c.Commands = append(c.Commands, name)
		c.Summary[name] = cmd.summary
		var help bytes.Buffer
		_ = cmd.run(ctx, name, []string{"--help"}, nil, io.Discard, &help)
		for _, m := range helpFlagRE.FindAllStringSubmatch(help.String(), -1) {
			c.Flags[name] = append(c.Flags[name], m[1])
		}
		c.Flags[name] = append(c.Flags[name], "--help")
	}
	slices.Sort(c.Commands)
	for _, r := range reject.All() {
		c.Reasons = append(c.Reasons, string(r))
	}
	return c
}

// completionScripts are the bash and fish scripts, filled from a completion.
//
//go:embed completion.tmpl
var completionTmpl string

var completionScripts = template.Must(template.New("completion").Funcs(template.FuncMap{
	"join":       func(s []string) string { return strings.Join(s, " ") },
	"trimPrefix": func(s string) string { return strings.TrimPrefix(s, "--") },
	"fishQuote":  fishQuote,
}).Parse(completionTmpl))

func writeBashCompletion(w io.Writer, c completion) error {
	return completionScripts.ExecuteTemplate(w, "bash", c)
}

func writeFishCompletion(w io.Writer, c completion) error {
	return completionScripts.ExecuteTemplate(w, "fish", c)
}

func fishQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
