package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrSyntax: the file is not well-formed YAML.
var ErrSyntax = errors.New("YAML syntax error")

// maxSecretFileSize guards against a *_file pointing at the wrong file (a log, a binary): credentials are small.
const maxSecretFileSize = 64 << 10

// Load builds the configuration: Default(), then the YAML file at path (skipped when path is ""), then the
// environment read through env (usually os.LookupEnv; nil means an empty environment), then the *_file secrets.
// It does not validate: call Validate. Every problem found is returned at once, joined; each is a *LoadError naming
// the key (and the variable or file line) and wrapping ErrUnknownKey, ErrInvalidValue, ErrConflict, ErrSecretFile or
// ErrSyntax. On error the returned Config is the zero value.
//
// YAML specifics: unknown keys are errors (except top-level keys starting with "x-", free for anchors, as in docker
// compose); merge keys (<<: *anchor) work; a key with no value sets the zero value (`metrics_addr:` disables the
// server), except for a section, which keeps its defaults; a list key also accepts one comma-separated string.
func Load(path string, env func(string) (string, bool)) (Config, error) {
	c, _, errs := load(path, env)
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// load is Load keeping going: it returns whatever could be read (a value that could not be parsed keeps the value
// of the layer below), where each value came from, and every error met.
func load(path string, env func(string) (string, bool)) (Config, *sources, []error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	c := Default()
	src := &sources{file: path, lines: map[string]int{}, env: map[string]string{}}
	var errs []error
	if path != "" {
		errs = append(errs, decodeFile(path, &c, src)...)
	}
	errs = append(errs, applyEnv(&c, env, src)...)
	errs = append(errs, readSecretFiles(&c)...)
	return c, src, errs
}

// decodeFile layers the YAML file over c, recording the line of every key in src.
func decodeFile(path string, c *Config, src *sources) []error {
	data, err := os.ReadFile(path)
	if err != nil {
		src.unreadable = true
		return []error{&LoadError{File: path, Err: err, Fix: "check the configuration file path"}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		src.unreadable = true
		line, msg := syntaxErrorLine(err)
		return []error{&LoadError{File: path, Line: line, Err: fmt.Errorf("%w: %s", ErrSyntax, msg),
			Fix: "check the indentation and quoting on this line and the lines just before it"}}
	}
	d := decoder{file: path, lines: src.lines}
	d.decode(&root, reflect.ValueOf(c).Elem(), "")
	// Within the file, a secret and its file are exclusive.
	check := func(v reflect.Value, prefix string, pairs [][2]string) {
		for _, p := range pairs {
			if mustField(v, p[0]).String() != "" && mustField(v, p[1]).String() != "" {
				d.errs = append(d.errs, &LoadError{File: path, Line: d.lines[prefix+p[0]], Key: prefix + p[0],
					Err: fmt.Errorf("%w: both %s and %s are set", ErrConflict, p[0], p[1]),
					Fix: "keep only " + p[1] + " (the file keeps the secret out of the configuration)"})
			}
		}
	}
	check(reflect.ValueOf(c).Elem(), "", globalSecretPairs())
	for i := range c.Destinations {
		check(reflect.ValueOf(&c.Destinations[i]).Elem(), fmt.Sprintf("destinations[%d].", i), destSecretPairs())
	}
	return d.errs
}

// decoder walks the YAML node tree alongside the Go value, so every error carries the full key path and line —
// yaml.v3's own decoding names neither the key nor, for unknown fields, the section.
type decoder struct {
	file  string
	lines map[string]int // key path → line of the key
	errs  []error
}

func (d *decoder) fail(n *yaml.Node, key string, err error, fix string) {
	d.errs = append(d.errs, &LoadError{File: d.file, Line: n.Line, Key: key, Err: err, Fix: fix})
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	switch n.Kind {
	case 0: // a document holding only comments
		return
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			d.decode(n.Content[0], v, path)
		}
		return
	case yaml.AliasNode:
		d.decode(n.Alias, v, path)
		return
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Struct:
		if isNull(n) {
			return // an empty section keeps its defaults
		}
		if n.Kind != yaml.MappingNode {
			d.fail(n, orRoot(path), fmt.Errorf("%w: expected a mapping, got %s", ErrInvalidValue, kindName(n)), fixFor(t))
			return
		}
		d.mapping(n, v, path)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		if isNull(n) {
			v.SetZero()
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, fmt.Errorf("%w: expected a sequence, got %s", ErrInvalidValue, kindName(n)), fixFor(t))
			return
		}
		s := reflect.MakeSlice(t, 0, len(n.Content))
		for i, item := range n.Content {
			d.lines[fmt.Sprintf("%s[%d]", path, i)] = item.Line
			e := reflect.New(t.Elem())
			if df, ok := e.Interface().(interface{ setDefaults() }); ok {
				df.setDefaults()
			}
			d.decode(item, e.Elem(), fmt.Sprintf("%s[%d]", path, i))
			s = reflect.Append(s, e.Elem())
		}
		v.Set(s)
	case t == stringMapType:
		d.stringMap(n, v, path)
	default:
		d.leaf(n, v, path)
	}
}

