package main

import (
	"bytes"
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"

	"github.com/capi-connector/capi-connector/processor/reject"
)

// helpFS holds the help of every command, help/<command>.txt: its one-line summary (capi-connector --help lists
// them), a blank line, the synopsis (after "capi-connector "), a blank line, the paragraph of what the command does, then its Environment, Examples and Exit status sections. The flags
// and their defaults come from the command's own flag set (printHelp puts them after the paragraph), so they cannot
// drift from what the command accepts. TestEveryCommandHasHelp keeps the texts complete.
//
//go:embed help/*.txt
var helpFS embed.FS

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

// summary is the one-line summary of command name, the first line of its help text.
func summary(name string) string {
	text, _ := helpFS.ReadFile("help/" + name + ".txt")
	line, _, _ := strings.Cut(string(text), "\n")
	return line
}

// printHelp writes the help of command name: synopsis, paragraph, flags with defaults, environment, examples,
// exit statuses.
func printHelp(w io.Writer, name string, fs *flag.FlagSet) {
	text, err := helpFS.ReadFile("help/" + name + ".txt")
	if err != nil {
		text = []byte(name + " [flags]\n")
	}
	_, text, _ = bytes.Cut(text, []byte("\n\n")) // the summary
	synopsis, rest, _ := strings.Cut(string(text), "\n\n")
	about, sections, _ := strings.Cut(rest, "\n\n")
	fmt.Fprintf(w, "usage: capi-connector %s\n", strings.TrimSuffix(synopsis, "\n"))
	if about != "" {
		fmt.Fprintf(w, "\n%s\n", about)
	}
	if flags := flagLines(fs); len(flags) > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", strings.Join(flags, ""))
	}
	if sections != "" {
		fmt.Fprintf(w, "\n%s", sections)
	}
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

// cmdCompletion prints a completion script for bash, zsh or fish: the commands, each command's flags (read from its
// own flag set, so they cannot drift), and the DLQ reasons after replay's --reason and --exclude-reason.
func cmdCompletion(fs *flag.FlagSet) action {
	return func(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		if len(args) != 1 {
			return usagef("name one shell: bash, zsh or fish")
		}
		spec := completionSpec()
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

// completionSpec lists the commands, their summaries, their flags (from their own flag sets, so they cannot drift;
// "(internal)" ones left out, as in --help) and the DLQ reasons.
func completionSpec() completion {
	cmds := commands()
	c := completion{Summary: map[string]string{}, Flags: map[string][]string{}}
	for name, cmd := range cmds {
		c.Commands = append(c.Commands, name)
		c.Summary[name] = summary(name)
		fs := newFlagSet(name, io.Discard)
		cmd.flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.HasPrefix(f.Usage, "(internal)") {
				c.Flags[name] = append(c.Flags[name], "--"+f.Name)
			}
		})
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
