package stream

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Commits: the per-partition watermark, periodically and as soon as the consumer is idle.

// commitLoop commits every CommitInterval, and also as soon as nothing is in flight any more (spaced by at least
// a tenth of the interval): a consumer that caught up makes its last records durable at once instead of up to a
// CommitInterval later, so a restart re-reads (and re-sends) nothing it already finished.
func (r *Runner) commitLoop(ctx context.Context) {
	t := time.NewTicker(r.opts.CommitInterval)
	defer t.Stop()
	minGap := r.opts.CommitInterval / 10
	var last time.Time
	commit := func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r.commitMu.Lock()
		r.commitLocked(cctx, r.allPartitions())
		r.commitMu.Unlock()
		cancel()
		last = time.Now()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			commit()
		case <-r.inflight.idle:
			if wait := time.Until(last.Add(minGap)); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			commit()
		}
	}
}

// commitLocked commits the watermark of every open partition in parts that advanced. commitMu must be held: it
// orders commits against revokes, so a partition is never committed after it was handed to another member.
func (r *Runner) commitLocked(ctx context.Context, parts []*partition) {
	if r.aborted.Load() {
		return
	}
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for _, p := range parts {
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			continue
		}
		off, epoch := p.advance()
		if off < 0 {
			continue
		}
		if offsets[p.topic] == nil {
			offsets[p.topic] = map[int32]kgo.EpochOffset{}
		}
		offsets[p.topic][p.part] = kgo.EpochOffset{Epoch: epoch, Offset: off}
	}
	if len(offsets) == 0 {
		return
	}
	r.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			r.log.Warn().Err(err).Msg("offset commit failed; retrying at the next interval")
			return
		}
		ok := false
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					r.log.Warn().Str("topic", t.Topic).Int32("partition", p.Partition).Int16("error_code", p.ErrorCode).Msg("offset commit refused for partition")
					continue
				}
				eo, found := offsets[t.Topic][p.Partition]
				if !found {
					continue
				}
				ok = true
				for _, part := range parts {
					if part.topic == t.Topic && part.part == p.Partition {
						part.committedAt(eo.Offset)
					}
				}
				r.stats.commit(TopicPartition{t.Topic, p.Partition}, eo.Offset)
			}
		}
		if ok {
			r.stats.Commits.Add(1)
		}
	})
}