// stringMap decodes a mapping of scalars (or, like lists, one "k1=v1,k2=v2" string). Each key's line is recorded
// under path.key, so Validate's problems about an entry can point at it.
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, path string) {
	switch {
	case isNull(n):
		v.SetZero()
		return
	case n.Kind == yaml.ScalarNode:
		m, err := splitMap(n.Value)
		if err != nil {
			d.fail(n, path, err, fixFor(v.Type()))
			return
		}
		v.Set(reflect.ValueOf(m))
		return
	case n.Kind != yaml.MappingNode:
		d.fail(n, path, fmt.Errorf("%w: expected a mapping, got %s", ErrInvalidValue, kindName(n)), fixFor(v.Type()))
		return
	}
	m := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		p := joinKey(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode || k.Tag == "!!merge" || k.Value == "":
			d.fail(k, path, fmt.Errorf("%w: keys must be plain non-empty names", ErrInvalidValue), fixFor(v.Type()))
		case isNull(val) || (val.Kind == yaml.ScalarNode && val.Value == ""):
			d.fail(k, p, fmt.Errorf("%w: no value", ErrInvalidValue), fixFor(v.Type()))
		case val.Kind != yaml.ScalarNode:
			d.fail(val, p, fmt.Errorf("%w: expected a plain value, got %s", ErrInvalidValue, kindName(val)), fixFor(v.Type()))
		default:
			if _, dup := m[k.Value]; dup {
				d.fail(k, p, fmt.Errorf("%w: key repeated", ErrConflict), "keep one occurrence")
				continue
			}
			m[k.Value] = val.Value
			d.lines[p] = k.Line
		}
	}
	v.Set(reflect.ValueOf(m))
}

