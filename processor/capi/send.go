package capi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Send delivers items and returns when every item has a final outcome in Result, or with an error when it cannot:
//
//   - ctx cancelled: the error wraps ctx.Err(); Result lists only the items decided before that, the others have no
//     outcome (the runtime must not commit them).
//   - misconfigured destination: *MisconfiguredError (errors.Is ErrMisconfigured), wrapping Facebook's *GraphError;
//     Result lists what was decided before. Nothing was retried.
//
// Inputs longer than MaxBatch are sent as several requests. A request Facebook refuses for an invalid event
// (EventRejected, Unclassified) is split in halves, each sent (depth first), recursively, until single events fail:
// those are Rejected with Facebook's error for them alone, everything else is Delivered. With one bad event in n
// that costs about 2·log2(n)+1 requests.
//
// Transient and throttled failures are retried, with backoff, until success, cancellation, or the events age out:
// before every attempt, items for which Options.TooOld holds are moved to Result.TooOld instead of being sent.
// A 200 whose events_received differs from the number sent is ambiguous (did some land?); it is retried as
// transient, which is safe because Facebook deduplicates on event_id.
func (c *Client) Send(ctx context.Context, items []Item) (Result, error) {
	var res Result
	if len(items) == 0 {
		return res, nil
	}
	all := make([]int, len(items))
	for i := range all {
		all[i] = i
	}
	// A stack of groups still to decide, processed last in first out: a bisected half is finished before its
	// sibling starts, so at most log2(n) groups wait and no two requests of one Send run at once (concurrency is
	// the runtime's business: it runs Sends in parallel).
	var stack [][]int
	for start := (len(all) - 1) / MaxBatch * MaxBatch; start >= 0; start -= MaxBatch {
		stack = append(stack, all[start:min(start+MaxBatch, len(all))])
	}
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		g, rejected, err := c.deliver(ctx, items, g, &res)
		if err != nil {
			res.sort()
			return res, err
		}
		switch {
		case rejected == nil:
		case len(g) == 1:
			res.Rejected = append(res.Rejected, Rejected{Index: g[0], Err: rejected})
			c.log.Debug().Int("code", rejected.Code).Int("subcode", rejected.Subcode).Str("fbtrace_id", rejected.FBTraceID).
				Msg("graph api rejected an event")
		default:
			mid := len(g) / 2
			stack = append(stack, g[mid:], g[:mid])
		}
	}
	res.sort()
	return res, nil
}

func (r *Result) sort() {
	slices.Sort(r.Delivered)
	slices.Sort(r.TooOld)
	slices.SortFunc(r.Rejected, func(a, b Rejected) int { return a.Index - b.Index })
}

// deliver sends one group until Facebook decides it. It returns the group as finally sent (too-old items removed)
// and, when Facebook refused it as a whole for an event-level reason, that error (the caller bisects). Delivered
// and too-old items are recorded in res.
func (c *Client) deliver(ctx context.Context, items []Item, idx []int, res *Result) ([]int, *GraphError, error) {
	var last error // the latest failure, to explain a cancellation
	failures := 0
	for {
		idx = c.dropTooOld(items, idx, res)
		if len(idx) == 0 {
			return nil, nil, nil
		}
		if err := c.waitThrottled(ctx); err != nil {
			return idx, nil, c.interrupted(ctx, last)
		}
		o := c.attempt(ctx, items, idx)
		if o.err == nil {
			res.Delivered = append(res.Delivered, idx...)
			return idx, nil, nil
		}
		if o.cancelled {
			return idx, nil, c.interrupted(ctx, last)
		}
		last = o.err
		if o.refused { // the breaker is open or already probing
			c.retryObserved("breaker_open")
			if sleep(ctx, c.breakerWait(errors.Is(o.err, gobreaker.ErrOpenState))) != nil {
				return idx, nil, c.interrupted(ctx, last)
			}
			continue
		}
		switch o.class {
		case Misconfigured:
			c.log.Error().Int("http_status", o.graph.HTTPStatus).Int("code", o.graph.Code).Int("subcode", o.graph.Subcode).
				Str("type", o.graph.Type).Str("fbtrace_id", o.graph.FBTraceID).Str("fix", o.graph.Advice()).
				Msg("graph api destination misconfigured: delivery stopped")
			return idx, nil, &MisconfiguredError{Destination: c.name, Err: o.graph}
		case EventRejected, Unclassified:
			return idx, o.graph, nil
		case Throttled:
			wait := c.throttleWait(o.hint)
			c.holdThrottled(wait) // waited at the top of the loop, by every Send of this client
			c.retryLog(o, len(idx), wait)
		default: // Transient
			wait := c.backoff(failures, o.hint)
			failures++
			c.retryLog(o, len(idx), wait)
			if sleep(ctx, wait) != nil {
				return idx, nil, c.interrupted(ctx, last)
			}
		}
	}
}

