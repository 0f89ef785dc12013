package importer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// row is one data row of an input: an event, or the problem that keeps it from being one.
type row struct {
	line    int    // first line of the row in the input (1-based; the CSV header is line 1)
	raw     []byte // the row's text as read (UTF-8), without its line break; valid until the next row
	value   []byte // the event JSON; valid until the next row
	id      string // integrations.facebook.event_id of the event
	problem rowProblem
}

// source yields the rows of one input.
type source interface {
	// next returns the next row, io.EOF after the last one, or an error that ends the input (a read error).
	next() (row, error)
	// dialect describes the input for the summary (format, delimiter, encoding).
	dialect() string
	// rejectsHeader is what a new rejects file starts with (nil: nothing).
	rejectsHeader() []byte
	// appendReject appends the rejects-file line of a rejected row.
	appendReject(dst []byte, r row) []byte
}

// csvSource reads a CSV file with a header row.
type csvSource struct {
	text  *textInput
	tee   *tee
	r     *csv.Reader
	plan  *plan
	delim rune
	dec   bool // decimal comma
	hdr   []byte
	off   int64
	buf   []byte
}

func newCSVSource(t *textInput, m Mapping, delim rune, decimalComma *bool, maxRow int) (*csvSource, error) {
	if delim == 0 {
		delim = detectDelimiter(t.r)
	}
	s := &csvSource{text: t, delim: delim, tee: &tee{r: t.r, max: maxRow}}
	s.dec = delim == ';'
	if decimalComma != nil {
		s.dec = *decimalComma
	}
	if m.DecimalComma != nil {
		s.dec = *m.DecimalComma
	}
	s.r = csv.NewReader(s.tee)
	s.r.Comma = delim
	s.r.FieldsPerRecord = -1
	s.r.ReuseRecord = true
	header, err := s.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty input: a CSV file needs a header row", ErrInput)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: the header row (line %d) is not valid CSV: %v", ErrInput, pe.StartLine, pe.Err)
		}
		return nil, err
	}
	header = append([]string(nil), header...)
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	s.off = s.r.InputOffset()
	s.hdr = append([]byte(nil), trimLineBreak(s.tee.take(0, s.off))...)
	if s.plan, err = newPlan(m, header, s.dec); err != nil {
		return nil, err
	}
	s.plan.utf8 = t.strict
	return s, nil
}

func (s *csvSource) next() (row, error) {
	rec, err := s.r.Read()
	from := s.off
	s.off = s.r.InputOffset()
	raw := bytes.TrimLeft(trimLineBreak(s.tee.take(from, s.off)), "\r\n")
	if errors.Is(err, io.EOF) {
		return row{}, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return row{line: pe.StartLine, raw: raw, problem: rowProblem(fmt.Sprintf("not valid CSV: %v (line %d, character %d)", pe.Err, pe.Line, pe.Column))}, nil
	}
	if err != nil {
		return row{}, err
	}
	line, _ := s.r.FieldPos(0)
	r := row{line: line, raw: raw}
	s.buf, r.id, r.problem = s.plan.build(s.buf[:0], rec)
	r.value = s.buf
	return r, nil
}

func (s *csvSource) dialect() string {
	d := "csv, delimiter " + delimName(s.delim) + ", " + s.text.encoding
	if s.dec {
		d += ", decimal comma"
	}
	return d
}

func delimName(d rune) string {
	if d == '\t' {
		return "tab"
	}
	return strconv.QuoteRune(d)
}

func (s *csvSource) rejectsHeader() []byte {
	var b []byte
	if s.text.bom {
		b = append(b, 0xEF, 0xBB, 0xBF)
	}
	b = append(b, s.hdr...)
	b = utf8Delim(b, s.delim)
	return append(b, "capi_import_reason\n"...)
}

// appendReject writes the row as read plus a reason column (line number and problem, quoted).
func (s *csvSource) appendReject(dst []byte, r row) []byte {
	dst = append(dst, r.raw...)
	dst = utf8Delim(dst, s.delim)
	dst = append(dst, '"')
	dst = append(dst, strings.ReplaceAll(fmt.Sprintf("line %d: %s", r.line, r.problem), `"`, `""`)...)
	return append(dst, "\"\n"...)
}

func utf8Delim(b []byte, d rune) []byte { return append(b, string(d)...) }

