package normalize

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Phone returns the normalized clear ph in the Normalizer's default region: the E.164 number without '+'
// ("06 12 34 56 78" with region FR → "33612345678", "+1 (650) 555-1212" → "16505551212"). See PhoneIn.
func (n *Normalizer) Phone(s string) (string, bool) { return n.PhoneIn(s, n.region) }

// PhoneIn returns the normalized clear ph of s for an event whose national numbers are read in region (upper-case
// alpha-2, or "" for none): E.164 digits without '+'.
//
// The number is parsed by github.com/nyaruka/phonenumbers (a port of Google's libphonenumber), which handles
// national prefixes, the region's international prefix ("0033…" in FR, "011…" in US), separators, extensions
// ("ext. 12", "x12"; the connector also cuts "poste", "Durchwahl", "interno", "ramal", "toestel" and their
// kin before parsing) and vanity letters. Readings, in order, the first one valid wins:
//  1. national: the digits read in region (a '+' or the region's international prefix makes it international);
//  2. international: without a '+', the digits read as E.164 with the country code first ("16505551212",
//     "447911123456", "00 44 7911 123456"), which is how CRMs that strip the '+' store numbers.
//
// A reading counts only when libphonenumber says the number is valid (IsValidNumber: its length and its number
// ranges belong to a real numbering plan), not merely possible: "0000000000" or "0612" are dropped instead of
// being hashed into a value that matches nobody and still counts toward the event's eligibility.
//
// A library parse costs ~10 µs and 36 allocations, and real traffic brings a new number with almost every
// event. The common shapes (digits with spaces, dots, dashes or slashes, national or after '+' / the
// international prefix) therefore take a fast path (phonefast.go, phonevalid.go: well under a microsecond, no
// allocation) that follows the library's algorithm on the library's own metadata and gives exactly its answer,
// declining whatever it cannot decide (FuzzPhoneFastPath compares the two). The rest is parsed by the library
// and memoized in a bounded cache (a hit costs ~25 ns; a cached result is by construction the library's result
// for the same input and region).
func (n *Normalizer) PhoneIn(s, region string) (string, bool) {
	s = prepare(s)
	if s == "" {
		return "", false
	}
	b, ok := n.appendPhone(nil, s, region)
	return string(b), ok
}

// appendPhone is PhoneIn for a prepared, non-empty s, appending the E.164 digits to dst when ok.
func (n *Normalizer) appendPhone(dst []byte, s, region string) ([]byte, bool) {
	if len(s) > maxInput {
		return dst, false
	}
	if out, ok := n.readPhone(dst, s, region); ok || region == "" {
		return out, ok
	}
	if strings.IndexByte(s, '+') >= 0 {
		return dst, false // already read as international
	}
	return n.readPhone(dst, s, "")
}

// readPhone is one reading of s: in region, or as international digits when region is "".
func (n *Normalizer) readPhone(dst []byte, s, region string) ([]byte, bool) {
	if out, ok, handled := appendFastPhone(dst, n.tables, s, region); handled {
		return out, ok
	}
	key := phoneKey{region: region, s: s}
	if r, ok := n.phones.get(key); ok {
		return append(dst, r.e164...), r.ok
	}
	e164, ok := parsePhone(s, region)
	n.phones.put(key, phoneResult{e164: e164, ok: ok})
	return append(dst, e164...), ok
}

// parsePhone is the uncached phone parse of one reading: the library's result, E.164 without '+', when the
// library calls the number valid.
func parsePhone(s, region string) (string, bool) {
	s = cutExtension(s)
	if region == "" {
		s = internationalize(s)
	}
	var num phonenumbers.PhoneNumber
	if err := phonenumbers.ParseToNumber(s, region, &num); err != nil {
		return "", false
	}
	if !phonenumbers.IsValidNumber(&num) {
		return "", false
	}
	nsn := phonenumbers.GetNationalSignificantNumber(&num)
	b := make([]byte, 0, 3+len(nsn))
	b = strconv.AppendInt(b, int64(num.GetCountryCode()), 10)
	return string(append(b, nsn...)), true
}

