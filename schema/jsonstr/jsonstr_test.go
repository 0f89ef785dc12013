package jsonstr

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// samples are the strings the escaper tests start from: plain, HTML, quotes and backslashes, control characters,
// U+2028 and U+2029, non-ASCII, invalid UTF-8. They seed FuzzAppend and FuzzAppendMinimal too.
var samples = []string{
	"", "plain", "plain ascii text longer than eight", `quote " backslash \ slash /`, "<script>&amp;</script>",
	"<a href=\"x\">&amp;</a>", "\b\f\n\r\t", "\x00\x01\x1f\x7f", "line\u2028para\u2029end", "é ü 日本 😀",
	"bad \xff utf8 \xc3", "\xed\xa0\x80 surrogate", "\u00a0nbsp", "trailing \xe2\x80", "fffd \ufffd literal",
	"\u2028\xff日本 \x00", "\u2028日本 \x00\b\\",
}

// checkAppend fails t unless Append writes s, after what dst holds, exactly as encoding/json does.
func checkAppend(t *testing.T, s string) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := Append([]byte("x"), s); got[0] != 'x' || !bytes.Equal(got[1:], want) {
		t.Fatalf("Append(%q) = %s, encoding/json %s", s, got, want)
	}
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range samples {
		checkAppend(t, s)
	}
}

// TestAppendWordBoundaries puts every kind of byte that needs a look at every offset of longer strings, so
// that both the eight-byte scan and the byte-by-byte path meet it, alone and in runs.
func TestAppendWordBoundaries(t *testing.T) {
	t.Parallel()
	specials := []string{
		`"`, `\`, "<", ">", "&", "\x00", "\x1f", "\x7f", "é", "\u2028", "\u2029", "\xff", "日本", "😀", "\xe2\x80",
		"=", ";", "?", "\x3d", "\x3f", "\x21", "\x20",
	}
	for c := range 256 {
		specials = append(specials, string([]byte{byte(c)}))
	}
	const plain = "abcdefghijklmnopqrstuvwxyz0123456789"
	for _, sp := range specials {
		for i := 0; i <= len(plain); i++ {
			for _, s := range []string{plain[:i] + sp + plain[i:], plain[:i] + sp + sp + sp + plain[i:], sp + plain[:i] + sp} {
				checkAppend(t, s)
			}
		}
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(checkAppend)
}

// TestPlain8 compares plain8 with plainByte on every byte value in every lane, on every pair of byte values in
// neighbouring lanes (where a borrow could leak from one byte into the next), and on random words.
func TestPlain8(t *testing.T) {
	t.Parallel()
	want := func(w uint64) bool {
		for i := range 8 {
			if !plainByte[byte(w>>(8*i))] {
				return false
			}
		}
		return true
	}
	check := func(w uint64) {
		if got := plain8(w); got != want(w) {
			t.Fatalf("plain8(%#016x) = %v", w, got)
		}
	}
	const filler = 0x6161616161616161 // "aaaaaaaa"
	for lane := range 8 {
		for c := range uint64(256) {
			check(filler&^(0xff<<(8*lane)) | c<<(8*lane))
		}
	}
	for lane := range 7 {
		for c := range uint64(256) {
			for d := range uint64(256) {
				check(filler&^(0xffff<<(8*lane)) | (c|d<<8)<<(8*lane))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1 << 20 {
		// Mostly plain bytes with a few others, so that both answers are common.
		var w uint64
		for i := range 8 {
			c := uint64(0x20 + rng.IntN(0x5f))
			if rng.IntN(16) == 0 {
				c = rng.Uint64N(256)
			}
			w |= c << (8 * i)
		}
		check(w)
	}
}

// TestPlainString compares plainString, which or-s the flags of its words, with plainByte on strings of every
// length up to 40 holding one byte of every value at every position.
func TestPlainString(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 40; n++ {
		for pos := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("a", n))
				b[pos] = byte(c)
				if got, want := plainString(string(b)), plainByte[c]; got != want {
					t.Fatalf("plainString(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
	if !plainString("") {
		t.Error(`plainString("") = false`)
	}
}

// TestAppendMinimal pins the canonical form of raw values: only '"', '\\' and control characters escaped, \b and
// \f as \u00xx, everything else (HTML characters, U+2028, non-ASCII) as it is.
func TestAppendMinimal(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`quote " backslash \ slash /`, `"quote \" backslash \\ slash /"`},
		{"<script>&amp;</script>", `"<script>&amp;</script>"`},
		{"\b\f\n\r\t", `"\u0008\u000c\n\r\t"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"line\u2028para\u2029end é 日本 😀", "\"line\u2028para\u2029end é 日本 😀\""},
	}
	for _, tt := range tests {
		if got := AppendMinimal([]byte("x"), []byte(tt.in)); string(got[1:]) != tt.want {
			t.Errorf("AppendMinimal(%q) = %s, want %s", tt.in, got[1:], tt.want)
		}
	}
}

func FuzzAppendMinimal(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		got := AppendMinimal(nil, []byte(s))
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Fatalf("AppendMinimal(%q) = %s, reads back as %q (%v)", s, got, back, err)
		}
		// Nothing but what JSON requires is escaped: without '"', '\\' and control characters the text is s.
		if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == '"' || r == '\\' }) && string(got) != `"`+s+`"` {
			t.Fatalf("AppendMinimal(%q) = %s, escapes more than JSON requires", s, got)
		}
	})
}

var benchStrings = []struct{ name, s string }{
	{"Plain", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
	{"Escaped", "<a href=\"https://example.com/?a=1&b=2\">Saint-Étienne\n\ttab\\ back\x01</a> \u2028 end"},
}

func BenchmarkAppend(b *testing.B) {
	for _, c := range benchStrings {
		b.Run(c.name, func(b *testing.B) {
			var dst []byte
			b.SetBytes(int64(len(c.s)))
			for b.Loop() {
				dst = Append(dst[:0], c.s)
			}
		})
	}
}

func BenchmarkAppendMinimal(b *testing.B) {
	s := []byte(benchStrings[1].s)
	var dst []byte
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		dst = AppendMinimal(dst[:0], s)
	}
}
