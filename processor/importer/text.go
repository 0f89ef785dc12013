package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// ErrInput is wrapped by errors about an input as a whole (an unknown encoding, no header): nothing of it was
// imported.
var ErrInput = errors.New("input")

// sniffBytes is how much of a file decides its encoding and delimiter.
const sniffBytes = 64 << 10

// textInput is an input decoded to UTF-8, with what was learnt on the way.
type textInput struct {
	r        *bufio.Reader
	encoding string // for the summary: "UTF-8", "UTF-8 with BOM", "Windows-1252 (not UTF-8)"…
	bom      bool   // the input started with a byte order mark (the rejects file gets one too, for Excel)
	strict   bool   // UTF-8 was forced: invalid bytes are a row problem
}

// Encodings accepted by --encoding, besides "" / "auto".
var encodings = map[string]encoding.Encoding{
	"windows-1252": charmap.Windows1252, "cp1252": charmap.Windows1252,
	"iso-8859-1": charmap.ISO8859_1, "latin1": charmap.ISO8859_1,
	"iso-8859-15": charmap.ISO8859_15, "latin9": charmap.ISO8859_15,
}

// EncodingNames lists the values of --encoding.
const EncodingNames = "auto, utf-8, utf-16, windows-1252 (cp1252), iso-8859-1 (latin1), iso-8859-15 (latin9)"

// decodeText detects (or applies) the encoding of in. Auto: a UTF-8 or UTF-16 byte order mark decides; else the
// first 64 KiB decide between UTF-8 (valid) and Windows-1252 (what Excel writes on Western Windows). A cell that
// is not UTF-8 further down a file taken as UTF-8 is read as Windows-1252 too (plan.build).
func decodeText(in io.Reader, name string) (*textInput, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	br := bufio.NewReaderSize(in, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	t := &textInput{}
	var dec *encoding.Decoder
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
		t.bom, t.encoding = true, "UTF-8 with BOM"
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		t.bom, t.encoding = true, "UTF-16 with BOM"
		dec = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
	}
	switch name {
	case "", "auto":
		if t.encoding == "" {
			if utf8.Valid(trimPartialRune(head)) {
				t.encoding = "UTF-8"
			} else {
				t.encoding = "Windows-1252 (the bytes are not UTF-8)"
				dec = charmap.Windows1252.NewDecoder()
			}
		}
	case "utf-8", "utf8":
		if dec != nil {
			return nil, fmt.Errorf("%w: --encoding utf-8, but the input starts with a UTF-16 byte order mark", ErrInput)
		}
		t.strict = true
		if t.encoding == "" {
			t.encoding = "UTF-8"
		}
	case "utf-16", "utf16":
		if dec == nil {
			return nil, fmt.Errorf("%w: --encoding utf-16 needs a byte order mark at the start of the input", ErrInput)
		}
	default:
		e, ok := encodings[name]
		if !ok {
			return nil, fmt.Errorf("%w: unknown encoding %q (one of %s)", ErrInput, name, EncodingNames)
		}
		if t.bom {
			return nil, fmt.Errorf("%w: --encoding %s, but the input starts with a Unicode byte order mark", ErrInput, name)
		}
		t.encoding, dec = name, e.NewDecoder()
	}
	if dec == nil {
		t.r = br
	} else {
		t.r = bufio.NewReaderSize(transform.NewReader(br, dec), sniffBytes)
	}
	return t, nil
}

// trimPartialRune drops an incomplete UTF-8 sequence cut by the end of a sniffed prefix.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// detectDelimiter counts the candidate delimiters of the header line outside quotes: the most frequent wins
// (French Excel writes ';', the default Excel ',' and "text" exports a tab).
func detectDelimiter(r *bufio.Reader) rune {
	head, _ := r.Peek(sniffBytes)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	counts := map[byte]int{}
	quoted := false
	for _, c := range head {
		switch c {
		case '"':
			quoted = !quoted
		case ',', ';', '\t':
			if !quoted {
				counts[c]++
			}
		}
	}
	best, n := byte(','), 0
	for _, c := range []byte{',', ';', '\t'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

// tee keeps the bytes a reader hands out from a given offset on, so that the raw text of a CSV record (from
// csv.Reader.InputOffset to InputOffset) can go to the rejects file exactly as read. It holds at most the
// reader's read-ahead plus one record.
type tee struct {
	r    io.Reader
	buf  []byte
	base int64 // stream offset of buf[0]
	max  int   // the most one record may hold; beyond, Read fails with ErrRowTooLarge
}

// ErrRowTooLarge ends an input whose row outgrows the limit: usually a quote that is never closed, which would
// otherwise make the rest of the file one row held in memory.
var ErrRowTooLarge = errors.New("a row is larger than the limit (an unterminated quote?)")

// maxRowBytes is the default limit of one CSV row.
const maxRowBytes = 16 << 20

func (t *tee) Read(p []byte) (int, error) {
	if t.max > 0 && len(t.buf) > t.max {
		return 0, fmt.Errorf("%w: more than %d MiB after byte %d", ErrRowTooLarge, t.max>>20, t.base)
	}
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// take returns the bytes [from, to) and forgets everything before to. The slice is valid until the next Read.
func (t *tee) take(from, to int64) []byte {
	if from < t.base {
		from = t.base
	}
	out := t.buf[from-t.base : to-t.base]
	t.buf = t.buf[to-t.base:]
	t.base = to
	return out
}

// countingReader counts the bytes read from a file, for progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
