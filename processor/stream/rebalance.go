package stream

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/health"
)

// Group callbacks: partitions assigned, revoked (drain and commit first) and lost (commit nothing).

func (r *Runner) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	r.partsMu.Lock()
	for t, ps := range assigned {
		for _, p := range ps {
			r.parts[TopicPartition{t, p}] = newPartition(t, p, r.inflight)
		}
	}
	r.partsMu.Unlock()
	r.joined.Store(true)
	r.opts.Health.Set(health.GroupJoined, true, "")
	r.log.Info().Interface("partitions", assigned).Msg("partitions assigned")
}

func (r *Runner) take(ps map[string][]int32) []*partition {
	r.partsMu.Lock()
	defer r.partsMu.Unlock()
	var out []*partition
	for t, list := range ps {
		for _, p := range list {
			tp := TopicPartition{t, p}
			if part := r.parts[tp]; part != nil {
				out = append(out, part)
			}
		}
	}
	return out
}

func (r *Runner) remove(parts []*partition) {
	r.partsMu.Lock()
	for _, p := range parts {
		tp := TopicPartition{p.topic, p.part}
		if r.parts[tp] == p {
			delete(r.parts, tp)
		}
	}
	r.partsMu.Unlock()
}

// onRevoked waits for the revoked partitions' in-flight work, commits their watermark and closes them, all
// before the rebalance continues, so the next owner starts exactly where acknowledged work ends.
func (r *Runner) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	parts := r.take(revoked)
	if len(parts) == 0 {
		return
	}
	deadline := time.Now().Add(r.opts.RevokeTimeout)
	if r.shuttingDown.Load() {
		deadline = time.Now()
	}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		n := 0
		for _, p := range parts {
			n += p.outstanding()
		}
		if n == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.commitMu.Lock()
	r.commitLocked(cctx, parts)
	for _, p := range parts {
		p.close()
	}
	r.commitMu.Unlock()
	r.remove(parts)
	r.log.Info().Interface("partitions", revoked).Msg("partitions revoked")
}

// onLost closes the partitions without committing: another member may own them already.
func (r *Runner) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	parts := r.take(lost)
	if len(parts) == 0 {
		return
	}
	r.commitMu.Lock()
	for _, p := range parts {
		p.close()
	}
	r.commitMu.Unlock()
	r.remove(parts)
	r.log.Warn().Interface("partitions", lost).Msg("partitions lost; uncommitted work will be consumed again by their new owner")
}

func (r *Runner) allPartitions() []*partition {
	r.partsMu.Lock()
	defer r.partsMu.Unlock()
	out := make([]*partition, 0, len(r.parts))
	for _, p := range r.parts {
		out = append(out, p)
	}
	return out
}
