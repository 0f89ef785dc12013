package stream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/capi"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/processor/reject"
)

// The poll loop: fetch, transform in parallel, then register and dispatch in offset order.

// transformBlock is how many records are transformed in parallel before they are dispatched in order: large
// enough to amortize starting the workers, small enough that the first batches leave without waiting for a whole
// poll to be transformed.
const transformBlock = 512

func (r *Runner) poll(ctx context.Context) {
	var recs []*kgo.Record
	outs := make([][]processor.Outcome, transformBlock)
	for ctx.Err() == nil {
		room := int64(r.opts.MaxInFlightRecords) - r.inflight.count()
		if room <= 0 {
			select {
			case <-ctx.Done():
				return
			case <-r.inflight.space:
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		fs := r.cl.PollRecords(ctx, int(room))
		if fs.IsClientClosed() {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			r.readRefused(t, err)
			r.logs.do("fetch:"+t+":"+err.Error(), func(suppressed int) {
				r.log.Warn().Err(err).Str("topic", t).Int32("partition", p).Int("similar_suppressed", suppressed).Msg("fetch error")
			})
		})
		recs = recs[:0]
		fs.EachRecord(func(rec *kgo.Record) { recs = append(recs, rec) })
		for start := 0; start < len(recs); start += transformBlock {
			block := recs[start:min(start+transformBlock, len(recs))]
			if !r.transform(ctx, block, outs) {
				// Cancelled while retrying a transient decode failure: nothing more is registered, so no
				// watermark can pass the records left undone; they are consumed again after the restart.
				break
			}
			for i, rec := range block {
				r.dispatch(rec, outs[i])
			}
		}
		clear(recs) // do not pin fetched records until the next poll
		r.cl.AllowRebalance()
	}
}

// transform runs the pipeline over block on up to Options.Workers goroutines, outs[i] receiving the outcomes of
// block[i]. Records are independent, so their order does not matter here; registration and dispatch (which must
// follow offset order per partition) happen afterwards on the poll goroutine. It reports false when ctx ended
// before every record was transformed.
func (r *Runner) transform(ctx context.Context, block []*kgo.Record, outs [][]processor.Outcome) bool {
	workers := min(r.opts.Workers, (len(block)+63)/64) // below 64 records per worker, starting one costs more than it saves
	if workers <= 1 {
		for i, rec := range block {
			var ok bool
			if outs[i], ok = r.process(ctx, rec, outs[i][:0]); !ok {
				return false
			}
		}
		return true
	}
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(block) {
					return
				}
				var ok bool
				if outs[i], ok = r.process(ctx, block[i], outs[i][:0]); !ok {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return !failed.Load()
}

// process runs one record through the pipeline, retrying transient decode failures (a schema registry that
// cannot be reached) until they pass or ctx ends (false): such a record is never dead-lettered. While any record
// waits so, the schema_registry readiness check fails with the last error.
func (r *Runner) process(ctx context.Context, rec *kgo.Record, outs []processor.Outcome) ([]processor.Outcome, bool) {
	var err error
	waiting := false
	defer func() {
		if waiting && r.decodeWaits.Add(-1) == 0 {
			r.opts.Health.Set(health.SchemaRegistry, true, "")
		}
	}()
	for wait := 100 * time.Millisecond; ; wait = min(wait*2, 30*time.Second) {
		outs, err = r.opts.Pipeline.Process(ctx, processor.Record{Topic: rec.Topic, Value: rec.Value, Timestamp: rec.Timestamp}, r.opts.Now(), outs[:0])
		if err == nil {
			return outs, true
		}
		if !waiting {
			waiting = true
			r.decodeWaits.Add(1)
		}
		r.opts.Health.Set(health.SchemaRegistry, false, "records of "+rec.Topic+" wait (retried, never dead-lettered): "+err.Error())
		r.log.Warn().Err(err).Str("topic", rec.Topic).Int32("partition", rec.Partition).Int64("offset", rec.Offset).
			Dur("retry_in", wait).Msg("decode failed transiently; retrying")
		select {
		case <-ctx.Done():
			return outs, false
		case <-time.After(wait):
		}
	}
}

// dispatch registers one transformed record with its partition's tracker (in offset order: the poll goroutine
// calls it record after record) and hands every outcome to its destination or to the DLQ.
func (r *Runner) dispatch(rec *kgo.Record, outs []processor.Outcome) {
	r.partsMu.Lock()
	p := r.parts[TopicPartition{rec.Topic, rec.Partition}]
	r.partsMu.Unlock()
	if p == nil {
		return
	}
	r.stats.Consumed.Add(1)
	// A decode failure is the same for every destination: one DLQ record, destination "".
	if len(outs) > 0 && outs[0].Rejection != nil && outs[0].Rejection.Stage == reject.StageDecode {
		e := p.add(rec.Offset, rec.LeaderEpoch, 1)
		if e == nil {
			return
		}
		r.stats.rejected("", outs[0].Rejection.Reason)
		r.dlq.write(dlq.Record(r.opts.DLQTopic, rec, dlq.Failure{Rejection: outs[0].Rejection, FailedAt: r.opts.Now()}), e.ack)
		return
	}
	e := p.add(rec.Offset, rec.LeaderEpoch, int32(len(outs))+1)
	if e == nil {
		return
	}
	for _, o := range outs {
		d := r.dests[o.Destination]
		switch {
		case o.Filtered:
			e.ack()
		case o.Rejection != nil:
			r.stats.rejected(d.name, o.Rejection.Reason)
			r.dlq.write(dlq.Record(r.opts.DLQTopic, rec, dlq.Failure{Rejection: o.Rejection, Destination: d.name, FailedAt: r.opts.Now()}), e.ack)
		default:
			if o.DroppedCustomParams > 0 {
				r.stats.droppedParams(d.name, o.DroppedCustomParams)
			}
			d.in <- item{Item: capi.Item{JSON: o.JSON, EventID: o.EventID, EventTime: o.EventTime, ActionSource: o.ActionSource}, rec: rec, entry: e, keys: o.MatchKeys}
		}
	}
	e.ack() // the dispatch guard
}
