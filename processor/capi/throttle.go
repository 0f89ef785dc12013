package capi

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// throttleHint is the wait Facebook asks for in the response headers, 0 when it asks for none. The longest of:
//   - X-Business-Use-Case-Usage: {"<business id>":[{"type":…,"estimated_time_to_regain_access":<minutes>}]}
//   - X-Ad-Account-Usage: {"acc_id_util_pct":…,"reset_time_duration":<seconds>}
//   - Retry-After: seconds or an HTTP date.
//
// X-App-Usage only reports percentages (call_count, total_cputime, total_time), no time: nothing to honour.
// Malformed headers are ignored: the default throttle backoff applies.
func throttleHint(h http.Header, now time.Time) time.Duration {
	var hint time.Duration
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var buc map[string][]struct {
			ETRA float64 `json:"estimated_time_to_regain_access"`
		}
		if json.Unmarshal([]byte(v), &buc) == nil {
			for _, entries := range buc {
				for _, e := range entries {
					hint = max(hint, minutes(e.ETRA))
				}
			}
		}
	}
	if v := h.Get("X-Ad-Account-Usage"); v != "" {
		var acc struct {
			Reset float64 `json:"reset_time_duration"`
		}
		if json.Unmarshal([]byte(v), &acc) == nil && acc.Reset > 0 && acc.Reset < 1e6 {
			hint = max(hint, time.Duration(acc.Reset*float64(time.Second)))
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s > 0 && s < 1e6 {
			hint = max(hint, time.Duration(s)*time.Second)
		} else if t, err := http.ParseTime(v); err == nil && t.After(now) {
			hint = max(hint, t.Sub(now))
		}
	}
	return hint
}

func minutes(m float64) time.Duration {
	if m <= 0 || m > 1e6 { // absent, or nonsense that would overflow
		return 0
	}
	return time.Duration(m * float64(time.Minute))
}

// throttleWait is how long to hold requests after a throttling answer: Facebook's hint when it gave one, else
// ThrottleBackoff; capped by MaxThrottleBackoff; plus up to 10% jitter so concurrent senders do not resume at once.
func (c *Client) throttleWait(hint time.Duration) time.Duration {
	d := c.opt.ThrottleBackoff
	if hint > 0 {
		d = hint
	}
	d = min(d, c.opt.MaxThrottleBackoff)
	return d + jitter(d/10)
}

// backoff is the wait before resend number n (0-based) after transient failures: uniform in [0, ceiling] with the
// ceiling InitialBackoff·2ⁿ capped by MaxBackoff (full jitter). A server hint (Retry-After on a 503) raises it.
func (c *Client) backoff(n int, hint time.Duration) time.Duration {
	ceiling := c.opt.InitialBackoff
	for i := 0; i < n && ceiling < c.opt.MaxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.opt.MaxBackoff)
	d := jitter(ceiling)
	if hint > d {
		d = min(hint, c.opt.MaxThrottleBackoff)
	}
	return d
}

// breakerWait is how long to wait when the breaker refused a call: until the open timeout ends (plus a little
// jitter so waiting Sends do not race for the single probe), or a short backoff while another call is probing.
func (c *Client) breakerWait(open bool) time.Duration {
	if open {
		d := time.Until(time.Unix(0, c.openUntil.Load()))
		return max(d, 0) + time.Millisecond + jitter(c.opt.InitialBackoff/4)
	}
	return c.opt.InitialBackoff/2 + jitter(c.opt.InitialBackoff/2)
}

// holdThrottled makes every Send of this client wait until now+d (never shortening a longer hold).
func (c *Client) holdThrottled(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	for {
		cur := c.throttledUntil.Load()
		if cur >= until || c.throttledUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// jitter is uniform in [0, d].
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}
