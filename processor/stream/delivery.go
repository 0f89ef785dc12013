package stream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/capi"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/reject"
)

// item is one event on its way to one destination.
type item struct {
	capi.Item
	rec   *kgo.Record
	entry *entry
	keys  processor.MatchKeys
}

// destination batches the events for one pixel and sends them with a bounded number of requests in flight. Its
// input never blocks the poll loop: batches queue here, and the in-flight record cap bounds the queue.
type destination struct {
	name   string
	client *capi.Client
	opts   BatchOptions
	dlq    *dlqWriter
	log    zerolog.Logger
	stats  *Stats
	now    func() time.Time
	// misconfiguredRetry is how long a destination stopped by a configuration error waits before trying again
	// (the fix may happen on Facebook's side, e.g. a permission granted).
	misconfiguredRetry time.Duration
	onMisconfigured    func(name string, bad bool, fix string)

	in chan item

	// The batch being filled (cur) and the full batches (ready) are shared with the senders under mu. A partial
	// batch is handed over only when its linger elapsed AND a sender is free: while every sender is busy it keeps
	// filling, so a backlog behind slow requests goes out in full batches instead of a queue of linger-sized
	// fragments (with K requests in flight and 200ms per request, fragments cap throughput far below
	// K × MaxEvents / 200ms).
	mu        sync.Mutex
	cond      *sync.Cond
	cur       []item
	curSize   int
	curOpened time.Time
	ready     [][]item
	closing   bool

	misconfigured atomic.Bool
	wg            sync.WaitGroup
}

func (d *destination) start(ctx context.Context) {
	d.cond = sync.NewCond(&d.mu)
	d.in = make(chan item, 4096)
	d.wg.Add(1 + d.opts.MaxInFlight)
	go d.batch()
	for range d.opts.MaxInFlight {
		go d.send(ctx)
	}
}

// stop closes the input; queued batches are still sent (until ctx of start ends), then the goroutines exit.
func (d *destination) stop() { close(d.in) }

func (d *destination) wait() { d.wg.Wait() }

// batch moves items from the input channel into the shared batch, taking the lock once per burst of items rather
// than once per item, and wakes a free sender when the current batch's linger elapses.
func (d *destination) batch() {
	defer d.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case it, ok := <-d.in:
			closed, opened := !ok, false
			d.mu.Lock()
			if ok {
				opened = d.addLocked(it)
			drain:
				for range 1024 {
					select {
					case it, ok := <-d.in:
						if !ok {
							closed = true
							break drain
						}
						opened = d.addLocked(it) || opened
					default:
						break drain
					}
				}
			}
			if closed {
				d.closing = true
				d.cond.Broadcast()
			}
			d.mu.Unlock()
			if closed {
				timer.Stop()
				return
			}
			if opened {
				timer.Reset(d.opts.Linger)
			}
		case <-timer.C:
			d.mu.Lock()
			if len(d.cur) > 0 {
				d.cond.Signal()
			}
			d.mu.Unlock()
		}
	}
}

// addLocked appends it to the current batch and seals the batch when it is full; it reports whether it opened a
// new batch (whose linger then starts).
func (d *destination) addLocked(it item) bool {
	n := len(it.JSON) + 1
	if len(d.cur) > 0 && d.curSize+n > d.opts.MaxBytes {
		d.sealLocked()
	}
	opened := false
	if len(d.cur) == 0 {
		d.cur = make([]item, 0, min(d.opts.MaxEvents, 256))
		d.curOpened = time.Now()
		opened = true
	}
	d.cur = append(d.cur, it)
	d.curSize += n
	if len(d.cur) >= d.opts.MaxEvents {
		d.sealLocked()
	}
	return opened
}

func (d *destination) sealLocked() {
	d.ready = append(d.ready, d.cur)
	d.cur, d.curSize = nil, 0
	d.cond.Signal()
}

