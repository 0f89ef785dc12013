package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// Event-id sources, in the order a row's own id is looked for. The connector itself prefers
// integrations.facebook.event_id, then event_id, then context.event_id; an import adds the order id (`id`) as the
// last own id before falling back to a hash of the row's mapped content.
const (
	pathFBEventID  = "integrations.facebook.event_id"
	pathType       = "type"
	pathTimestamp  = "context.event_timestamp"
	defaultType    = "offline"
	hashIDPrefix   = "imp-"
	hashIDHexBytes = 16 // 128 bits of SHA-256: collisions are not a concern at any file size
)

var ownIDPaths = []string{pathFBEventID, "event_id", "context.event_id", "id"}

// objectRoots are the top-level fields that are objects or arrays; no custom field may take their name.
var objectRoots = []string{"user", "context", "integrations", "items", "browser"}

// plan is a mapping resolved against one header: which column fills which field, and the static shape of the
// event JSON. A plan is used by one goroutine (it owns scratch buffers).
type plan struct {
	fields  []planField // sorted by path
	byCol   []int       // header column → index in fields, -1 when not imported
	header  []string
	root    *node
	idField int   // index of integrations.facebook.event_id
	ownIDs  []int // indexes of the own-id fields present, in ownIDPaths order
	// IgnoredColumns are header names that map to nothing (neither a field path nor a mapping entry).
	ignored []string
	utf8    bool // the input encoding was forced to UTF-8: invalid bytes are a row problem, not Windows-1252

	vals  [][]byte
	strs  []string // the cell text of fields filled from a column this row, "" otherwise
	arena []byte
	probs []string
}

type planField struct {
	path     string
	conv     converter
	col      int // -1: constant only
	colName  string
	constant []byte // JSON; nil when none
}

// newPlan resolves m against a header (the names as read, BOM removed). decimalComma is the file's default.
func newPlan(m Mapping, header []string, decimalComma bool) (*plan, error) {
	p := &plan{header: header, byCol: make([]int, len(header)), idField: -1}
	if m.DecimalComma != nil {
		decimalComma = *m.DecimalComma
	}
	zone := m.Timezone
	if zone == nil {
		zone = time.UTC
	}
	find := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(name)) {
				return i
			}
		}
		return -1
	}
	byPath := map[string]*planField{}
	type colTarget struct {
		spec     ColumnSpec
		explicit bool
	}
	targets := make([]*colTarget, len(header))
	for name, spec := range m.Columns {
		i := find(name)
		if i < 0 {
			return nil, fmt.Errorf("%w: column %q is not in the header (columns: %s)", ErrMapping, name, quoteList(header))
		}
		targets[i] = &colTarget{spec, true}
	}
	constants := map[string]any{}
	for k, v := range m.Constants {
		constants[k] = v
	}
	for k, v := range m.Flat {
		if i := find(k); i >= 0 && (ignoreWords[strings.ToLower(v)] || targetField(v, true)) {
			if targets[i] != nil {
				return nil, fmt.Errorf("%w: column %q is mapped twice", ErrMapping, k)
			}
			spec := ColumnSpec{Field: v, Ignore: ignoreWords[strings.ToLower(v)]}
			targets[i] = &colTarget{spec, true}
			continue
		}
		if _, isField := fieldKind(v); !isField && targetField(k, true) {
			constants[k] = v
			continue
		}
		return nil, fmt.Errorf("%w: %q is neither a column of the header (%s) nor a field path", ErrMapping, k, quoteList(header))
	}
	for i, h := range header {
		p.byCol[i] = -1
		t := targets[i]
		if t == nil {
			name := strings.ToLower(strings.TrimSpace(h))
			if _, ok := fieldKind(name); ok {
				t = &colTarget{ColumnSpec{Field: name}, false}
			} else {
				if strings.TrimSpace(h) != "" {
					p.ignored = append(p.ignored, h)
				}
				continue
			}
		}
		if t.spec.Ignore {
			continue
		}
		path := t.spec.Field
		if !targetField(path, t.explicit) || slices.Contains(objectRoots, path) {
			return nil, fmt.Errorf("%w: column %q: %q is not a Commanders Act field path (e.g. user.email, value, context.event_timestamp) nor a custom root field name", ErrMapping, h, path)
		}
		if other, dup := byPath[path]; dup {
			return nil, fmt.Errorf("%w: columns %q and %q both map to %s", ErrMapping, other.colName, h, path)
		}
		conv, err := newConverter(path, t.spec, decimalComma, zone)
		if err != nil {
			return nil, fmt.Errorf("%w: column %q: %v", ErrMapping, h, err)
		}
		f := &planField{path: path, conv: conv, col: i, colName: h}
		byPath[path] = f
	}
	if _, ok := constants[pathType]; !ok {
		constants[pathType] = defaultType
	}
	for path, v := range constants {
		if slices.Contains(ownIDPaths, path) {
			return nil, fmt.Errorf("%w: constant %q: an event id cannot be a constant (every row would share it, and Meta would keep one)", ErrMapping, path)
		}
		if !targetField(path, true) || slices.Contains(objectRoots, path) {
			return nil, fmt.Errorf("%w: constant %q: not a Commanders Act field path nor a custom root field name", ErrMapping, path)
		}
		f := byPath[path]
		if f == nil {
			conv, err := newConverter(path, ColumnSpec{}, false, zone)
			if err != nil {
				return nil, fmt.Errorf("%w: constant %q: %v", ErrMapping, path, err)
			}
			f = &planField{path: path, conv: conv, col: -1}
			byPath[path] = f
		}
		js, err := constantJSON(f.conv, v)
		if err != nil {
			return nil, fmt.Errorf("%w: constant %q: %v", ErrMapping, path, err)
		}
		f.constant = js
	}
	if byPath[pathFBEventID] == nil {
		byPath[pathFBEventID] = &planField{path: pathFBEventID, conv: converter{kind: kindString}, col: -1}
	}
	paths := slices.Sorted(func(yield func(string) bool) {
		for k := range byPath {
			if !yield(k) {
				return
			}
		}
	})
	for i, path := range paths {
		if i > 0 && strings.HasPrefix(path, paths[i-1]+".") {
			return nil, fmt.Errorf("%w: fields %s and %s collide (one is inside the other)", ErrMapping, paths[i-1], path)
		}
	}
	p.root = &node{}
	for i, path := range paths {
		f := byPath[path]
		p.fields = append(p.fields, *f)
		if f.col >= 0 {
			p.byCol[f.col] = i
		}
		if path == pathFBEventID {
			p.idField = i
		}
		p.root.insert(strings.Split(path, "."), i)
	}
	for _, own := range ownIDPaths {
		if i := slices.Index(paths, own); i >= 0 && p.fields[i].col >= 0 {
			p.ownIDs = append(p.ownIDs, i)
		}
	}
	if !p.mapsAnyColumn() {
		return nil, fmt.Errorf("%w: no column of the header maps to a Commanders Act field (columns: %s); name columns like field paths (user.email, value…) or give a mapping file", ErrMapping, quoteList(header))
	}
	p.root.sortArrays()
	p.vals = make([][]byte, len(p.fields))
	p.strs = make([]string, len(p.fields))
	return p, nil
}

