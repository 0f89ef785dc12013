package deploy

import (
	"slices"
	"strings"
	"testing"
)

// promqlKeywords are the PromQL words that are not metric names when they are not followed by "(".
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true,
	"start": true, "end": true, "atan2": true,
}

// promqlLabelLists are the words followed by a parenthesized list of label names.
var promqlLabelLists = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// metricNames returns the metric names an expression selects, in order of appearance, without repeats. It is a
// lexer, not a parser: identifiers outside label matchers, ranges and strings, that are neither a function call, a
// keyword nor inside a by/without/on/ignoring/group_left/group_right label list, are metric names. Grafana variables
// ($var, ${var}, $__rate_interval) are skipped. The rules' syntax itself is checked by promtool and the real
// Prometheus; this only has to find the names.
func metricNames(expr string) []string {
	var out []string
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
	skipTo := func(i int, closing byte) int { // index after the closing byte, honouring quotes
		for i < len(expr) && expr[i] != closing {
			if q := expr[i]; q == '"' || q == '\'' || q == '`' {
				i++
				for i < len(expr) && expr[i] != q {
					if expr[i] == '\\' && q != '`' {
						i++
					}
					i++
				}
			}
			i++
		}
		return i + 1
	}
	nextNonSpace := func(i int) int {
		for i < len(expr) && strings.ContainsRune(" \t\r\n", rune(expr[i])) {
			i++
		}
		return i
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipTo(i+1, c)
		case c == '{':
			i = skipTo(i+1, '}')
		case c == '[':
			i = skipTo(i+1, ']')
		case c == '#': // comment to end of line
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '$': // Grafana variable
			i++
			if i < len(expr) && expr[i] == '{' {
				i = skipTo(i+1, '}')
				continue
			}
			for i < len(expr) && isIdent(expr[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.': // numbers and durations (1d, 0.8, 1e3, 5m30s)
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := nextNonSpace(j)
			lower := strings.ToLower(word)
			switch {
			case promqlLabelLists[lower]:
				if k < len(expr) && expr[k] == '(' {
					j = skipTo(k+1, ')')
				}
			case k < len(expr) && expr[k] == '(': // function or aggregation
			case followedByWord(expr[k:], "by", "without"): // aggregation with its grouping first: sum by (x) (…)
			case promqlKeywords[lower]:
			default:
				if !slices.Contains(out, word) {
					out = append(out, word)
				}
			}
			i = j
		default:
			i++
		}
	}
	return out
}

// followedByWord reports whether s starts with one of the words as a whole identifier.
func followedByWord(s string, words ...string) bool {
	for _, w := range words {
		if rest, ok := strings.CutPrefix(s, w); ok && (rest == "" || !strings.ContainsAny(rest[:1], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:")) {
			return true
		}
	}
	return false
}

func TestMetricNamesLexer(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`capi_destination_misconfigured == 1`, []string{"capi_destination_misconfigured"}},
		{`sum by (job, topic) (max by (job, topic, partition) (capi_consumer_lag))`, []string{"capi_consumer_lag"}},
		{`deriv(capi:consumer_lag:sum[15m]) > 0 and capi:consumer_lag:sum > 10000`, []string{"capi:consumer_lag:sum"}},
		{`sum by (reason) (rate(capi_events_rejected_total{reason!~"no_consent|a}b",job=~"$job"}[15m])) / ignoring (reason) group_left sum(rate(capi_records_consumed_total[$__rate_interval]))`,
			[]string{"capi_events_rejected_total", "capi_records_consumed_total"}},
		{`rate(x_total[1h] offset 1d) < 0.8 * y and on (job) z > 1e3`, []string{"x_total", "y", "z"}},
		{`histogram_quantile(0.95, sum by (le) (rate(capi_graph_request_duration_seconds_bucket{job=~"${job}"}[5m])))`,
			[]string{"capi_graph_request_duration_seconds_bucket"}},
		{`sum(a) by (destination) / on(destination) group_left(key) b unless c offset 5m`, []string{"a", "b", "c"}},
		{`label_values(capi_events_delivered_total{job=~"$job"}, destination)`, []string{"capi_events_delivered_total", "destination"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