func (d *decoder) leaf(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	if isNull(n) {
		v.SetZero()
		return
	}
	if t.Kind() == reflect.Slice && n.Kind == yaml.ScalarNode {
		v.Set(reflect.ValueOf(splitList(n.Value)))
		return
	}
	tmp := reflect.New(t)
	if n.Kind == yaml.ScalarNode && t == reflect.TypeFor[Secret]() {
		tmp.Elem().SetString(n.Value) // any scalar is a valid secret; never echo it in an error
	} else if err := n.Decode(tmp.Interface()); err != nil {
		got := kindName(n)
		if n.Kind == yaml.ScalarNode {
			got = fmt.Sprintf("%q", n.Value)
		}
		if t == reflect.TypeFor[Secret]() {
			got = kindName(n)
		}
		d.fail(n, path, fmt.Errorf("%w: cannot use %s as %s", ErrInvalidValue, got, typeName(t)), fixFor(t))
		return
	}
	v.Set(tmp.Elem())
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	fields := yamlFields(v.Type())
	// Merge keys first, so that explicit keys override merged ones wherever they appear.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Tag == "!!merge" {
			src := n.Content[i+1]
			if src.Kind == yaml.AliasNode {
				src = src.Alias
			}
			srcs := []*yaml.Node{src}
			if src.Kind == yaml.SequenceNode {
				srcs = src.Content
			}
			for _, s := range srcs {
				d.decode(s, v, path)
			}
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			continue
		}
		key := k.Value
		p := joinKey(path, key)
		if path == "" && strings.HasPrefix(key, "x-") {
			continue // extension key, e.g. a holder for YAML anchors
		}
		if seen[key] {
			d.fail(k, p, fmt.Errorf("%w: key repeated", ErrConflict), "keep one occurrence")
			continue
		}
		seen[key] = true
		idx, ok := fields[key]
		if !ok {
			d.fail(k, p, ErrUnknownKey, unknownKeyFix(key, fields))
			continue
		}
		d.lines[p] = k.Line
		d.decode(val, v.Field(idx), p)
	}
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(document)"
	}
	return path
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.AliasNode:
		return "an alias"
	default:
		return "a scalar"
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration"
	case t.Kind() == reflect.Bool:
		return "a boolean"
	case t.Kind() == reflect.Int:
		return "an integer"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Map:
		return "a mapping"
	default:
		return "a string"
	}
}

// unknownKeyFix suggests the closest valid key, or lists the valid ones.
func unknownKeyFix(key string, fields map[string]int) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	norm := func(s string) string { return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s)) }
	for _, name := range names {
		dist := editDistance(norm(key), norm(name))
		if dist < bestDist {
			best, bestDist = name, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "remove it; valid keys here: " + strings.Join(names, ", ")
}

// editDistance is the Levenshtein distance, for typo suggestions on short keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// readSecretFiles reads each *_file into its secret. Layering has left at most one of each pair set, unless a
// conflict was reported, in which case the file is not read (one error per mistake is enough).
func readSecretFiles(c *Config) []error {
	var errs []error
	read := func(v reflect.Value, prefix string, pairs [][2]string) {
		for _, p := range pairs {
			file := mustField(v, p[1]).String()
			if file == "" || mustField(v, p[0]).String() != "" {
				continue // nothing to read, or a conflict already reported
			}
			s, err := readSecretFile(file)
			if err != nil {
				errs = append(errs, &LoadError{Key: prefix + p[1], Err: fmt.Errorf("%w: %w", ErrSecretFile, err),
					Fix: "check the path and that the process can read it"})
				continue
			}
			mustField(v, p[0]).SetString(s)
		}
	}
	read(reflect.ValueOf(c).Elem(), "", globalSecretPairs())
	for i := range c.Destinations {
		read(reflect.ValueOf(&c.Destinations[i]).Elem(), fmt.Sprintf("destinations[%d].", i), destSecretPairs())
	}
	return errs
}

// ReadSecretFile reads a *_file secret the way Load does (size-limited, trailing line breaks removed), for the
// credentials that are read again at run time so that a rotated file is picked up without a restart.
func ReadSecretFile(path string) (Secret, error) {
	s, err := readSecretFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSecretFile, err)
	}
	return Secret(s), nil
}

// readSecretFile returns the file's content without its trailing line break (files written by echo or editors end
// with one; credentials never do).
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxSecretFileSize {
		return "", fmt.Errorf("%s is larger than %d bytes; not a credential file", path, maxSecretFileSize)
	}
	return trimOneLineBreak(string(b)), nil
}

// trimOneLineBreak removes one trailing line break ("\n" or "\r\n"): the one echo and editors end a file with.
// Any other whitespace is kept, for Validate to report in tokens (a copy-paste accident Graph would refuse with 190).
func trimOneLineBreak(s string) string {
	s, ok := strings.CutSuffix(s, "\n")
	if ok {
		s = strings.TrimSuffix(s, "\r")
	}
	return s
}
