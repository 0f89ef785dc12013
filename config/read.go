package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// EnvAllowUnknown set to true turns unknown CAPI_* variables from problems into warnings, for environments shared
// with other programs that use the same prefix. Without it a misspelt variable (CAPI_CONSENT_CATEGRY) is an error:
// silently ignored, it would leave a default in place — every event passing consent, say.
const EnvAllowUnknown = EnvPrefix + "ALLOW_UNKNOWN_ENV"

// sources records where the values of a configuration came from, so that a problem can name the file line or the
// variable to change. Read sets it; Load does not (its Config compares equal to one built by hand).
type sources struct {
	file       string
	unreadable bool              // the file could not be read or parsed: its keys kept their defaults
	lines      map[string]int    // key path → line in file (list items: the line of their first key)
	env        map[string]string // key path → the variable that set it
	unknownEnv []Problem         // unknown variables tolerated by CAPI_ALLOW_UNKNOWN_ENV (warnings)
	invalid    map[string]bool   // keys whose value could not be read: they kept the value of the layer below
}

// Read builds the configuration as Load does, from the YAML file at path ("" for none) and a whole environment in
// os.Environ() form ("NAME=value"), but keeps going: it returns whatever could be read (a value that could not be
// parsed keeps its default) and one Problem per mistake — file problems with their line, environment problems with
// their variable — including every CAPI_* variable the loader does not read, with the closest known name (unless
// CAPI_ALLOW_UNKNOWN_ENV=true, which makes them warnings that Check returns).
//
// The configuration is usable only when no problem is returned and Check finds none. Check on the returned
// configuration attaches the file line or the variable to its problems too; Inspect does both in one call.
func Read(path string, environ []string) (Config, []Problem) {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	c, src, errs := load(path, func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	c.src = src
	src.invalid = map[string]bool{}
	problems := make([]Problem, 0, len(errs))
	for _, err := range errs {
		var le *LoadError
		if errors.As(err, &le) {
			src.invalid[le.Key] = true
			problems = append(problems, src.locate(le.problem()))
		} else {
			problems = append(problems, Problem{Message: err.Error()})
		}
	}
	unknown := unknownEnv(&c, vars)
	switch allow, set := vars[EnvAllowUnknown]; {
	case !set || strings.TrimSpace(allow) == "":
		problems = append(problems, unknown...)
	default:
		ok, err := strconv.ParseBool(strings.TrimSpace(allow))
		switch {
		case err != nil:
			problems = append(problems, Problem{Env: EnvAllowUnknown, Message: fmt.Sprintf("%q is not a boolean", allow),
				Fix: "use true or false"})
			problems = append(problems, unknown...)
		case ok:
			for _, p := range unknown {
				p.Fix = "ignored because " + EnvAllowUnknown + "=true; " + p.Fix
				src.unknownEnv = append(src.unknownEnv, p)
			}
		default:
			problems = append(problems, unknown...)
		}
	}
	return c, problems
}

// Inspect is Read followed by Check, in one pass: every problem of the file (with its line), of the environment
// (with its variable) and of the values (with the line or variable that set them), each with its fix, and the
// warnings. A value-level problem about a key already reported while reading is left out (the key kept its default,
// so its checks say nothing useful). When the file cannot be read or parsed, only the reading problems are returned:
// checking the defaults in its place would report keys the file may well set.
func Inspect(path string, environ []string) (c Config, problems, warnings []Problem) {
	c, problems = Read(path, environ)
	if c.src.unreadable {
		return c, problems, nil
	}
	reported := map[string]bool{}
	for _, p := range problems {
		if p.Key != "" {
			reported[strings.TrimSuffix(p.Key, "_file")] = true
		}
	}
	checked, warnings := c.Check()
	for _, p := range checked {
		if !coveredBy(p.Key, reported) {
			problems = append(problems, p)
		}
	}
	// The file's problems in line order, then the environment's, then those of values from the defaults.
	rank := func(p Problem) int {
		switch {
		case p.File != "":
			return 0
		case p.Env != "":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(problems, func(a, b Problem) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return a.Line - b.Line
	})
	return c, problems, warnings
}

// coveredBy reports whether key, or a key it is part of, is in reported.
func coveredBy(key string, reported map[string]bool) bool {
	for k := key; k != ""; k = parentKey(k) {
		if reported[k] {
			return true
		}
	}
	return false
}

// parentKey strips the last ".name" or "[i]" of a key path: destinations[0].batch.linger → destinations[0].batch →
// destinations[0] → destinations → "".
func parentKey(key string) string {
	if i := strings.LastIndexAny(key, ".["); i > 0 {
		return key[:i]
	}
	return ""
}

// locate fills in where p's value came from: the variable that set its key (or the key it is part of), else the
// line of the key in the file. A problem about a value the file does not set points at the nearest enclosing key
// it does set (destinations[1].pixel_id missing → the line of that destination).
func (s *sources) locate(p Problem) Problem {
	if s == nil || p.Env != "" || p.Line != 0 || p.Key == "" {
		return p
	}
	for _, k := range []string{p.Key, p.Key + "_file"} {
		if name := s.env[k]; name != "" {
			p.Env = name
			return p
		}
	}
	for k := p.Key; k != ""; k = parentKey(k) {
		if name := s.env[k]; name != "" {
			p.Env = name
			return p
		}
		for _, kk := range []string{k, k + "_file"} {
			if line := s.lines[kk]; line > 0 {
				p.File, p.Line = s.file, line
				return p
			}
		}
	}
	return p
}

// problem converts a LoadError to a Problem.
func (e *LoadError) problem() Problem {
	return Problem{File: e.File, Line: e.Line, Env: e.Env, Key: e.Key, Message: e.Err.Error(), Fix: e.Fix}
}

// yamlLineRE finds the line yaml.v3 puts in its syntax errors.
var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlParserProblems are the messages of yaml.v3's parser (as opposed to its scanner). For those, yaml.v3 v3.0.1
// prints the 0-based line of the problem as if it were 1-based (and none at all for the first line), so
// "line 1" means line 2; for scanner errors the line it prints is right.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
	"did not find expected <document start>", "did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive", "found duplicate %YAML directive",
	"found incompatible YAML document", "found undefined tag handle",
}

// syntaxErrorLine returns the 1-based line of a yaml.v3 syntax error (0 when it names none) and its message without
// the line prefix.
func syntaxErrorLine(err error) (int, string) {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, err.Error()
	}
	line, _ := strconv.Atoi(m[1])
	switch {
	case slices.Contains(yamlParserProblems, m[2]):
		line++
	case line == 0 && !strings.Contains(m[2], "anchor") && !strings.Contains(m[2], "alias") && !strings.HasPrefix(m[2], "map merge"):
		line = 1 // a scanner error on the first line; the errors about anchors and merges carry no position at all
	}
	return line, m[2]
}