func (p *plan) mapsAnyColumn() bool {
	for _, f := range p.byCol {
		if f >= 0 {
			return true
		}
	}
	return false
}

// idSource describes where event ids come from, for the summary.
func (p *plan) idSource() string {
	if len(p.ownIDs) == 0 {
		return "a hash of each row's mapped content"
	}
	names := make([]string, len(p.ownIDs))
	for i, f := range p.ownIDs {
		names[i] = strconv.Quote(p.fields[f].colName) + " (" + p.fields[f].path + ")"
	}
	return "column " + strings.Join(names, ", else ") + ", else a hash of the row's mapped content"
}

// hasField reports whether path is filled by a column or a constant.
func (p *plan) hasField(path string) bool {
	for _, f := range p.fields {
		if f.path == path && (f.col >= 0 || f.constant != nil) {
			return true
		}
	}
	return false
}

func newConverter(path string, spec ColumnSpec, decimalComma bool, zone *time.Location) (converter, error) {
	k, ok := fieldKind(path)
	if !ok {
		k = kindString
	}
	if spec.As != "" {
		if ok {
			if kindNames[spec.As] != k {
				return converter{}, fmt.Errorf("as: %s does not fit %s, a known field", spec.As, path)
			}
		}
		k = kindNames[spec.As]
	}
	c := converter{kind: k, decimalComma: decimalComma, layout: spec.Layout, loc: zone, split: spec.Split}
	if spec.Timezone != "" {
		loc, err := time.LoadLocation(spec.Timezone)
		if err != nil {
			return c, err
		}
		c.loc = loc
	}
	if spec.Layout != "" && k != kindTimestamp {
		return c, fmt.Errorf("layout applies to date fields (context.event_timestamp), not %s", path)
	}
	if spec.Split != "" && k != kindList {
		return c, fmt.Errorf("split applies to list fields (consent_categories), not %s", path)
	}
	return c, nil
}

func constantJSON(c converter, v any) ([]byte, error) {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = fmt.Sprint(e)
		}
		if c.kind != kindList {
			return nil, fmt.Errorf("a list does not fit this field")
		}
		c.split = "\x00"
		v = strings.Join(parts, "\x00")
	}
	s := strings.TrimSpace(fmt.Sprint(v))
	if v == nil || s == "" {
		return nil, fmt.Errorf("empty value")
	}
	return c.appendJSON(nil, s)
}

