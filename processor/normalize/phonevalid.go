package normalize

import (
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Phone validity on the fast path.
//
// The library's IsValidNumber finds the number's region (for a calling code shared by several regions, by each
// region's leading digits, else by trying its number types) and then asks whether the national significant
// number matches the general description and one of the number types (fixed line, mobile, toll free, …) of
// that region: each test a possible-length check and a full match of a metadata regular expression. Through
// Go's regexp package that costs a microsecond or more per number, a third of a whole transform. Here each
// pattern is compiled once, lazily per region, into a deterministic automaton over the ten digits, so a test is
// one table step per digit; the decision is the library's (FuzzPhoneFastPath and TestPhoneValidityMatchesLibrary
// compare them). A pattern the automaton cannot represent exactly (an assertion inside it) or that needs too
// many states leaves the region to the library.

// digitDFA is a deterministic automaton over '0'-'9' for one pattern.
type digitDFA struct {
	next   []int32 // state*10 + digit → next state; -1: no match possible
	accept []bool  // accept[state]: the input read so far is a match
}

// fullMatch reports whether the whole of nsn matches (the library's "^(?:pattern)$").
func (d *digitDFA) fullMatch(nsn []byte) bool {
	st := int32(0)
	for _, c := range nsn {
		st = d.next[int(st)*10+int(c-'0')]
		if st < 0 {
			return false
		}
	}
	return d.accept[st]
}

// prefixMatch reports whether some prefix of nsn matches (the library's "^(?:pattern)" MatchString).
func (d *digitDFA) prefixMatch(nsn []byte) bool {
	st := int32(0)
	for _, c := range nsn {
		if d.accept[st] {
			return true
		}
		st = d.next[int(st)*10+int(c-'0')]
		if st < 0 {
			return false
		}
	}
	return d.accept[st]
}

// maxDFAStates bounds one automaton; the largest metadata patterns need a few hundred states.
const maxDFAStates = 1 << 14

// compileDigitDFA builds the automaton of pattern (the library's syntax: RE2 Perl flags) by subset construction
// over the program Go's regexp compiles it to. ok is false when the pattern does not parse, holds an assertion,
// or needs more than maxDFAStates states.
func compileDigitDFA(pattern string) (*digitDFA, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, false
	}
	// closure adds pc and every instruction reachable from it without reading input; it reports false on an
	// empty-width assertion (^, $, \b), which the automaton does not model.
	var closure func(set []uint32, seen map[uint32]bool, pc uint32) ([]uint32, bool)
	closure = func(set []uint32, seen map[uint32]bool, pc uint32) ([]uint32, bool) {
		if seen[pc] {
			return set, true
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			var ok bool
			if set, ok = closure(set, seen, in.Out); !ok {
				return nil, false
			}
			return closure(set, seen, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			return closure(set, seen, in.Out)
		case syntax.InstEmptyWidth:
			return nil, false
		case syntax.InstFail:
			return set, true
		}
		return append(set, pc), true // a rune instruction or Match
	}
	keyOf := func(set []uint32) string {
		slices.Sort(set)
		var b strings.Builder
		for _, pc := range set {
			b.WriteString(strconv.FormatUint(uint64(pc), 36))
			b.WriteByte(',')
		}
		return b.String()
	}
	d := &digitDFA{}
	index := map[string]int32{}
	var sets [][]uint32
	add := func(set []uint32) int32 {
		k := keyOf(set)
		if i, ok := index[k]; ok {
			return i
		}
		i := int32(len(sets))
		index[k] = i
		sets = append(sets, set)
		accept := false
		for _, pc := range set {
			if prog.Inst[pc].Op == syntax.InstMatch {
				accept = true
			}
		}
		d.accept = append(d.accept, accept)
		d.next = append(d.next, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)
		return i
	}
	start, ok := closure(nil, map[uint32]bool{}, uint32(prog.Start))
	if !ok {
		return nil, false
	}
	add(start)
	for i := 0; i < len(sets); i++ {
		if len(sets) > maxDFAStates {
			return nil, false
		}
		for digit := range 10 {
			var next []uint32
			seen := map[uint32]bool{}
			for _, pc := range sets[i] {
				in := &prog.Inst[pc]
				if in.Op == syntax.InstMatch || !in.MatchRune(rune('0'+digit)) {
					continue
				}
				if next, ok = closure(next, seen, in.Out); !ok {
					return nil, false
				}
			}
			if len(next) > 0 {
				d.next[i*10+digit] = add(next)
			}
		}
	}
	return d, true
}

// numberDesc is one PhoneNumberDesc of the metadata, as isNumberMatchingDesc reads it.
type numberDesc struct {
	lengths []int32 // must contain the length when not empty
	dfa     *digitDFA
}

// matches is the library's isNumberMatchingDesc.
func (n *numberDesc) matches(nsn []byte) bool {
	if len(n.lengths) > 0 && !slices.Contains(n.lengths, int32(len(nsn))) {
		return false
	}
	return n.dfa.fullMatch(nsn)
}

// regionValidity is what validity needs from one region's metadata.
type regionValidity struct {
	ok      bool // false: some pattern has no automaton; the library decides for this region
	general numberDesc
	// types are the descriptions whose match makes the number valid: fixed line and mobile first (the common
	// answers), then the others; mobile only when its pattern differs from fixed line's, as getNumberTypeHelper.
	types   []numberDesc
	leading *digitDFA // the region's leading digits, nil when it has none
}

func newRegionValidity(m *phonenumbers.PhoneMetadata) *regionValidity {
	v := &regionValidity{ok: true}
	desc := func(d *phonenumbers.PhoneNumberDesc) numberDesc {
		// A missing description has the empty pattern, which matches no non-empty number.
		dfa, ok := compileDigitDFA(d.GetNationalNumberPattern())
		if !ok {
			v.ok = false
		}
		return numberDesc{lengths: d.GetPossibleLength(), dfa: dfa}
	}
	v.general = desc(m.GetGeneralDesc())
	v.types = append(v.types, desc(m.GetFixedLine()))
	if !m.GetSameMobileAndFixedLinePattern() {
		v.types = append(v.types, desc(m.GetMobile()))
	}
	for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(),
		m.GetVoip(), m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail()} {
		v.types = append(v.types, desc(d))
	}
	if ld := m.GetLeadingDigits(); ld != "" {
		dfa, ok := compileDigitDFA(ld)
		if !ok {
			v.ok = false
		}
		v.leading = dfa
	}
	return v
}