// unknownEnv reports every CAPI_* variable of vars that the loader did not read for configuration c.
func unknownEnv(c *Config, vars map[string]string) []Problem {
	known := map[string]bool{EnvAllowUnknown: true}
	for _, n := range KnownEnv() {
		known[n] = true
	}
	var destPrefixes []string
	for _, d := range c.Destinations {
		p := DestinationEnvPrefix(d.Name)
		destPrefixes = append(destPrefixes, p)
		for _, b := range destBindings() {
			known[p+b.env] = true
		}
	}
	var names []string
	for name := range vars {
		if strings.HasPrefix(name, EnvPrefix) && !known[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var out []Problem
	for _, name := range names {
		out = append(out, Problem{Env: name, Message: "unknown variable: the connector does not read it",
			Fix: unknownEnvFix(name, known, destPrefixes)})
	}
	return out
}

// unknownEnvFix suggests the closest known variable. A per-destination variable is matched against the variables of
// the configured destinations, so both a misspelt key (CAPI_DEST_SHOP_ACESS_TOKEN) and a misspelt or unconfigured
// destination name (CAPI_DEST_SHOPP_ACCESS_TOKEN) get an answer.
func unknownEnvFix(name string, known map[string]bool, destPrefixes []string) string {
	candidates := make([]string, 0, len(known))
	for k := range known {
		if k != EnvAllowUnknown {
			candidates = append(candidates, k)
		}
	}
	slices.Sort(candidates)
	best, bestDist := "", 4
	for _, k := range candidates {
		if d := editDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	// A known key after a destination prefix: the name is the problem.
	if rest, ok := strings.CutPrefix(name, destEnvPrefix); ok && best == "" {
		for _, b := range destBindings() {
			if dest, ok := strings.CutSuffix(rest, "_"+b.env); ok && dest != "" {
				if len(destPrefixes) == 0 {
					return fmt.Sprintf("no destination is configured, so %s%s_ addresses nothing: define the "+
						"destination in the file, or use %s%s for a single destination", destEnvPrefix, dest, EnvPrefix, b.env)
				}
				return fmt.Sprintf("no configured destination has the prefix %s%s_; the prefixes are %s", destEnvPrefix,
					dest, strings.Join(destPrefixes, ", "))
			}
		}
	}
	if best != "" {
		return "did you mean " + best + "?"
	}
	return "remove it, or set " + EnvAllowUnknown + "=true if another program reads it (the variables are listed in config/example.yaml)"
}

// EffectiveYAML prints the configuration as a YAML file would hold it — defaults, file and environment applied —
// with secrets redacted, and a comment after every value that did not come from the defaults saying where it came
// from (the variable, or the file and line).
func (c Config) EffectiveYAML() ([]byte, error) {
	var root yaml.Node
	if err := root.Encode(c.Redacted()); err != nil {
		return nil, err
	}
	if c.src != nil {
		c.src.annotate(&root, "")
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

func (s *sources) annotate(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinKey(path, k.Value)
			switch {
			case s.env[p] != "":
				k.LineComment = "from " + s.env[p]
			case s.env[p+"_file"] != "":
				k.LineComment = "from the file named by " + s.env[p+"_file"]
			case s.invalid[p]:
				k.LineComment = "default: the value set for it is invalid"
			case s.lines[p+"_file"] > 0 && v.Value != "":
				k.LineComment = fmt.Sprintf("from the file named at %s:%d", s.file, s.lines[p+"_file"])
			case s.lines[p] > 0 && (v.Kind == yaml.ScalarNode || len(v.Content) == 0 || v.Kind == yaml.SequenceNode):
				k.LineComment = fmt.Sprintf("from %s:%d", s.file, s.lines[p])
			}
			if k.LineComment != "" && (v.Kind == yaml.ScalarNode || v.Style&yaml.FlowStyle != 0) {
				v.LineComment, k.LineComment = k.LineComment, ""
			}
			s.annotate(v, p)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			s.annotate(item, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}