// rowProblem is why a row cannot become an event; its text names columns and problems, never values.
type rowProblem string

// build appends the event JSON of one row to dst and returns it with the event id. cells are the row's fields.
func (p *plan) build(dst []byte, cells []string) ([]byte, string, rowProblem) {
	if len(cells) != len(p.header) {
		return dst, "", rowProblem(fmt.Sprintf("%d fields, the header has %d (an unquoted delimiter or line break in a value?)", len(cells), len(p.header)))
	}
	clear(p.vals)
	clear(p.strs)
	p.arena = p.arena[:0]
	p.probs = p.probs[:0]
	for i := range p.fields {
		f := &p.fields[i]
		if f.col >= 0 {
			cell := strings.TrimSpace(cells[f.col])
			if cell != "" && !utf8.ValidString(cell) {
				if p.utf8 {
					p.probs = append(p.probs, fmt.Sprintf("column %q: not valid UTF-8", f.colName))
					continue
				}
				// A file sniffed as UTF-8 whose later bytes are not: the usual culprit is Windows-1252.
				cell, _ = charmap.Windows1252.NewDecoder().String(cell)
			}
			if cell != "" {
				start := len(p.arena)
				var err error
				p.arena, err = f.conv.appendJSON(p.arena, cell)
				switch {
				case err == errEmptyList:
				case err != nil:
					p.probs = append(p.probs, fmt.Sprintf("column %q (%s): %v", f.colName, f.path, err))
					continue
				default:
					p.vals[i] = p.arena[start:len(p.arena):len(p.arena)]
					p.strs[i] = cell
					continue
				}
			}
		}
		if f.constant != nil {
			p.vals[i] = f.constant
		}
	}
	if len(p.probs) > 0 {
		return dst, "", rowProblem(strings.Join(p.probs, "; "))
	}
	var id string
	if p.vals[p.idField] == nil {
		for _, f := range p.ownIDs {
			if p.strs[f] != "" {
				id = p.strs[f]
				p.vals[p.idField] = fbevent.AppendString(p.arena[len(p.arena):], id)
				break
			}
		}
	}
	start := len(dst)
	if p.vals[p.idField] == nil {
		dst, _ = p.root.emit(dst, p.vals)
		sum := sha256.Sum256(dst[start:])
		id = hashIDPrefix + hex.EncodeToString(sum[:hashIDHexBytes])
		p.vals[p.idField] = fbevent.AppendString(nil, id)
		dst = dst[:start]
	} else if id == "" {
		id = p.strs[p.idField]
	}
	dst, _ = p.root.emit(dst, p.vals)
	return dst, id, ""
}

func quoteList(names []string) string {
	const max = 12
	q := make([]string, 0, min(len(names), max)+1)
	for i, n := range names {
		if i == max {
			q = append(q, fmt.Sprintf("… %d more", len(names)-max))
			break
		}
		q = append(q, strconv.Quote(n))
	}
	return strings.Join(q, ", ")
}

// node is one object (or array) of the event's static shape; a leaf holds the index of its field.
type node struct {
	key      string
	field    int // leaf: index into plan.fields; inner nodes: -1
	children []*node
	array    bool // children keys are indexes (items.0, items.1)
}

func (n *node) insert(segs []string, field int) {
	if len(segs) == 0 {
		n.field = field
		return
	}
	for _, c := range n.children {
		if c.key == segs[0] {
			c.insert(segs[1:], field)
			return
		}
	}
	c := &node{key: segs[0], field: -1}
	n.children = append(n.children, c)
	c.insert(segs[1:], field)
}

func (n *node) sortArrays() {
	if n.field >= 0 && n.children == nil {
		return
	}
	if n.key == "items" {
		n.array = true
		slices.SortFunc(n.children, func(a, b *node) int {
			x, _ := strconv.Atoi(a.key)
			y, _ := strconv.Atoi(b.key)
			return x - y
		})
	}
	for _, c := range n.children {
		c.sortArrays()
	}
}

// emit appends the JSON of n with the present values; ok is false (and nothing appended) when none is present,
// so no empty object or array is ever sent.
func (n *node) emit(b []byte, vals [][]byte) ([]byte, bool) {
	if n.children == nil {
		v := vals[n.field]
		if v == nil {
			return b, false
		}
		return append(b, v...), true
	}
	open := len(b)
	if n.array {
		b = append(b, '[')
	} else {
		b = append(b, '{')
	}
	any := false
	for _, c := range n.children {
		mark := len(b)
		if any {
			b = append(b, ',')
		}
		if !n.array {
			b = fbevent.AppendString(b, c.key)
			b = append(b, ':')
		}
		var ok bool
		if b, ok = c.emit(b, vals); !ok {
			b = b[:mark]
			continue
		}
		any = true
	}
	if !any {
		return b[:open], false
	}
	if n.array {
		return append(b, ']'), true
	}
	return append(b, '}'), true
}
