package capitest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// jsonCorpus mixes valid JSON with what fastjson tolerates and encoding/json refuses.
var jsonCorpus = []string{
	``, ` `, `{}`, `[]`, `[1,2]`, `{"a":1}`, ` {"a" : [ true , false , null ] } `, `"x"`, `0`, `-0`, `-0.5e+10`,
	`1E-2`, `12`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `NaN`, `Infinity`, `-Inf`, `nan`, `tru`, `nul`, `falsey`,
	`{"a":1,"a":2}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `{"a"}`, `{"a":}`, `{a:1}`, `'a'`, `"\u00e9"`, `"\u00G0"`,
	`"\u12"`, `"\x41"`, `"\/\b\f\n\r\t\"\\"`, "\"a\tb\"", "\"\x00\"", "\"\x7f\"", "\"\xff\xfe\"", `"é"`, `[1 2]`,
	`{"a":1}{"b":2}`, `{"a":1} x`, "\t\n\r[ ]\r\n", "\v[]", "\u00a0[]", `"abc`, `"abc\`, `[[[]]]`, `[[[]]`,
	`{"a":{"b":{"c":[1,{"d":null}]}}}`, `1 2`, `+1`, `0x10`, `1e5.5`, `-01`, `00`, `0.0e0`, `"\uD800"`,
	`{"data":[{"event_name":"Purchase","event_time":1,"custom_data":{"value":NaN}}]}`,
}

func TestValidJSONMatchesEncodingJSON(t *testing.T) {
	cases := append([]string{}, jsonCorpus...)
	for _, n := range []int{maxJSONDepth - 1, maxJSONDepth, maxJSONDepth + 1} {
		cases = append(cases, strings.Repeat("[", n)+strings.Repeat("]", n),
			strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n),
			strings.Repeat(`[{"a":`, n/2)+"1"+strings.Repeat("}]", n/2)+" ")
	}
	// Every special byte at every offset of the eight-byte fast path.
	for p := range 18 {
		for _, c := range []byte{'"', '\\', 0, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff} {
			cases = append(cases, `"`+strings.Repeat("a", p)+string([]byte{c})+strings.Repeat("a", 17-p)+`"`,
				`"`+strings.Repeat("a", p)+`\`+string([]byte{c})+strings.Repeat("a", 17-p)+`"`)
		}
	}
	for _, c := range cases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%.60q) = %v, encoding/json says %v", c, got, want)
		}
	}
}

// FuzzValidJSON is the differential proof that validJSON accepts exactly what encoding/json.Valid accepts:
// go test -run '^$' -fuzz FuzzValidJSON ./processor/capi/capitest
func FuzzValidJSON(f *testing.F) {
	for _, c := range jsonCorpus {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

var ipCorpus = []string{"192.0.2.1", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5",
	"1..2.3", "1.2.3.4.", ".1.2.3", "1.2.3.0004", "::1", "2001:db8::1", "fe80::1%eth0", "1.2.3.4%x", "", "a.b.c.d",
	"::ffff:1.2.3.4", "1.2.3.-4", "00.1.2.3", "0.10.100.200"}

// FuzzValidIP checks validIP (with its allocation-free IPv4 path) against netip.ParseAddr without zones.
func FuzzValidIP(f *testing.F) {
	for _, c := range ipCorpus {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := netip.ParseAddr(string(b))
		if want := err == nil && !bytes.Contains(b, []byte("%")); validIP(b) != want {
			t.Fatalf("validIP(%q) = %v, netip says %v", b, !want, want)
		}
	})
}

// TestValidIPDottedQuads compares validIP with netip on every combination of tricky decimal fields.
func TestValidIPDottedQuads(t *testing.T) {
	parts := []string{"", "0", "00", "1", "01", "9", "10", "99", "100", "199", "249", "255", "256", "300", "999",
		"1000", "-1", "1a", " 1"}
	var walk func(prefix string, n int)
	walk = func(prefix string, n int) {
		if n > 0 {
			b := []byte(prefix)
			_, err := netip.ParseAddr(prefix)
			if validIP(b) != (err == nil) {
				t.Fatalf("validIP(%q) = %v, netip error %v", prefix, validIP(b), err)
			}
		}
		if n == 5 {
			return
		}
		for _, p := range parts {
			if n == 0 {
				walk(p, 1)
			} else {
				walk(prefix+"."+p, n+1)
			}
		}
	}
	walk("", 0)
}

// FuzzAbsoluteURL checks that plainHTTPURL, absoluteURL's allocation-free path, never accepts a text url.Parse
// would refuse or parse to anything but an http(s) URL with a host.
func FuzzAbsoluteURL(f *testing.F) {
	for _, s := range []string{"https://shop.example.com/p/1?x=1#top", "http://a", "https://a:80/", "http://%41/",
		"https://a/%zz", "https://a b/", "HTTPS://a/", "https:///x", "https://a?b", "https://a#b", "http://a\x7f"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !plainHTTPURL(b) {
			return
		}
		u, err := url.Parse(string(b))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("plainHTTPURL accepts %q, url.Parse: %v %+v", b, err, u)
		}
	})
}

// TestIsSHA256Hex checks the eight-bytes-at-a-time test against the byte-by-byte definition for every byte value
// at every position of a valid digest.
func TestIsSHA256Hex(t *testing.T) {
	valid := []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if !isSHA256Hex(valid) || isSHA256Hex(valid[:63]) || isSHA256Hex(append(valid, '0')) {
		t.Fatal("length or valid digest misjudged")
	}
	for pos := range valid {
		for c := range 256 {
			s := append([]byte(nil), valid...)
			s[pos] = byte(c)
			want := c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
			if got := isSHA256Hex(s); got != want {
				t.Fatalf("byte %#x at %d: got %v, want %v", c, pos, got, want)
			}
		}
	}
}

// TestPlainBytes checks plainBytes against a byte-by-byte reading on words made of the bytes that matter (stops,
// their neighbours, high bytes): zero when no byte stops a string, else the lowest set bit marks the first stop.
func TestPlainBytes(t *testing.T) {
	alphabet := []byte{0, 1, 0x1f, 0x20, 0x21, '"', '#', '[', '\\', ']', 'a', 0x7f, 0x80, 0xa2, 0xdc, 0xff}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		var w [8]byte
		for j := range w {
			w[j] = alphabet[rng.IntN(len(alphabet))]
		}
		first := 8
		for j, c := range w {
			if strStop[c] {
				first = j
				break
			}
		}
		m := plainBytes(binary.LittleEndian.Uint64(w[:]))
		if (m == 0) != (first == 8) || m != 0 && bits.TrailingZeros64(m)>>3 != first {
			t.Fatalf("plainBytes(%q) = %#x, first stop at %d", w[:], m, first)
		}
	}
}