// extensionWords introduce an extension in the languages of the connector's customers; libphonenumber knows
// "ext", "x", "#" and a few others, but not these, and fails the whole number on them. Lowercase, longest first
// where one is a prefix of another.
var extensionWords = []string{
	"extension", "extn", "ext", "poste", "durchwahl", "dw", "apparat", "app", "nebenstelle", "interno", "int",
	"ramal", "anexo", "toestel", "tst", "x",
}

// cutExtension removes a trailing extension introduced by one of extensionWords ("… poste 12",
// "… Durchwahl: 12", "… x12"): the word must start after a non-letter, and only separators and digits may
// follow it. What remains is the number; the extension is not part of what Meta matches.
func cutExtension(s string) string {
	// Find the start of the trailing run of digits and separators.
	end := len(s)
	i := end
	for i > 0 {
		c := s[i-1]
		if '0' <= c && c <= '9' || c == ' ' || c == '.' || c == ':' || c == '-' || c == '#' || c == '=' || c == ')' || c == '(' {
			i--
			continue
		}
		break
	}
	if i == end || i == 0 {
		return s
	}
	// The letters just before it.
	j := i
	for j > 0 && isASCIILetter(s[j-1]) {
		j--
	}
	if j == i || (j > 0 && isASCIILetter(s[j-1])) {
		return s
	}
	word := strings.ToLower(s[j:i])
	for _, w := range extensionWords {
		if word == w {
			if k := strings.IndexAny(s[i:], "0123456789"); k < 0 {
				return s // a word without digits after it is not an extension
			}
			return strings.TrimRight(s[:j], " .,;:-/(")
		}
	}
	return s
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// internationalize makes a number without a default region explicit: it inserts '+' before the first digit
// unless a '+' comes first, replacing a leading "00" international prefix.
func internationalize(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '+' {
			return s
		}
		if '0' <= c && c <= '9' {
			rest := s[i:]
			if strings.HasPrefix(rest, "00") {
				rest = rest[2:]
			}
			return s[:i] + "+" + rest
		}
	}
	return s
}

// phoneCacheShards and phoneCacheShardSize bound the cache at 4096 entries (a few hundred KiB). Sharding keeps
// lock contention low between the pipeline's workers.
const (
	phoneCacheShards    = 16
	phoneCacheShardSize = 256
)

// phoneKey is a cache key: the same input reads differently in different regions.
type phoneKey struct {
	region string
	s      string
}

type phoneResult struct {
	e164 string
	ok   bool
}

// phoneCache is a fixed-size, concurrency-safe memo of (region, input) → parse result. When a shard is
// full an arbitrary entry is evicted (Go's map iteration order is randomized): cheap, and good enough for a
// working set of customers who come back within minutes.
type phoneCache struct {
	seed   maphash.Seed
	shards [phoneCacheShards]phoneShard
}

type phoneShard struct {
	mu sync.Mutex
	m  map[phoneKey]phoneResult
}

func newPhoneCache() *phoneCache {
	c := &phoneCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[phoneKey]phoneResult, phoneCacheShardSize)
	}
	return c
}

func (c *phoneCache) shard(key phoneKey) *phoneShard {
	return &c.shards[(maphash.String(c.seed, key.s)+uint64(len(key.region)))%phoneCacheShards]
}

func (c *phoneCache) get(key phoneKey) (phoneResult, bool) {
	sh := c.shard(key)
	sh.mu.Lock()
	r, ok := sh.m[key]
	sh.mu.Unlock()
	return r, ok
}

func (c *phoneCache) put(key phoneKey, r phoneResult) {
	// Clone: key.s may be a slice of a large decoded record that the cache must not keep alive.
	key.s = strings.Clone(key.s)
	sh := c.shard(key)
	sh.mu.Lock()
	if len(sh.m) >= phoneCacheShardSize {
		for k := range sh.m {
			delete(sh.m, k)
			break
		}
	}
	sh.m[key] = r
	sh.mu.Unlock()
}