func trimLineBreak(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// ndjsonSource reads JSON Lines: one Commanders Act event (a JSON object) per line. Constants of the mapping fill
// absent fields (type defaults to offline) and integrations.facebook.event_id is set as for CSV rows.
type ndjsonSource struct {
	text      *textInput
	r         *bufio.Reader
	line      int
	maxLine   int
	constants map[string]any
	buf       []byte
	out       bytes.Buffer
}

// DefaultMaxLineBytes bounds one JSON line (and so the memory one row may take).
const DefaultMaxLineBytes = 1 << 20

func newNDJSONSource(t *textInput, m Mapping, maxLine int) (*ndjsonSource, error) {
	if len(m.Columns) > 0 || len(m.Flat) > 0 {
		return nil, fmt.Errorf("%w: a mapping file's column renames apply to CSV; for JSON Lines only constants: are used", ErrMapping)
	}
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	c := map[string]any{pathType: defaultType}
	for k, v := range m.Constants {
		if !targetField(k, true) {
			return nil, fmt.Errorf("%w: constant %q: not a Commanders Act field path", ErrMapping, k)
		}
		c[k] = v
	}
	return &ndjsonSource{text: t, r: t.r, maxLine: maxLine, constants: c}, nil
}

func (s *ndjsonSource) next() (row, error) {
	for {
		s.line++
		s.buf = s.buf[:0]
		tooLong := false
		var err error
		for {
			var chunk []byte
			chunk, err = s.r.ReadSlice('\n')
			if len(s.buf)+len(chunk) > s.maxLine {
				tooLong = true
			} else {
				s.buf = append(s.buf, chunk...)
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return row{}, err
		}
		if tooLong {
			return row{line: s.line, problem: rowProblem(fmt.Sprintf("line longer than %d bytes", s.maxLine))}, nil
		}
		raw := trimLineBreak(s.buf)
		if len(bytes.TrimSpace(raw)) == 0 {
			if err != nil {
				return row{}, io.EOF
			}
			continue
		}
		r := row{line: s.line, raw: raw}
		r.value, r.id, r.problem = s.event(raw)
		return r, nil
	}
}

func (s *ndjsonSource) event(raw []byte) ([]byte, string, rowProblem) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, "", rowProblem(fmt.Sprintf("not JSON (syntax error at byte %d)", se.Offset))
		}
		return nil, "", "not JSON"
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, "", "not JSON (more than one value on the line)"
	}
	ev, ok := v.(map[string]any)
	if !ok {
		return nil, "", "not a JSON object"
	}
	for path, val := range s.constants {
		if _, present := getPath(ev, path); !present {
			if err := setPath(ev, path, val); err != nil {
				return nil, "", rowProblem(err.Error())
			}
		}
	}
	var id string
	for _, p := range ownIDPaths {
		if v, ok := getPath(ev, p); ok {
			if s, ok := idText(v); ok {
				id = s
				break
			}
		}
	}
	if id == "" {
		canon, err := json.Marshal(ev) // map keys sorted: the same event gives the same bytes
		if err != nil {
			return nil, "", "not JSON"
		}
		sum := sha256.Sum256(canon)
		id = hashIDPrefix + hex.EncodeToString(sum[:hashIDHexBytes])
	}
	if err := setPath(ev, pathFBEventID, id); err != nil {
		return nil, "", rowProblem(err.Error())
	}
	s.out.Reset()
	enc := json.NewEncoder(&s.out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, "", "not JSON"
	}
	return bytes.TrimSuffix(s.out.Bytes(), []byte("\n")), id, ""
}

func idText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		x = strings.TrimSpace(x)
		return x, x != ""
	case json.Number:
		return x.String(), true
	}
	return "", false
}

func getPath(ev map[string]any, path string) (any, bool) {
	var cur any = ev
	for seg := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[seg]; !ok || cur == nil {
			return nil, false
		}
	}
	return cur, true
}

func setPath(ev map[string]any, path string, val any) error {
	segs := strings.Split(path, ".")
	cur := ev
	for i, seg := range segs[:len(segs)-1] {
		next, ok := cur[seg]
		if !ok || next == nil {
			m := map[string]any{}
			cur[seg] = m
			cur = m
			continue
		}
		if cur, ok = next.(map[string]any); !ok {
			return fmt.Errorf("%s is not an object", strings.Join(segs[:i+1], "."))
		}
	}
	cur[segs[len(segs)-1]] = val
	return nil
}

func (s *ndjsonSource) dialect() string { return "JSON Lines, " + s.text.encoding }

func (s *ndjsonSource) rejectsHeader() []byte { return nil }

// appendReject writes {"line":N,"reason":"…","raw":"<the line as read>"}: JSON Lines again, with the reason.
func (s *ndjsonSource) appendReject(dst []byte, r row) []byte {
	dst = fmt.Appendf(dst, `{"line":%d,"reason":`, r.line)
	dst = fbevent.AppendString(dst, string(r.problem))
	if r.raw != nil {
		dst = append(dst, `,"raw":`...)
		dst = fbevent.AppendString(dst, string(r.raw))
	}
	return append(dst, "}\n"...)
}
