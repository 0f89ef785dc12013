package eligibility

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/processor/fbevent"
	"github.com/capi-connector/capi-connector/processor/reject"
)

const (
	hashEm = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
	hashPh = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
	hashX  = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"
	ip     = "203.0.113.77"
	ua     = "Mozilla/5.0 secret-agent"
	fbp    = "fb.1.1596403881668.1116446470"
	url    = "https://shop.example/p?email=leak"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// eligible passes Check with DefaultRules: 1 strong key (fbp), 3 others (ct, ip, ua).
func eligible() *fbevent.Event {
	return &fbevent.Event{
		EventName:      "PageView",
		EventTime:      now.Unix(),
		EventSourceURL: url,
		ActionSource:   "website",
		UserData:       fbevent.UserData{FBP: fbp, Ct: hashX, ClientIPAddress: ip, ClientUserAgent: ua},
	}
}

func ago(d time.Duration) int64 { return now.Add(-d).Unix() }

func TestCheck(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	def := publishedRules()
	low := publishedRules()
	low.MinStrongKeys, low.MinOtherKeys = 0, 0
	tests := []struct {
		name   string
		mutate func(*fbevent.Event)
		rules  Rules
		want   reject.Reason // "" means eligible
		detail string        // when set, the exact detail
	}{
		{name: "eligible", mutate: func(*fbevent.Event) {}, rules: def},

		// Time window: 7 days minus the 1 h margin, at second precision; inclusive bound.
		{name: "exactly 7d minus margin", rules: def,
			mutate: func(e *fbevent.Event) { e.EventTime = ago(7*day - time.Hour) }},
		{name: "one second past 7d minus margin", rules: def, want: reject.EventTooOld,
			mutate: func(e *fbevent.Event) { e.EventTime = ago(7*day - time.Hour + time.Second) },
			detail: `event_time is 167h00m old; limit for action_source "website" is 167h00m (168h00m minus 1h00m safety margin)`},
		{name: "8 days old website", rules: def, want: reject.EventTooOld,
			mutate: func(e *fbevent.Event) { e.EventTime = ago(8*day + 5*time.Minute) },
			detail: `event_time is 192h05m old; limit for action_source "website" is 167h00m (168h00m minus 1h00m safety margin)`},
		{name: "8 days old physical_store", rules: def,
			mutate: func(e *fbevent.Event) { e.ActionSource = "physical_store"; e.EventTime = ago(8 * day) }},
		{name: "physical_store exactly 62d minus margin", rules: def,
			mutate: func(e *fbevent.Event) { e.ActionSource = "physical_store"; e.EventTime = ago(62*day - time.Hour) }},
		{name: "physical_store one second past 62d minus margin", rules: def, want: reject.EventTooOld,
			mutate: func(e *fbevent.Event) {
				e.ActionSource = "physical_store"
				e.EventTime = ago(62*day - time.Hour + time.Second)
			}},
		{name: "app uses the 7-day limit", rules: def, want: reject.EventTooOld,
			mutate: func(e *fbevent.Event) { e.ActionSource = "app"; e.EventTime = ago(7 * day) }},
		{name: "future within tolerance", rules: def,
			mutate: func(e *fbevent.Event) { e.EventTime = now.Add(5 * time.Minute).Unix() }},
		{name: "future one second past tolerance", rules: def, want: reject.EventInFuture,
			mutate: func(e *fbevent.Event) { e.EventTime = now.Add(5*time.Minute + time.Second).Unix() },
			detail: "event_time is 5m in the future; tolerance is 5m"},
		{name: "future by hours", rules: def, want: reject.EventInFuture,
			mutate: func(e *fbevent.Event) { e.EventTime = now.Add(2*time.Hour + 30*time.Minute).Unix() },
			detail: "event_time is 2h30m in the future; tolerance is 5m"},
		{name: "custom max age and margin", want: reject.EventTooOld,
			rules:  Rules{MinStrongKeys: 1, MinOtherKeys: 3, MaxAge: 2 * time.Hour, MaxAgePhysicalStore: day, SafetyMargin: 30 * time.Minute, MaxFuture: time.Minute},
			mutate: func(e *fbevent.Event) { e.EventTime = ago(91 * time.Minute) }},
		{name: "custom future tolerance zero", want: reject.EventInFuture,
			rules:  Rules{MinStrongKeys: 1, MinOtherKeys: 3, MaxAge: 2 * time.Hour, MaxAgePhysicalStore: day},
			mutate: func(e *fbevent.Event) { e.EventTime = now.Unix() + 1 }},
		{name: "time is checked before purchase PII", rules: def, want: reject.EventTooOld,
			mutate: func(e *fbevent.Event) { e.EventName = "Purchase"; e.EventTime = ago(30 * day) }},

		// Website data.
		{name: "website without url", rules: def, want: reject.MissingWebsiteData,
			mutate: func(e *fbevent.Event) { e.EventSourceURL = "" },
			detail: "action_source website requires event_source_url and client_user_agent; missing: event_source_url"},
		{name: "website without url and ua", rules: def, want: reject.MissingWebsiteData,
			mutate: func(e *fbevent.Event) { e.EventSourceURL, e.UserData.ClientUserAgent = "", "" },
			detail: "action_source website requires event_source_url and client_user_agent; missing: event_source_url, client_user_agent"},
		{name: "app without url", rules: def,
			mutate: func(e *fbevent.Event) { e.ActionSource = "app"; e.EventSourceURL = "" }},
		{name: "website data before purchase PII", rules: def, want: reject.MissingWebsiteData,
			mutate: func(e *fbevent.Event) { e.EventName = "Purchase"; e.EventSourceURL = "" }},

		// Purchase PII.
		{name: "purchase without em or ph", rules: def, want: reject.MissingPIIForPurchase,
			mutate: func(e *fbevent.Event) { e.EventName = "Purchase"; e.UserData.ExternalID = hashX },
			detail: "Purchase requires em or ph, neither present"},
		{name: "purchase with ph", rules: def,
			mutate: func(e *fbevent.Event) { e.EventName = "Purchase"; e.UserData.Ph = hashPh }},
		{name: "purchase with em", rules: def,
			mutate: func(e *fbevent.Event) { e.EventName = "Purchase"; e.UserData.Em = hashEm }},
		{name: "purchase PII before thresholds", rules: def, want: reject.MissingPIIForPurchase,
			mutate: func(e *fbevent.Event) {
				e.EventName = "Purchase"
				e.ActionSource = "system_generated"
				e.UserData = fbevent.UserData{FBP: fbp}
			}},
		{name: "purchase rule is on the FB name only", rules: def,
			mutate: func(e *fbevent.Event) { e.EventName = "purchase" }},

		// Minimal matching data.
		{name: "no strong key", rules: def, want: reject.InsufficientUserData,
			mutate: func(e *fbevent.Event) { e.UserData.FBP = "" },
			detail: "1 of em/ph/external_id/fbp/fbc required, 0 present; 3 other fields required, 3 present (ct, client_ip_address, client_user_agent)"},
		{name: "two other fields", rules: def, want: reject.InsufficientUserData,
			mutate: func(e *fbevent.Event) { e.UserData.Ct = "" },
			detail: "1 of em/ph/external_id/fbp/fbc required, 1 present (fbp); 3 other fields required, 2 present (client_ip_address, client_user_agent)"},
		{name: "many strong keys do not replace other fields", rules: def, want: reject.InsufficientUserData,
			mutate: func(e *fbevent.Event) {
				e.ActionSource = "email"
				e.UserData = fbevent.UserData{Em: hashEm, Ph: hashPh, ExternalID: hashX, FBP: fbp, FBC: "fb.1.1554763741205.x"}
			},
			detail: "1 of em/ph/external_id/fbp/fbc required, 5 present (em, ph, external_id, fbp, fbc); 3 other fields required, 0 present"},
		{name: "raised strong threshold", want: reject.InsufficientUserData,
			rules:  Rules{MinStrongKeys: 2, MinOtherKeys: 3, MaxAge: def.MaxAge, MaxAgePhysicalStore: def.MaxAgePhysicalStore, SafetyMargin: def.SafetyMargin, MaxFuture: def.MaxFuture},
			mutate: func(*fbevent.Event) {}},
		{name: "raised strong threshold met", rules: Rules{MinStrongKeys: 2, MinOtherKeys: 3, MaxAge: def.MaxAge, MaxAgePhysicalStore: def.MaxAgePhysicalStore},
			mutate: func(e *fbevent.Event) { e.UserData.Em = hashEm }},
		{name: "lowered other threshold", rules: Rules{MinStrongKeys: 1, MinOtherKeys: 0, MaxAge: def.MaxAge, MaxAgePhysicalStore: def.MaxAgePhysicalStore},
			mutate: func(e *fbevent.Event) {
				e.ActionSource = "app"
				e.UserData = fbevent.UserData{ExternalID: hashX}
			}},
		{name: "no user data with zero thresholds", rules: low, want: reject.InsufficientUserData,
			mutate: func(e *fbevent.Event) { e.ActionSource = "app"; e.UserData = fbevent.UserData{} },
			detail: "0 of em/ph/external_id/fbp/fbc required, 0 present; 0 other fields required, 0 present"},

		// Meta's baseline combinations, reachable with lowered thresholds only.
		{name: "baseline location and ua", rules: low, want: reject.BaselineCombination,
			mutate: func(e *fbevent.Event) {
				e.UserData = fbevent.UserData{Ct: hashX, Country: hashX, St: hashX, Zp: hashX, Ge: hashX, ClientUserAgent: ua}
			},
			detail: "customer data (ge, ct, st, zp, country, client_user_agent) is only a subset of {ge, ct, st, zp, country, client_user_agent}, which Facebook cannot match"},
		{name: "baseline ua only", rules: low, want: reject.BaselineCombination,
			mutate: func(e *fbevent.Event) { e.UserData = fbevent.UserData{ClientUserAgent: ua} }},
		{name: "baseline db and ua", rules: low, want: reject.BaselineCombination,
			mutate: func(e *fbevent.Event) { e.UserData = fbevent.UserData{Db: hashX, ClientUserAgent: ua} },
			detail: "customer data (db, client_user_agent) is only a subset of {db, client_user_agent}, which Facebook cannot match"},
		{name: "baseline fn and ge", rules: low, want: reject.BaselineCombination,
			mutate: func(e *fbevent.Event) {
				e.ActionSource = "phone_call"
				e.UserData = fbevent.UserData{Fn: hashX, Ge: hashX}
			}},
		{name: "baseline ln and ge", rules: low, want: reject.BaselineCombination,
			mutate: func(e *fbevent.Event) { e.ActionSource = "chat"; e.UserData = fbevent.UserData{Ln: hashX, Ge: hashX} }},
		{name: "baseline ln only", rules: low, want: reject.BaselineCombination,
			mutate: func(e *fbevent.Event) { e.ActionSource = "chat"; e.UserData = fbevent.UserData{Ln: hashX} }},
		{name: "fn ln ge is no baseline subset", rules: low,
			mutate: func(e *fbevent.Event) {
				e.ActionSource = "chat"
				e.UserData = fbevent.UserData{Fn: hashX, Ln: hashX, Ge: hashX}
			}},
		{name: "db ct ua spans two sets", rules: low,
			mutate: func(e *fbevent.Event) {
				e.UserData = fbevent.UserData{Db: hashX, Ct: hashX, ClientUserAgent: ua}
			}},
		{name: "ip makes location data matchable", rules: low,
			mutate: func(e *fbevent.Event) {
				e.UserData = fbevent.UserData{Ct: hashX, ClientIPAddress: ip, ClientUserAgent: ua}
			}},
		{name: "one strong key escapes the baseline", rules: low,
			mutate: func(e *fbevent.Event) { e.UserData = fbevent.UserData{FBP: fbp, ClientUserAgent: ua} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := eligible()
			tt.mutate(ev)
			got := Check(ev, now, tt.rules)
			if tt.want == "" {
				if got != nil {
					t.Fatalf("Check = %v, want eligible", got)
				}
				return
			}
			if got == nil {
				t.Fatalf("Check = nil, want %s", tt.want)
			}
			if got.Reason != tt.want || got.Stage != reject.StageEligibility {
				t.Errorf("Check = %s at %s, want %s at %s", got.Reason, got.Stage, tt.want, reject.StageEligibility)
			}
			if tt.detail != "" && got.Detail != tt.detail {
				t.Errorf("detail\n got: %s\nwant: %s", got.Detail, tt.detail)
			}
			for _, pii := range []string{hashEm, hashPh, hashX, ip, "secret-agent", fbp, "leak"} {
				if strings.Contains(got.Detail, pii) {
					t.Errorf("detail %q contains the value %q", got.Detail, pii)
				}
			}
		})
	}
}

func TestTooOld(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	r := publishedRules()
	tests := []struct {
		name   string
		age    time.Duration
		source string
		want   bool
	}{
		{"fresh", 0, "website", false},
		{"future", -time.Hour, "website", false},
		{"edge", 7*day - time.Hour, "website", false},
		{"past edge", 7*day - time.Hour + time.Second, "website", true},
		{"inside margin", 7*day - 30*time.Minute, "email", true},
		{"physical_store edge", 62*day - time.Hour, "physical_store", false},
		{"physical_store past edge", 62*day - time.Hour + time.Second, "physical_store", true},
		{"empty source uses 7 days", 8 * day, "", true},
	}
	for _, tt := range tests {
		if got := r.TooOld(ago(tt.age), tt.source, now); got != tt.want {
			t.Errorf("%s: TooOld = %v, want %v", tt.name, got, tt.want)
		}
	}
	// A retry planned later can fall out of the window although the event is valid now.
	eventTime := ago(7*day - 2*time.Hour)
	if r.TooOld(eventTime, "website", now) || !r.TooOld(eventTime, "website", now.Add(2*time.Hour)) {
		t.Error("TooOld does not follow the time it is asked about")
	}
}

func TestRulesValidate(t *testing.T) {
	t.Parallel()
	if err := publishedRules().Validate(); err != nil {
		t.Errorf("publishedRules().Validate() = %v", err)
	}
	bad := []func(*Rules){
		func(r *Rules) { r.MinStrongKeys = -1 },
		func(r *Rules) { r.MinOtherKeys = -1 },
		func(r *Rules) { r.SafetyMargin = -time.Second },
		func(r *Rules) { r.MaxFuture = -time.Second },
		func(r *Rules) { r.MaxAge = r.SafetyMargin },
		func(r *Rules) { r.MaxAgePhysicalStore = 0 },
	}
	for i, mutate := range bad {
		r := publishedRules()
		mutate(&r)
		if r.Validate() == nil {
			t.Errorf("case %d: Validate accepted %+v", i, r)
		}
	}
}

func TestHM(t *testing.T) {
	t.Parallel()
	tests := map[time.Duration]string{
		0: "<1m", 59 * time.Second: "<1m", time.Minute: "1m", 61 * time.Minute: "1h01m",
		170*time.Hour + 5*time.Minute + 59*time.Second: "170h05m",
	}
	for d, want := range tests {
		if got := hm(d); got != want {
			t.Errorf("hm(%v) = %q, want %q", d, got, want)
		}
	}
}

// BenchmarkCheck is the stage on an eligible event (the common case: no rejection, nothing formatted).
func BenchmarkCheck(b *testing.B) {
	ev := eligible()
	ev.UserData.Em, ev.UserData.Ph = hashEm, hashPh
	r := publishedRules()
	b.ReportAllocs()
	for b.Loop() {
		if rej := Check(ev, now, r); rej != nil {
			b.Fatal(rej)
		}
	}
}

// TestInsufficientDetail pins the append-built insufficient_user_data detail to the fmt format it replaced, for
// every set of present keys and a few thresholds.
func TestInsufficientDetail(t *testing.T) {
	t.Parallel()
	listKeys := func(p presence, names []string, off int) string {
		var present []string
		for i, n := range names {
			if p&(1<<(off+i)) != 0 {
				present = append(present, n)
			}
		}
		if len(present) == 0 {
			return ""
		}
		return " (" + strings.Join(present, ", ") + ")"
	}
	for _, r := range []Rules{publishedRules(), {MinStrongKeys: 0, MinOtherKeys: 12}, {MinStrongKeys: 123, MinOtherKeys: -1}} {
		for p := presence(0); p < 1<<(len(strongKeys)+len(otherKeys)); p++ {
			strong, other := countBits(p&strongMask), countBits(p&^strongMask)
			want := fmt.Sprintf("%d of em/ph/external_id/fbp/fbc required, %d present%s; %d other fields required, %d present%s",
				r.MinStrongKeys, strong, listKeys(p, strongKeys[:], 0), r.MinOtherKeys, other,
				listKeys(p, otherKeys[:], numStrong))
			if got := insufficientDetail(p, r, strong, other); got != want {
				t.Fatalf("insufficientDetail(%b)\n got: %s\nwant: %s", p, got, want)
			}
		}
	}
}

// TestPresenceOf sets one user_data field at a time and checks that presenceOf reports exactly its key's bit.
func TestPresenceOf(t *testing.T) {
	t.Parallel()
	fields := map[string]func(*fbevent.UserData) *string{
		"em": func(u *fbevent.UserData) *string { return &u.Em }, "ph": func(u *fbevent.UserData) *string { return &u.Ph },
		"fn": func(u *fbevent.UserData) *string { return &u.Fn }, "ln": func(u *fbevent.UserData) *string { return &u.Ln },
		"ge": func(u *fbevent.UserData) *string { return &u.Ge }, "db": func(u *fbevent.UserData) *string { return &u.Db },
		"ct": func(u *fbevent.UserData) *string { return &u.Ct }, "st": func(u *fbevent.UserData) *string { return &u.St },
		"zp":                func(u *fbevent.UserData) *string { return &u.Zp },
		"country":           func(u *fbevent.UserData) *string { return &u.Country },
		"external_id":       func(u *fbevent.UserData) *string { return &u.ExternalID },
		"client_ip_address": func(u *fbevent.UserData) *string { return &u.ClientIPAddress },
		"client_user_agent": func(u *fbevent.UserData) *string { return &u.ClientUserAgent },
		"fbc":               func(u *fbevent.UserData) *string { return &u.FBC },
		"fbp":               func(u *fbevent.UserData) *string { return &u.FBP },
	}
	if len(fields) != len(strongKeys)+len(otherKeys) {
		t.Fatalf("%d fields for %d keys", len(fields), len(strongKeys)+len(otherKeys))
	}
	var all fbevent.UserData
	for name, field := range fields {
		var u fbevent.UserData
		*field(&u) = "x"
		*field(&all) = "x"
		if got, want := presenceOf(&u), keyBit(name); got != want {
			t.Errorf("presenceOf with only %s = %b, want %b", name, got, want)
		}
	}
	if got := presenceOf(&all); got != 1<<(len(strongKeys)+len(otherKeys))-1 {
		t.Errorf("presenceOf(all) = %b", got)
	}
	if got := presenceOf(&fbevent.UserData{}); got != 0 {
		t.Errorf("presenceOf(empty) = %b", got)
	}
}

// BenchmarkCheckInsufficient is the stage on an event it rejects as insufficient_user_data, one of the most
// frequent rejections: the cost is mostly the detail.
func BenchmarkCheckInsufficient(b *testing.B) {
	ev := eligible()
	ev.EventName = "ViewContent"
	ev.UserData = fbevent.UserData{Ct: hashX, ClientUserAgent: ua, ExternalID: hashX}
	r := publishedRules()
	b.ReportAllocs()
	for b.Loop() {
		if rej := Check(ev, now, r); rej == nil || rej.Reason != reject.InsufficientUserData {
			b.Fatal(rej)
		}
	}
}

// publishedRules is Meta's published rule, as config.DefaultDestination sets it: 1 strong key and 3 other fields,
// 7 days (62 for physical_store) minus a 1 h safety margin, 5 minutes of future tolerance.
func publishedRules() Rules {
	return Rules{
		MinStrongKeys:       1,
		MinOtherKeys:        3,
		MaxAge:              7 * 24 * time.Hour,
		MaxAgePhysicalStore: 62 * 24 * time.Hour,
		SafetyMargin:        time.Hour,
		MaxFuture:           5 * time.Minute,
	}
}
