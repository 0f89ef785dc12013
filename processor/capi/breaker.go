package capi

import (
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// gobreaker calls OnStateChange with its mutex held, so a callback that asks the breaker anything (Client.State)
// would deadlock. Transitions are therefore queued under that lock and delivered afterwards by whichever goroutine
// touched the breaker, in order, one deliverer at a time.

type transition struct{ from, to gobreaker.State }

type notifier struct {
	mu      sync.Mutex // guards pending
	pending []transition
	deliver sync.Mutex // held while the callback runs: one deliverer, transitions in order
}

func (n *notifier) push(t transition) {
	n.mu.Lock()
	n.pending = append(n.pending, t)
	n.mu.Unlock()
}

func (n *notifier) take() []transition {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.pending
	n.pending = nil
	return p
}

// flush delivers queued transitions. If another goroutine (or the callback itself, re-entering through State) is
// already delivering, it returns: the deliverer re-checks the queue after releasing, so nothing is stranded.
func (n *notifier) flush(fn func(transition)) {
	for {
		if !n.deliver.TryLock() {
			return
		}
		for p := n.take(); len(p) > 0; p = n.take() {
			for _, t := range p {
				fn(t)
			}
		}
		n.deliver.Unlock()
		n.mu.Lock()
		more := len(n.pending) > 0
		n.mu.Unlock()
		if !more {
			return
		}
	}
}

// onBreakerChange runs under the breaker's lock: record, never call out.
func (c *Client) onBreakerChange(_ string, from, to gobreaker.State) {
	if to == gobreaker.StateOpen {
		c.openUntil.Store(time.Now().Add(c.opt.Breaker.OpenTimeout).UnixNano())
		// gobreaker moves to half-open only when asked. Ask when the timeout elapses so the runtime learns it
		// (and resumes fetching) even if no Send is waiting to probe, e.g. after its batches were abandoned.
		time.AfterFunc(c.opt.Breaker.OpenTimeout+time.Millisecond, c.wakeBreaker)
	}
	c.notify.push(transition{from, to})
}

func (c *Client) wakeBreaker() {
	if c.State() == gobreaker.StateOpen {
		if d := time.Until(time.Unix(0, c.openUntil.Load())); d > 0 { // re-opened meanwhile: its own timer runs
			return
		}
		time.AfterFunc(time.Millisecond, c.wakeBreaker)
	}
}

func (c *Client) flushTransitions() {
	c.notify.flush(func(t transition) {
		ev := c.log.Warn()
		if t.to == gobreaker.StateClosed {
			ev = c.log.Info()
		}
		ev.Str("from", t.from.String()).Str("to", t.to.String()).Msg("graph api circuit breaker state change")
		if c.opt.OnStateChange != nil {
			c.opt.OnStateChange(c.name, t.from, t.to)
		}
	})
}
