package stream

import (
	"strings"

	"github.com/sony/gobreaker/v2"

	"github.com/capi-connector/capi-connector/processor/health"
)

// Pausing and health: fetching stops while a breaker is open or a destination is misconfigured.

func (r *Runner) anyMisconfigured() bool {
	for _, d := range r.dests {
		if d.misconfigured.Load() {
			return true
		}
	}
	return false
}

// Ready reports whether every readiness check passes (/readyz): the member joined its group, brokers answer,
// the topics are there, DLQ writes go through and no destination is stopped.
func (r *Runner) Ready() bool { return r.opts.Health.Ready() }

// onBreaker pauses fetching while any destination's breaker is open and resumes when all are closed again. The
// transition itself is logged once, by processor/capi.
func (r *Runner) onBreaker(dest string, _, to gobreaker.State) {
	switch to {
	case gobreaker.StateOpen:
		r.setPaused("breaker:"+dest, true)
		r.setDestination(dest, "breaker:", "breaker open: the Graph API keeps failing (transient or throttled); fetching paused, a probe is sent after breaker.open_timeout")
	case gobreaker.StateClosed:
		r.setPaused("breaker:"+dest, false)
		r.setDestination(dest, "breaker:", "")
	}
}

// onMisconfigured is told when a destination's configuration is refused (bad, with what to do about it when the
// Graph error says) or accepted again.
func (r *Runner) onMisconfigured(dest string, bad bool, fix string) {
	r.setPaused("misconfigured:"+dest, bad)
	reason := ""
	if bad {
		reason = "misconfigured: the Graph API refuses the configuration (token, pixel id or permissions); fetching paused, retried every " + r.opts.MisconfiguredRetry.String()
		if fix != "" {
			reason = "misconfigured: " + fix + "; fetching paused, retried every " + r.opts.MisconfiguredRetry.String()
		}
	}
	r.setDestination(dest, "misconfigured:", reason)
}

// setDestination sets one cause (breaker or misconfiguration) of destination:<dest> and recomputes the check from
// both causes: the misconfiguration is reported first, it needs an operator.
func (r *Runner) setDestination(dest, cause, reason string) {
	r.pauseMu.Lock()
	if r.destProblems == nil {
		r.destProblems = map[string]string{}
	}
	if reason == "" {
		delete(r.destProblems, cause+dest)
	} else {
		r.destProblems[cause+dest] = reason
	}
	var reasons []string
	for _, c := range []string{"misconfigured:", "breaker:"} {
		if p := r.destProblems[c+dest]; p != "" {
			reasons = append(reasons, p)
		}
	}
	r.pauseMu.Unlock()
	r.opts.Health.Set(health.Destination(dest), len(reasons) == 0, strings.Join(reasons, "; "))
}

func (r *Runner) setPaused(reason string, on bool) {
	r.pauseMu.Lock()
	defer r.pauseMu.Unlock()
	was := len(r.paused) > 0
	if on {
		r.paused[reason] = true
	} else {
		delete(r.paused, reason)
	}
	now := len(r.paused) > 0
	switch {
	case now && !was:
		r.cl.PauseFetchTopics(r.opts.Topics...)
		r.log.Warn().Str("reason", reason).Msg("fetching paused")
	case !now && was:
		r.cl.ResumeFetchTopics(r.opts.Topics...)
		r.log.Info().Msg("fetching resumed")
	}
}

// Paused reports whether fetching is paused.
func (r *Runner) Paused() bool {
	r.pauseMu.Lock()
	defer r.pauseMu.Unlock()
	return len(r.paused) > 0
}

// DestinationState is a destination's health for metrics.
type DestinationState struct {
	Name          string
	Breaker       gobreaker.State
	Misconfigured bool
}

// DestinationStates returns every destination's breaker state and misconfiguration flag.
func (r *Runner) DestinationStates() []DestinationState {
	out := make([]DestinationState, 0, len(r.dests))
	for _, d := range r.dests {
		out = append(out, DestinationState{Name: d.name, Breaker: d.client.State(), Misconfigured: d.misconfigured.Load()})
	}
	return out
}
