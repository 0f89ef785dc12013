package normalize

import (
	"crypto/sha256"
	"sync"
)

// shortDigests holds the hex SHA-256 of every value of one or two lowercase ASCII letters: the whole output set
// of the country normalizer (ISO 3166-1 alpha-2 codes) and of the gender normalizer ("f", "m"), and the US and
// Canadian state codes. Most events carry a country, many a gender; a lookup here costs a few nanoseconds where
// sha256.Sum256 and the hex encoding cost about a hundred. The table is 45 KB of plain bytes, built once per
// process (about 0.1 ms) and read-only afterwards.
type shortDigests [26 + 26*26][hexLen]byte

var loadShortDigests = sync.OnceValue(buildShortDigests)

func buildShortDigests() *shortDigests {
	t := new(shortDigests)
	for a := byte('a'); a <= 'z'; a++ {
		encodeHex(&t[a-'a'], sha256.Sum256([]byte{a}))
		for b := byte('a'); b <= 'z'; b++ {
			encodeHex(&t[26+int(a-'a')*26+int(b-'a')], sha256.Sum256([]byte{a, b}))
		}
	}
	return t
}

// lookup returns the hex SHA-256 of v when v is one or two lowercase ASCII letters.
func (t *shortDigests) lookup(v []byte) (*[hexLen]byte, bool) {
	switch {
	case len(v) == 1 && 'a' <= v[0] && v[0] <= 'z':
		return &t[v[0]-'a'], true
	case len(v) == 2 && 'a' <= v[0] && v[0] <= 'z' && 'a' <= v[1] && v[1] <= 'z':
		return &t[26+int(v[0]-'a')*26+int(v[1]-'a')], true
	}
	return nil, false
}

// digestInto writes the lowercase hex SHA-256 of v to dst, from the table when v is in it.
func (t *shortDigests) digestInto(dst *[hexLen]byte, v []byte) {
	if d, ok := t.lookup(v); ok {
		*dst = *d
		return
	}
	encodeHex(dst, sha256.Sum256(v))
}
