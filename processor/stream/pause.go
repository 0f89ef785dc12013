package stream

import (
	"github.com/sony/gobreaker/v2"
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

// Ready reports whether the member joined its group and no destination is misconfigured (/readyz).
func (r *Runner) Ready() bool {
	if !r.joined.Load() || r.shuttingDown.Load() {
		return false
	}
	bad := false
	r.misconf.Range(func(_, v any) bool {
		bad = v.(bool)
		return !bad
	})
	return !bad
}

// onBreaker pauses fetching while any destination's breaker is open and resumes when all are closed again.
func (r *Runner) onBreaker(dest string, from, to gobreaker.State) {
	r.log.Warn().Str("destination", dest).Str("from", from.String()).Str("to", to.String()).Msg("circuit breaker state change")
	switch to {
	case gobreaker.StateOpen:
		r.setPaused("breaker:"+dest, true)
	case gobreaker.StateClosed:
		r.setPaused("breaker:"+dest, false)
	}
}

func (r *Runner) onMisconfigured(dest string, bad bool) {
	r.misconf.Store(dest, bad)
	r.setPaused("misconfigured:"+dest, bad)
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
