package stream

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
)

// dlqWriter produces dead-letter records and calls done only once the broker acknowledged them (acks=all,
// idempotent producer). A failed produce is retried with backoff, never dropped: the source offset waits, as the
// poison-queue rule says (the DLQ publish must succeed before the source is acknowledged).
type dlqWriter struct {
	cl      *kgo.Client
	topic   string
	log     zerolog.Logger
	ctx     context.Context // cancelled at hard shutdown: pending retries stop, nothing is acknowledged
	backoff time.Duration
	onError func()
}

func (w *dlqWriter) write(r *kgo.Record, done func()) {
	w.produce(r, done, w.backoff)
}

func (w *dlqWriter) produce(r *kgo.Record, done func(), wait time.Duration) {
	w.cl.Produce(w.ctx, r, func(r *kgo.Record, err error) {
		if err == nil {
			done()
			return
		}
		if w.ctx.Err() != nil {
			return
		}
		if w.onError != nil {
			w.onError()
		}
		w.log.Error().Err(err).Str("dlq_topic", r.Topic).Dur("retry_in", wait).Msg("dead-letter produce failed; the source offset is held until it succeeds")
		next := min(wait*2, 30*time.Second)
		time.AfterFunc(wait, func() {
			r.Partition, r.Offset, r.ProducerID, r.ProducerEpoch, r.LeaderEpoch = 0, 0, 0, 0, 0
			w.produce(r, done, next)
		})
	})
}

// flush waits until every buffered DLQ record is acknowledged or ctx ends.
func (w *dlqWriter) flush(ctx context.Context) error { return w.cl.Flush(ctx) }
