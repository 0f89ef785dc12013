package capitest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// FuzzJSONDoc is the differential proof that jsonDoc accepts exactly what validJSON and fastjson both accept (the
// simulator's former two-pass judgement) and yields the values fastjson yielded: kinds, unescaped keys and
// strings, number texts, integer and finite readings.
// go test -run '^$' -fuzz FuzzJSONDoc ./processor/capi/capitest
func FuzzJSONDoc(f *testing.F) {
	for _, s := range jsonCorpus {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"a\u005fb":"x\ud83d\ude00y","b":"\ud800","c":"\ud800\u0041z","d":"\udc00\n\t\"\\\/"}`,
		`[1,-0,12345678901234567890,-9223372036854775808,9223372036854775808,1.5,1e400,-1e400,1e-400,0.1e1]`,
		`{"a":{"b":[true,false,null,{}]},"a":[]}`, strings.Repeat("[", 299) + strings.Repeat("]", 299),
		strings.Repeat("[", 300) + strings.Repeat("]", 300), strings.Repeat("[", 301) + strings.Repeat("]", 301),
		strings.Repeat(`{"a":`, 299) + "1" + strings.Repeat("}", 299),
		strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300),
		`[123456789012345,1234567890123456,0.00000000000001,99999999999999999999.5,1E2,-0.0]`,
		`{"x":1,"d\u0061ta":[{"a":[1,{"b":"c"}]}, [], "s" ,2],"data":[3]}`, `{"data":"[1]","data":[ ]}`,
		`{"data":[1,2`, `{"data":[1,]}`, `[{"data":[1]}]`, `{"a":{"data":[1]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d jsonDoc
		got := d.parse(b)
		var p fastjson.Parser
		v, err := p.ParseBytes(b)
		want := validJSON(b) && err == nil
		if got != want {
			t.Fatalf("jsonDoc.parse(%q) = %v, validJSON && fastjson = %v (fastjson: %v)", b, got, want, err)
		}
		if got {
			sameValue(t, d.root(), v, "$")
		}
		sameStreamed(t, b, got)
	})
}

// sameStreamed checks that parsing b with a stream accepts what parse accepted (got) and hands over exactly the
// elements of the top-level object's first "data" member that is an array, in order.
func sameStreamed(t *testing.T, b []byte, got bool) {
	t.Helper()
	var whole jsonDoc
	whole.parse(b)
	var want []string
	if got && whole.root().kind() == jsonObject {
		for k, v := range whole.root().members() {
			if string(k) == "data" && v.kind() == jsonArray {
				for e := range v.elems() {
					want = append(want, string(e.raw()))
				}
				break
			}
		}
	}
	var d jsonDoc
	var streamed []string
	d.stream = func(e jval) { streamed = append(streamed, string(e.raw())) }
	if d.parse(b) != got {
		t.Fatalf("streaming parse(%q) = %v, parse = %v", b, !got, got)
	}
	if !got {
		return
	}
	if strings.Join(streamed, "\x00") != strings.Join(want, "\x00") || len(streamed) != len(want) {
		t.Fatalf("streamed %q, want %q", streamed, want)
	}
}

// sameValue fails t unless the jsonDoc value a and the fastjson value b are the same.
func sameValue(t *testing.T, a jval, b *fastjson.Value, path string) {
	t.Helper()
	kinds := map[fastjson.Type]jsonKind{fastjson.TypeString: jsonString, fastjson.TypeNumber: jsonNumber,
		fastjson.TypeObject: jsonObject, fastjson.TypeArray: jsonArray, fastjson.TypeTrue: jsonTrue,
		fastjson.TypeFalse: jsonFalse, fastjson.TypeNull: jsonNull}
	if a.kind() != kinds[b.Type()] {
		t.Fatalf("%s: kind %d, fastjson %s", path, a.kind(), b.Type())
	}
	switch b.Type() {
	case fastjson.TypeString:
		s, _ := a.str()
		if want, _ := b.StringBytes(); !bytes.Equal(s, want) {
			t.Fatalf("%s: string %q, fastjson %q", path, s, want)
		}
	case fastjson.TypeNumber:
		if want := b.MarshalTo(nil); !bytes.Equal(a.raw(), want) {
			t.Fatalf("%s: number %q, fastjson %q", path, a.raw(), want)
		}
		n, ok := a.integer()
		wantN, err := b.Int64()
		if ok != (err == nil) || n != wantN {
			t.Fatalf("%s: integer %d %v, fastjson %d %v", path, n, ok, wantN, err)
		}
		fl, err := b.Float64()
		if wantOK := err == nil && fl-fl == 0; a.finite() != wantOK {
			t.Fatalf("%s: finite %v, fastjson %v %v", path, a.finite(), fl, err)
		}
	case fastjson.TypeObject:
		o, _ := b.Object()
		if a.len() != o.Len() {
			t.Fatalf("%s: %d members, fastjson %d", path, a.len(), o.Len())
		}
		var keys [][]byte
		var vals []*fastjson.Value
		o.Visit(func(k []byte, v *fastjson.Value) { keys, vals = append(keys, k), append(vals, v) })
		i := 0
		var members []jval
		for k, v := range a.members() {
			if !bytes.Equal(k, keys[i]) {
				t.Fatalf("%s: key %q, fastjson %q", path, k, keys[i])
			}
			sameValue(t, v, vals[i], path+"."+string(k))
			members = append(members, v)
			i++
		}
		if i != len(keys) {
			t.Fatalf("%s: visited %d members, fastjson %d", path, i, len(keys))
		}
		for i, k := range keys { // get finds the first of duplicate keys, as fastjson's Get
			first := 0
			for string(keys[first]) != string(k) {
				first++
			}
			if a.get(string(k)) != members[first] || o.Get(string(k)) != vals[first] {
				t.Fatalf("%s: get(%q) is not member %d (of %d)", path, k, first, i)
			}
		}
	case fastjson.TypeArray:
		arr, _ := b.Array()
		if a.len() != len(arr) {
			t.Fatalf("%s: %d elements, fastjson %d", path, a.len(), len(arr))
		}
		i := 0
		for e := range a.elems() {
			sameValue(t, e, arr[i], path+"[]")
			i++
		}
		if i != len(arr) {
			t.Fatalf("%s: visited %d elements, fastjson %d", path, i, len(arr))
		}
	}
}

// TestAppendCompact checks the recorded form of an event: the text as sent, whitespace outside strings removed.
func TestAppendCompact(t *testing.T) {
	in := " {\"a\" : [ 1 , \"x \\\" y\\\\\" ] ,\n\t\"b\\\"\":{ } } "
	if got, want := string(appendCompact(nil, []byte(in))), `{"a":[1,"x \" y\\"],"b\"":{}}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
