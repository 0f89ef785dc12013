package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrMapping is wrapped by every error about a mapping file or about how a header maps to fields.
var ErrMapping = errors.New("mapping")

// Mapping says how the columns of a file become Commanders Act fields. The zero Mapping maps columns named like
// field paths (event_name, user.email, context.event_timestamp…) to those fields.
//
// The YAML form:
//
//	columns:                         # column header → field path, or a spec
//	  Email Address: user.email
//	  Order Date: {field: context.event_timestamp, layout: "02/01/2006 15:04", timezone: Europe/Paris}
//	  Consents: {field: consent_categories, split: "|"}
//	  Notes: ignore                  # never sent (unknown columns are ignored anyway, and listed)
//	constants:                       # fields set on every row that has no value for them
//	  type: offline
//	  event_name: purchase
//	timezone: Europe/Paris           # zone of dates without one (default UTC)
//	decimal_comma: true              # 59,90 is 59.90 (default: when the delimiter is ';')
//
// The flat form, without the columns/constants sections, is read too: `Email Address: user.email` renames a
// column of the header to a field, `event_name: purchase` (a field path whose value is not a field path) sets a
// constant, and `Order Date: {field: …}` is a column spec.
type Mapping struct {
	Columns   map[string]ColumnSpec
	Constants map[string]any
	// Flat holds the flat-form scalar entries, resolved against the header (a column name → rename, else a
	// field path → constant).
	Flat         map[string]string
	Timezone     *time.Location
	DecimalComma *bool
}

// ColumnSpec is where one column goes.
type ColumnSpec struct {
	Field    string `yaml:"field"`
	Layout   string `yaml:"layout"`   // Go layout of a date column ("02/01/2006 15:04")
	Timezone string `yaml:"timezone"` // zone of that column's dates (default: the mapping's, else UTC)
	Split    string `yaml:"split"`    // separator characters of a list column (default any of | , ;)
	As       string `yaml:"as"`       // value kind of a custom field: string, number, integer, boolean, list, timestamp
	Ignore   bool   `yaml:"-"`
}

// ignoreWords mark a column as deliberately not imported.
var ignoreWords = map[string]bool{"ignore": true, "-": true, "": true}

// ParseMapping reads a mapping file's YAML.
func ParseMapping(data []byte) (Mapping, error) {
	var doc yaml.Node
	m := Mapping{Columns: map[string]ColumnSpec{}, Constants: map[string]any{}, Flat: map[string]string{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		return m, fmt.Errorf("%w: %v", ErrMapping, err)
	}
	if len(doc.Content) == 0 {
		return m, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return m, fmt.Errorf("%w: line %d: the mapping file must be a YAML mapping (columns:, constants:, or column: field lines)", ErrMapping, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "columns":
			if v.Kind != yaml.MappingNode {
				return m, fmt.Errorf("%w: line %d: columns must map column names to field paths", ErrMapping, v.Line)
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				spec, err := columnSpec(v.Content[j+1])
				if err != nil {
					return m, err
				}
				m.Columns[v.Content[j].Value] = spec
			}
		case "constants":
			if v.Kind != yaml.MappingNode {
				return m, fmt.Errorf("%w: line %d: constants must map field paths to values", ErrMapping, v.Line)
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				var val any
				if err := v.Content[j+1].Decode(&val); err != nil {
					return m, fmt.Errorf("%w: line %d: %v", ErrMapping, v.Content[j+1].Line, err)
				}
				m.Constants[v.Content[j].Value] = val
			}
		case "timezone":
			loc, err := time.LoadLocation(v.Value)
			if err != nil {
				return m, fmt.Errorf("%w: line %d: timezone: unknown zone %q (e.g. UTC, Europe/Paris)", ErrMapping, v.Line, v.Value)
			}
			m.Timezone = loc
		case "decimal_comma":
			var b bool
			if err := v.Decode(&b); err != nil {
				return m, fmt.Errorf("%w: line %d: decimal_comma must be true or false", ErrMapping, v.Line)
			}
			m.DecimalComma = &b
		default:
			switch v.Kind {
			case yaml.MappingNode:
				spec, err := columnSpec(v)
				if err != nil {
					return m, err
				}
				m.Columns[k.Value] = spec
			case yaml.ScalarNode:
				m.Flat[k.Value] = v.Value
			case yaml.SequenceNode:
				var val any
				if err := v.Decode(&val); err != nil {
					return m, fmt.Errorf("%w: line %d: %v", ErrMapping, v.Line, err)
				}
				m.Constants[k.Value] = val
			default:
				return m, fmt.Errorf("%w: line %d: %q: expected a field path, a constant or {field: …}", ErrMapping, v.Line, k.Value)
			}
		}
	}
	for name, spec := range m.Columns {
		if spec.Timezone != "" {
			if _, err := time.LoadLocation(spec.Timezone); err != nil {
				return m, fmt.Errorf("%w: column %q: unknown timezone %q", ErrMapping, name, spec.Timezone)
			}
		}
		if spec.As != "" {
			if _, ok := kindNames[spec.As]; !ok {
				return m, fmt.Errorf("%w: column %q: as: %q is not one of string, number, integer, boolean, list, timestamp", ErrMapping, name, spec.As)
			}
		}
	}
	return m, nil
}

func columnSpec(v *yaml.Node) (ColumnSpec, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		if ignoreWords[strings.ToLower(strings.TrimSpace(v.Value))] {
			return ColumnSpec{Ignore: true}, nil
		}
		return ColumnSpec{Field: strings.TrimSpace(v.Value)}, nil
	case yaml.MappingNode:
		var s ColumnSpec
		if err := v.Decode(&s); err != nil {
			return s, fmt.Errorf("%w: line %d: %v", ErrMapping, v.Line, err)
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			if k := v.Content[j].Value; !slices.Contains([]string{"field", "layout", "timezone", "split", "as"}, k) {
				return s, fmt.Errorf("%w: line %d: unknown key %q in a column spec (field, layout, timezone, split, as)", ErrMapping, v.Content[j].Line, k)
			}
		}
		s.Field = strings.TrimSpace(s.Field)
		if ignoreWords[strings.ToLower(s.Field)] {
			s.Ignore = true
		}
		return s, nil
	}
	return ColumnSpec{}, fmt.Errorf("%w: line %d: a column maps to a field path or {field: …, layout: …}", ErrMapping, v.Line)
}

// targetField reports whether path can receive a column: a known field, or (explicit mappings only) a custom
// root field.
func targetField(path string, explicit bool) bool {
	if _, ok := fieldKind(path); ok {
		return true
	}
	return explicit && customPath(path)
}
