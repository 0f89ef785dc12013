// Package eligibility is the pipeline stage that decides, after normalization, whether a server event may be
// sent to Facebook at all: inside the time window, with the data its action_source needs, and with enough
// customer information to be matched (docs/mapping.md). An event that fails here would make the Graph API reject
// the whole batch it travels in, so it goes to the DLQ with a precise reason before batching.
package eligibility

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/capi-connector/capi-connector/processor/fbevent"
	"github.com/capi-connector/capi-connector/processor/reject"
)

// Rules are the eligibility thresholds; their defaults (Meta's published rule) are config.DefaultDestination's
// matching and window settings. Every field is used as given, so a zero field means zero (a zero MaxAge would
// reject every event).
type Rules struct {
	// MinStrongKeys is how many of {em, ph, external_id, fbp, fbc} an event needs. Lowering it sends events
	// Facebook can hardly match (they still count as received, but attribute nothing).
	MinStrongKeys int
	// MinOtherKeys is how many of the other user_data fields (fn, ln, ge, db, ct, st, zp, country,
	// client_ip_address, client_user_agent) an event needs.
	MinOtherKeys int
	// MaxAge is how old event_time may be for every action_source but physical_store (Meta: 7 days).
	MaxAge time.Duration
	// MaxAgePhysicalStore is how old a physical_store event may be (Meta: 62 days).
	MaxAgePhysicalStore time.Duration
	// SafetyMargin is subtracted from both max ages: an event close to the edge could expire while it waits in
	// a batch or a retry, and one expired event makes Facebook reject the whole request.
	SafetyMargin time.Duration
	// MaxFuture is how far in the future event_time may be. It absorbs clock skew between the producers and this
	// host; beyond it Facebook refuses the event.
	MaxFuture time.Duration
}

// Validate reports contradictory rules with a sentence naming the field and the fix.
func (r Rules) Validate() error {
	var errs []error
	if r.MinStrongKeys < 0 || r.MinOtherKeys < 0 {
		errs = append(errs, errors.New("eligibility: MinStrongKeys and MinOtherKeys must not be negative"))
	}
	if r.SafetyMargin < 0 || r.MaxFuture < 0 {
		errs = append(errs, errors.New("eligibility: SafetyMargin and MaxFuture must not be negative"))
	}
	if r.MaxAge <= r.SafetyMargin || r.MaxAgePhysicalStore <= r.SafetyMargin {
		errs = append(errs, errors.New("eligibility: MaxAge and MaxAgePhysicalStore must exceed SafetyMargin, "+
			"or every event is too old"))
	}
	return errors.Join(errs...)
}

// maxAge is the effective age limit for an action_source, margin included.
func (r Rules) maxAge(actionSource string) time.Duration {
	if actionSource == "physical_store" {
		return r.MaxAgePhysicalStore - r.SafetyMargin
	}
	return r.MaxAge - r.SafetyMargin
}

// TooOld reports whether an event stamped eventTime (unix seconds) is past the window for its action_source at
// now, safety margin included. The delivery runtime calls it before a retry, with now set to when the retry
// would be sent: an event that can no longer land inside the window goes to the DLQ as event_too_old instead of
// failing the whole batch.
func (r Rules) TooOld(eventTime int64, actionSource string, now time.Time) bool {
	return age(eventTime, now) > r.maxAge(actionSource)
}

// age is now - eventTime, at second precision (event_time has no finer one).
func age(eventTime int64, now time.Time) time.Duration {
	return time.Duration(now.Unix()-eventTime) * time.Second
}

// The user_data keys, in the order details list them.
var (
	strongKeys = [...]string{"em", "ph", "external_id", "fbp", "fbc"}
	otherKeys  = [...]string{"fn", "ln", "ge", "db", "ct", "st", "zp", "country", "client_ip_address",
		"client_user_agent"}
)

// presence is the set of user_data keys that hold a value, as bits: strong keys first, then other keys, in the
// order of strongKeys and otherKeys.
type presence uint16

const numStrong = len(strongKeys)

func presenceOf(u *fbevent.UserData) presence {
	// One expression rather than a loop over an array of the values: building the array copied all fifteen
	// strings for every event (TestPresenceOf checks the order against the key tables).
	return has(u.Em, 0) | has(u.Ph, 1) | has(u.ExternalID, 2) | has(u.FBP, 3) | has(u.FBC, 4) |
		has(u.Fn, numStrong) | has(u.Ln, numStrong+1) | has(u.Ge, numStrong+2) | has(u.Db, numStrong+3) |
		has(u.Ct, numStrong+4) | has(u.St, numStrong+5) | has(u.Zp, numStrong+6) | has(u.Country, numStrong+7) |
		has(u.ClientIPAddress, numStrong+8) | has(u.ClientUserAgent, numStrong+9)
}

// has is bit i of a presence when v is set.
func has(v string, i int) presence {
	if v == "" {
		return 0
	}
	return 1 << i
}

func keyBit(name string) presence {
	for i, k := range strongKeys {
		if k == name {
			return 1 << i
		}
	}
	for i, k := range otherKeys {
		if k == name {
			return 1 << (numStrong + i)
		}
	}
	panic("eligibility: unknown user_data key " + name) // programming error in the tables below
}

func setOf(names ...string) presence {
	var p presence
	for _, n := range names {
		p |= keyBit(n)
	}
	return p
}

const strongMask = presence(1<<numStrong - 1)