// known is the library's getNumberTypeHelper(nsn, metadata) != UNKNOWN.
func (v *regionValidity) known(nsn []byte) bool {
	if !v.general.matches(nsn) {
		return false
	}
	for i := range v.types {
		if v.types[i].matches(nsn) {
			return true
		}
	}
	return false
}

// validity returns the region's automata, built on first use.
func (m *phoneMeta) validity() *regionValidity {
	m.validOnce.Do(func() { m.valid = newRegionValidity(m.md) })
	return m.valid
}

// validNumber is the library's IsValidNumber for calling code cc and national significant number nsn (ASCII
// digits, leading zeros included). handled is false when the answer needs the library.
func (t *phoneTables) validNumber(cc int, nsn []byte) (valid, handled bool) {
	if cc <= 0 || cc >= len(t.ccRegions) {
		return false, false
	}
	regions := t.ccRegions[cc]
	if len(regions) == 0 {
		return false, false
	}
	var region *phoneMeta
	if len(regions) == 1 {
		region = regions[0]
	} else {
		// getRegionCodeForNumberFromRegionList: the first region whose leading digits start the number, or,
		// for a region without leading digits, whose number types know it.
		for _, r := range regions {
			v := r.validity()
			if !v.ok {
				return false, false
			}
			if v.leading != nil {
				if v.leading.prefixMatch(nsn) {
					region = r
					break
				}
			} else if v.known(nsn) {
				region = r
				break
			}
		}
		if region == nil {
			return false, true
		}
	}
	v := region.validity()
	if !v.ok {
		return false, false
	}
	return v.known(nsn), true
}

// phoneMetaValidity is embedded in phoneMeta: the metadata validity is built from, and the lazily built
// automata.
type phoneMetaValidity struct {
	md        *phonenumbers.PhoneMetadata
	validOnce sync.Once
	valid     *regionValidity
}
