package capi

import (
	"net/http"
	"testing"
	"time"
)

func TestThrottleHint(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 11, 29, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		headers map[string]string
		want    time.Duration
	}{
		{"none", nil, 0},
		{"business use case", map[string]string{"X-Business-Use-Case-Usage": `{"112233445566":[{"type":"ads_management",` +
			`"call_count":100,"total_cputime":34,"total_time":41,"estimated_time_to_regain_access":5}]}`}, 5 * time.Minute},
		{"business use case, longest entry", map[string]string{"X-Business-Use-Case-Usage": `{"1":[{"type":"ads_insights",` +
			`"estimated_time_to_regain_access":2},{"type":"ads_management","estimated_time_to_regain_access":7}],` +
			`"2":[{"type":"custom_audience","estimated_time_to_regain_access":3}]}`}, 7 * time.Minute},
		{"business use case, zero", map[string]string{"X-Business-Use-Case-Usage": `{"1":[{"type":"ads_management",` +
			`"call_count":95,"estimated_time_to_regain_access":0}]}`}, 0},
		{"business use case, malformed", map[string]string{"X-Business-Use-Case-Usage": `{"1":`}, 0},
		{"app usage has no time", map[string]string{"X-App-Usage": `{"call_count":100,"total_cputime":25,"total_time":25}`}, 0},
		{"ad account reset", map[string]string{"X-Ad-Account-Usage": `{"acc_id_util_pct":100,"reset_time_duration":90}`}, 90 * time.Second},
		{"retry-after seconds", map[string]string{"Retry-After": "30"}, 30 * time.Second},
		{"retry-after date", map[string]string{"Retry-After": now.Add(2 * time.Minute).Format(http.TimeFormat)}, 2 * time.Minute},
		{"retry-after past date", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"longest of several", map[string]string{"Retry-After": "30",
			"X-Business-Use-Case-Usage": `{"1":[{"estimated_time_to_regain_access":1}]}`}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			if got := throttleHint(h, now); got != tt.want {
				t.Errorf("throttleHint = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestThrottleWait(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://graph.invalid", configOptions()) // defaults: 60s, capped at 15m
	tests := []struct {
		name string
		hint time.Duration
		want time.Duration
	}{
		{"no hint: ThrottleBackoff", 0, time.Minute},
		{"hint honoured", 5 * time.Minute, 5 * time.Minute},
		{"short hint honoured", 10 * time.Second, 10 * time.Second},
		{"hint capped", time.Hour, 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				if got := c.throttleWait(tt.hint); got < tt.want || got > tt.want+tt.want/10 {
					t.Fatalf("throttleWait(%v) = %v, want in [%v, +10%%]", tt.hint, got, tt.want)
				}
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://graph.invalid", configOptions()) // defaults: 500ms doubling to 60s
	ceilings := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	for n, ceiling := range ceilings {
		var longest time.Duration
		for range 200 {
			d := c.backoff(n, 0)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want in [0, %v]", n, d, ceiling)
			}
			longest = max(longest, d)
		}
		if longest < ceiling/2 { // full jitter spreads over the whole range
			t.Errorf("backoff(%d): longest of 200 draws %v, want near %v", n, longest, ceiling)
		}
	}
	for _, n := range []int{7, 8, 30, 1000} {
		if d := c.backoff(n, 0); d > time.Minute {
			t.Errorf("backoff(%d) = %v above MaxBackoff", n, d)
		}
	}
	if d := c.backoff(0, 3*time.Minute); d != 3*time.Minute {
		t.Errorf("backoff with Retry-After 3m = %v", d)
	}
}