// baselineSets are Meta's minimum-combination rule: customer data that is only a subset of one of these sets
// cannot be matched, and Facebook rejects the event (error 2804050).
var baselineSets = [...]presence{
	setOf("ct", "country", "st", "zp", "ge", "client_user_agent"),
	setOf("db", "client_user_agent"),
	setOf("fn", "ge"),
	setOf("ln", "ge"),
}

// Check returns why ev may not be sent, or nil. It runs after normalization: fields dropped as invalid are
// already empty and do not count.
//
// Order, first failure wins:
//  1. time (event_too_old, event_in_future). It comes first, before the purchase rule, because it is the one
//     verdict that no fix makes deliverable: a stale event stays stale, so reporting it as missing PII would
//     invite an operator to replay it into a certain second rejection. Replay filters rely on this reason.
//  2. website data (missing_website_data): event_source_url and client_user_agent for action_source website.
//  3. purchase PII (missing_pii_for_purchase): a Purchase needs em or ph.
//  4. minimal matching data (insufficient_user_data), thresholds from r; an event with no user_data at all is
//     always insufficient, whatever the thresholds.
//  5. Meta's baseline combinations (baseline_combination_invalid), only reachable with thresholds below the
//     defaults.
//
// Details name counts, limits and user_data key names, never values.
func Check(ev *fbevent.Event, now time.Time, r Rules) *reject.Rejection {
	if rej := checkTime(ev, now, r); rej != nil {
		return rej
	}
	if ev.ActionSource == "website" {
		var missing []string
		if ev.EventSourceURL == "" {
			missing = append(missing, "event_source_url")
		}
		if ev.UserData.ClientUserAgent == "" {
			missing = append(missing, "client_user_agent")
		}
		if len(missing) > 0 {
			return reject.NewDetail(reject.MissingWebsiteData, reject.StageEligibility,
				"action_source website requires event_source_url and client_user_agent; missing: "+
					strings.Join(missing, ", "))
		}
	}
	p := presenceOf(&ev.UserData)
	if ev.EventName == "Purchase" && p&setOf("em", "ph") == 0 {
		return reject.New(reject.MissingPIIForPurchase, reject.StageEligibility,
			"Purchase requires em or ph, neither present")
	}
	strong, other := countBits(p&strongMask), countBits(p&^strongMask)
	if p == 0 || strong < r.MinStrongKeys || other < r.MinOtherKeys {
		return reject.NewDetail(reject.InsufficientUserData, reject.StageEligibility,
			insufficientDetail(p, r, strong, other))
	}
	for _, set := range baselineSets {
		if p&^set == 0 {
			return reject.New(reject.BaselineCombination, reject.StageEligibility,
				"customer data (%s) is only a subset of {%s}, which Facebook cannot match",
				keyNames(p), keyNames(set))
		}
	}
	return nil
}

func checkTime(ev *fbevent.Event, now time.Time, r Rules) *reject.Rejection {
	a := age(ev.EventTime, now)
	if limit := r.maxAge(ev.ActionSource); a > limit {
		return reject.New(reject.EventTooOld, reject.StageEligibility,
			"event_time is %s old; limit for action_source %q is %s (%s minus %s safety margin)",
			hm(a), ev.ActionSource, hm(limit), hm(limit+r.SafetyMargin), hm(r.SafetyMargin))
	}
	if ahead := -a; ahead > r.MaxFuture {
		return reject.New(reject.EventInFuture, reject.StageEligibility,
			"event_time is %s in the future; tolerance is %s", hm(ahead), hm(r.MaxFuture))
	}
	return nil
}

// hm formats d as hours and minutes ("170h05m"), truncated to the minute; below one minute it says "<1m".
func hm(d time.Duration) string {
	if d < time.Minute {
		return "<1m"
	}
	h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
	if h == 0 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

func countBits(p presence) int {
	n := 0
	for ; p != 0; p &= p - 1 {
		n++
	}
	return n
}

// insufficientDetail is the insufficient_user_data detail:
//
//	"%d of em/ph/external_id/fbp/fbc required, %d present%s; %d other fields required, %d present%s"
//
// with the present keys of each kind listed as by appendKeys. It is built with append (TestInsufficientDetail
// pins it to that format): this is one of the most frequent rejections, and fmt cost more than the check.
func insufficientDetail(p presence, r Rules, strong, other int) string {
	var buf [256]byte
	b := strconv.AppendInt(buf[:0], int64(r.MinStrongKeys), 10)
	b = append(b, " of em/ph/external_id/fbp/fbc required, "...)
	b = strconv.AppendInt(b, int64(strong), 10)
	b = append(b, " present"...)
	b = appendKeys(b, p, strongKeys[:], 0)
	b = append(b, "; "...)
	b = strconv.AppendInt(b, int64(r.MinOtherKeys), 10)
	b = append(b, " other fields required, "...)
	b = strconv.AppendInt(b, int64(other), 10)
	b = append(b, " present"...)
	b = appendKeys(b, p, otherKeys[:], numStrong)
	return string(b)
}

// appendKeys appends " (k1, k2)" for the keys of names present in p (bit offset off), or nothing when none is.
func appendKeys(b []byte, p presence, names []string, off int) []byte {
	sep := " ("
	for i, n := range names {
		if p&(1<<(off+i)) != 0 {
			b = append(append(b, sep...), n...)
			sep = ", "
		}
	}
	if sep != " (" {
		b = append(b, ')')
	}
	return b
}

// keyNames returns the names of the keys in p, comma separated, strong keys first.
func keyNames(p presence) string {
	var names []string
	for i, n := range strongKeys {
		if p&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	for i, n := range otherKeys {
		if p&(1<<(numStrong+i)) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}