// next blocks until a sender has work: a full batch, else the current batch once its linger elapsed (or the input
// closed). It returns nil when the input is closed and everything was handed out.
func (d *destination) next() []item {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if len(d.ready) > 0 {
			b := d.ready[0]
			d.ready[0] = nil
			d.ready = d.ready[1:]
			return b
		}
		if len(d.cur) > 0 && (d.closing || time.Since(d.curOpened) >= d.opts.Linger) {
			b := d.cur
			d.cur, d.curSize = nil, 0
			return b
		}
		if d.closing {
			return nil
		}
		d.cond.Wait()
	}
}

func (d *destination) send(ctx context.Context) {
	defer d.wg.Done()
	for {
		b := d.next()
		if b == nil {
			return
		}
		d.deliver(ctx, b)
		if ctx.Err() != nil {
			return
		}
	}
}

// deliver sends one batch until every item has a durable outcome, the destination is misconfigured and ctx ends,
// or ctx ends. Items without a durable outcome are never acknowledged, so their offsets are never committed.
func (d *destination) deliver(ctx context.Context, b []item) {
	items := make([]capi.Item, len(b))
	for i := range b {
		items[i] = b[i].Item
	}
	for {
		d.stats.Batches.Add(1)
		res, err := d.client.Send(ctx, items)
		// Counted before acknowledging (a commit never runs ahead of the counters), one lock per match-key
		// combination rather than one per event.
		var byKeys [1 << len(processor.MatchKeyNames)]int64
		for _, i := range res.Delivered {
			byKeys[int(b[i].keys)&(len(byKeys)-1)]++ // bits without a name are not counted anyway
		}
		for k, n := range byKeys {
			if n > 0 {
				d.stats.delivered(d.name, n, processor.MatchKeys(k))
			}
		}
		for _, i := range res.Delivered {
			b[i].entry.ack()
		}
		for _, r := range res.Rejected {
			it := b[r.Index]
			rej := &reject.Rejection{Reason: reject.FacebookRejected, Stage: reject.StageDelivery, Detail: r.Err.Error()}
			d.deadLetter(it, rej, r.Err.Code, r.Err.Subcode)
		}
		for _, i := range res.TooOld {
			rej := &reject.Rejection{Reason: reject.EventTooOld, Stage: reject.StageDelivery,
				Detail: "the event can no longer be delivered inside Facebook's time window after retries"}
			d.deadLetter(b[i], rej, 0, 0)
		}
		if err == nil {
			if d.misconfigured.CompareAndSwap(true, false) {
				d.onMisconfigured(d.name, false, "")
			}
			return
		}
		var mis *capi.MisconfiguredError
		if !errors.As(err, &mis) || ctx.Err() != nil {
			return
		}
		// Configuration error: stop here, report not ready, never dead-letter the stream. Try again later with
		// the events that are still undecided.
		if d.misconfigured.CompareAndSwap(false, true) {
			fix := ""
			if mis.Err != nil {
				fix = mis.Err.Advice()
			}
			d.onMisconfigured(d.name, true, fix)
		}
		d.log.Error().Err(err).Str("destination", d.name).Dur("retry_in", d.misconfiguredRetry).
			Msg("destination misconfigured: delivery stopped, consumption paused; fix the configuration (token, pixel id, permissions) and restart")
		b, items = undecided(b, items, res)
		if len(b) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(d.misconfiguredRetry):
		}
	}
}

func undecided(b []item, items []capi.Item, res capi.Result) ([]item, []capi.Item) {
	decided := make(map[int]bool, len(res.Delivered)+len(res.Rejected)+len(res.TooOld))
	for _, i := range res.Delivered {
		decided[i] = true
	}
	for _, r := range res.Rejected {
		decided[r.Index] = true
	}
	for _, i := range res.TooOld {
		decided[i] = true
	}
	var nb []item
	var ni []capi.Item
	for i := range b {
		if !decided[i] {
			nb = append(nb, b[i])
			ni = append(ni, items[i])
		}
	}
	return nb, ni
}

func (d *destination) deadLetter(it item, rej *reject.Rejection, code, subcode int) {
	d.stats.rejected(d.name, rej.Reason)
	r := dlq.Record(d.dlq.topic, it.rec, dlq.Failure{Rejection: rej, Destination: d.name, FailedAt: d.now(),
		FacebookCode: code, FacebookSubcode: subcode})
	d.dlq.write(r, it.entry.ack)
}
