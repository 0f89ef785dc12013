package normalize

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Phone returns the normalized clear ph: the E.164 number without '+' ("06 12 34 56 78" with region FR →
// "33612345678", "+1 (650) 555-1212" → "16505551212").
//
// The number is parsed by github.com/nyaruka/phonenumbers (a port of Google's libphonenumber) in the
// Normalizer's default region, which handles national prefixes, the region's international prefix ("0033…"
// in FR, "011…" in US), separators, extensions and vanity letters. It is kept only when the library finds its
// length possible for its country (IS_POSSIBLE; IS_POSSIBLE_LOCAL_ONLY is rejected because a number without its
// area code cannot match). Possible, not valid: validity depends on number-range metadata that ages, and a stale
// library must not drop real customers' numbers.
//
// Without a default region, a number that does not start with '+' is read as international: a leading "00" is
// taken as the international prefix, otherwise the digits are taken as E.164 without '+' ("33612345678").
//
// A library parse costs ~10 µs and 36 allocations, and real traffic brings a new number with almost every
// event. The common shapes (digits with spaces, dots, dashes or slashes, national or after '+' / the
// international prefix) therefore take a fast path (phonefast.go, ~50 ns, no allocation) that follows the
// library's algorithm on the library's own metadata and gives exactly its answer, declining whatever it cannot
// decide without the library's regular expressions (FuzzPhoneFastPath compares the two). The rest is parsed by
// the library and memoized in a bounded cache (a hit costs ~25 ns; a cached result is by construction the
// library's result for the same input and region).
func (n *Normalizer) Phone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	b, ok := n.appendPhone(nil, s)
	return string(b), ok
}

// appendPhone is Phone for a trimmed, non-empty s, appending the E.164 digits to dst when ok.
func (n *Normalizer) appendPhone(dst []byte, s string) ([]byte, bool) {
	if len(s) > maxInput {
		return dst, false
	}
	if out, ok, handled := appendFastPhone(dst, n.tables, s, n.region); handled {
		return out, ok
	}
	if r, ok := n.phones.get(s); ok {
		return append(dst, r.e164...), r.ok
	}
	e164, ok := parsePhone(s, n.region)
	n.phones.put(s, phoneResult{e164: e164, ok: ok})
	return append(dst, e164...), ok
}

// parsePhone is the uncached phone parse: the library's result, E.164 without '+'.
func parsePhone(s, region string) (string, bool) {
	if region == "" {
		s = internationalize(s)
	}
	var num phonenumbers.PhoneNumber
	if err := phonenumbers.ParseToNumber(s, region, &num); err != nil {
		return "", false
	}
	if phonenumbers.IsPossibleNumberWithReason(&num) != phonenumbers.IS_POSSIBLE {
		return "", false
	}
	nsn := phonenumbers.GetNationalSignificantNumber(&num)
	b := make([]byte, 0, 3+len(nsn))
	b = strconv.AppendInt(b, int64(num.GetCountryCode()), 10)
	return string(append(b, nsn...)), true
}

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

type phoneResult struct {
	e164 string
	ok   bool
}

// phoneCache is a fixed-size, concurrency-safe memo of input → parse result for one region. When a shard is
// full an arbitrary entry is evicted (Go's map iteration order is randomized): cheap, and good enough for a
// working set of customers who come back within minutes.
type phoneCache struct {
	seed   maphash.Seed
	shards [phoneCacheShards]phoneShard
}

type phoneShard struct {
	mu sync.Mutex
	m  map[string]phoneResult
}

func newPhoneCache() *phoneCache {
	c := &phoneCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]phoneResult, phoneCacheShardSize)
	}
	return c
}

func (c *phoneCache) shard(key string) *phoneShard {
	return &c.shards[maphash.String(c.seed, key)%phoneCacheShards]
}

func (c *phoneCache) get(key string) (phoneResult, bool) {
	sh := c.shard(key)
	sh.mu.Lock()
	r, ok := sh.m[key]
	sh.mu.Unlock()
	return r, ok
}

func (c *phoneCache) put(key string, r phoneResult) {
	// Clone: key may be a slice of a large decoded record that the cache must not keep alive.
	key = strings.Clone(key)
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