// dropTooOld moves the items of idx that can no longer land to res.TooOld and returns the others. idx is shared
// with sibling groups, so it is never modified in place.
func (c *Client) dropTooOld(items []Item, idx []int, res *Result) []int {
	if c.opt.TooOld == nil {
		return idx
	}
	now := c.opt.Now()
	var keep []int
	for n, i := range idx {
		if !c.opt.TooOld(items[i].EventTime, items[i].ActionSource, now) {
			if keep != nil {
				keep = append(keep, i)
			}
			continue
		}
		if keep == nil {
			keep = append(make([]int, 0, len(idx)-1), idx[:n]...)
		}
		res.TooOld = append(res.TooOld, i)
	}
	if keep == nil {
		return idx
	}
	c.log.Info().Int("events", len(idx)-len(keep)).Msg("events aged out while retrying: dropped as too old")
	return keep
}

func (c *Client) interrupted(ctx context.Context, last error) error {
	if last != nil {
		return fmt.Errorf("capi: destination %q: delivery interrupted: %w (last failure: %v)", c.name, ctx.Err(), last)
	}
	return fmt.Errorf("capi: destination %q: delivery interrupted: %w", c.name, ctx.Err())
}

func (c *Client) waitThrottled(ctx context.Context) error {
	d := time.Until(time.Unix(0, c.throttledUntil.Load()))
	if d <= 0 {
		return ctx.Err()
	}
	return sleep(ctx, d)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) retryLog(o outcome, events int, wait time.Duration) {
	ev := c.log.Warn().Str("class", o.class.String()).Int("events", events).Dur("wait", wait)
	if o.graph != nil {
		ev = ev.Int("http_status", o.graph.HTTPStatus).Int("code", o.graph.Code).Int("subcode", o.graph.Subcode).
			Str("fbtrace_id", o.graph.FBTraceID)
	}
	if o.graph != nil {
		ev = ev.Str("error", o.graph.Summary()) // Facebook's text may echo customer data: never logged
	} else {
		ev = ev.Err(o.err) // transport errors: no URL (stripURL), no body
	}
	ev.Msg("graph api call failed: retrying")
	c.retryObserved(o.class.String())
}

func (c *Client) retryObserved(class string) {
	if c.obs != nil {
		c.obs.Retry(c.name, class)
	}
}

// outcome is the result of one attempt.
type outcome struct {
	err       error         // nil: delivered
	class     Class         // when err is a failure answered or caused by the API
	graph     *GraphError   // when Facebook answered an error
	hint      time.Duration // wait asked for by the response headers
	cancelled bool          // the caller's ctx ended: nothing was decided
	refused   bool          // the breaker did not let the call through
	status    int           // HTTP status, 0 without a response
}

// attempt makes one call through the breaker. Transient and throttled failures count against it; answers where
// Facebook decided (success, event rejected, misconfigured, unclassified) count as success, since the API is
// healthy; cancellations are not counted.
func (c *Client) attempt(ctx context.Context, items []Item, idx []int) outcome {
	done, err := c.cb.Allow()
	c.flushTransitions()
	if err != nil {
		return outcome{err: err, refused: true}
	}
	start := time.Now()
	o := c.post(ctx, items, idx)
	dur := time.Since(start)
	var verdict error
	switch {
	case o.cancelled:
		verdict = errNotCounted
	case o.err != nil && (o.class == Transient || o.class == Throttled):
		verdict = o.err
	}
	done(verdict)
	c.flushTransitions()
	if c.obs != nil && !o.cancelled {
		label, code := "ok", 0
		if o.err != nil {
			label = o.class.String()
		}
		if o.graph != nil {
			code = o.graph.Code
		}
		c.obs.Request(c.name, label, o.status, code, dur, len(idx))
	}
	return o
}
