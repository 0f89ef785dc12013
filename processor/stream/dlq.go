package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/health"
)

// dlqWriter produces dead-letter records and calls done only once the broker acknowledged them (acks=all,
// idempotent producer). A failed produce is retried with backoff, never dropped: the source offset waits, as the
// poison-queue rule says (the DLQ publish must succeed before the source is acknowledged). What cannot succeed by
// retrying is not retried for ever:
//
//   - a record too large for the DLQ topic (its max.message.bytes, which sizes the producer's batches) is
//     dead-lettered as a reference: headers only, value omitted (dlq.Reference);
//   - an error franz-go keeps on the client for good (a fatal InitProducerID error such as
//     CLUSTER_AUTHORIZATION_FAILED) replaces the producer client, so granting the missing ACL recovers without a
//     restart;
//   - every failure is visible: dlq_writable fails at once on a refusal (authorization, missing topic) and after
//     stallAfter for anything else, and the log says it once per interval, not once per record.
type dlqWriter struct {
	topic      string
	log        zerolog.Logger
	logs       *logLimiter
	ctx        context.Context // cancelled at hard shutdown: pending retries stop, nothing is acknowledged
	backoff    time.Duration
	stallAfter time.Duration
	health     *health.Registry
	onError    func()
	onRef      func()
	newClient  func(maxBytes int32) (*kgo.Client, error)
	topicCheck chan struct{} // asks the monitor to look at the DLQ topic now (it went missing)

	mu           sync.Mutex
	cl           *kgo.Client
	gen          int   // incremented each time cl is replaced
	maxBytes     int32 // the DLQ topic's max.message.bytes; 0 while unknown (franz-go's default batch size)
	failingSince time.Time
	lastErr      error
	topicProblem string // the DLQ topic is missing and cannot be created, or cannot be described
	closed       bool
	// pending holds when each write not yet acknowledged started (retries keep their first time): a write the
	// broker keeps failing with retryable errors, which franz-go retries internally without ever failing the
	// record, is only visible by its age.
	pending map[uint64]time.Time
	nextID  uint64
}

// dlqDefaultMaxBytes is what a record is measured against while the DLQ topic's limit is unknown: franz-go's
// default batch size, itself the broker's default message.max.bytes less the batch overhead.
const dlqDefaultMaxBytes = 1_000_012

// dlqMaxBackoff caps the wait between retries of one failed DLQ write: after a fix (an ACL granted, a topic
// created) the held records go through within this time.
const dlqMaxBackoff = 10 * time.Second

// batchOverhead is the room kept for the record batch header and the record's own framing when a record is
// measured against max.message.bytes.
const batchOverhead = 512

func (w *dlqWriter) current() (*kgo.Client, int, int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cl, w.gen, w.maxBytes
}

// write dead-letters r and calls done once the broker acknowledged it (or a reference to it).
func (w *dlqWriter) write(r *kgo.Record, done func()) {
	_, _, limit := w.current()
	if limit <= 0 {
		limit = dlqDefaultMaxBytes
	}
	if size := dlq.Size(r); size+batchOverhead > int(limit) {
		r = w.reference(r, size, int(limit))
	}
	w.mu.Lock()
	if w.pending == nil {
		w.pending = map[uint64]time.Time{}
	}
	id := w.nextID
	w.nextID++
	w.pending[id] = time.Now()
	w.mu.Unlock()
	w.produce(r, func() {
		w.mu.Lock()
		delete(w.pending, id)
		w.mu.Unlock()
		done()
	}, w.backoff)
}

// oldestPending returns the start of the oldest write not yet acknowledged and how many are waiting.
func (w *dlqWriter) oldestPending() (time.Time, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var oldest time.Time
	for _, t := range w.pending {
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	return oldest, len(w.pending)
}

func (w *dlqWriter) reference(r *kgo.Record, size, limit int) *kgo.Record {
	if w.onRef != nil {
		w.onRef()
	}
	src, _ := dlq.Header(r.Headers, dlq.HeaderSourceTopic)
	part, _ := dlq.Header(r.Headers, dlq.HeaderSourcePartition)
	off, _ := dlq.Header(r.Headers, dlq.HeaderSourceOffset)
	w.logs.do("dlq:reference", func(suppressed int) {
		w.log.Warn().Str("dlq_topic", w.topic).Str("topic", src).Str("partition", part).Str("offset", off).
			Int("size", size).Int("max_message_bytes", limit).Int("similar_suppressed", suppressed).
			Msg("record too large for the dead-letter topic: dead-lettered as a reference (headers only, value omitted); the original stays in the source topic")
	})
	return dlq.Reference(r, fmt.Sprintf("value omitted: the record (%d bytes) exceeds the dead-letter topic's max.message.bytes (%d); fetch it from %s partition %s offset %s",
		size, limit, src, part, off))
}

func (w *dlqWriter) produce(r *kgo.Record, done func(), wait time.Duration) {
	cl, gen, _ := w.current()
	if cl == nil {
		return // closed
	}
	cl.Produce(w.ctx, r, func(r *kgo.Record, err error) {
		if err == nil {
			w.succeeded()
			done()
			return
		}
		if w.ctx.Err() != nil {
			return
		}
		resend := func(next time.Duration) {
			r.Partition, r.Offset, r.ProducerID, r.ProducerEpoch, r.LeaderEpoch = 0, 0, 0, 0, 0
			w.produce(r, done, next)
		}
		if errors.Is(err, kgo.ErrClientClosed) {
			if _, now, _ := w.current(); now != gen && !w.isClosed() {
				resend(wait) // the client was replaced under this record: it goes on the new one, no failure
			}
			return
		}
		if errors.Is(err, kerr.MessageTooLarge) && !dlq.IsReference(r.Headers) {
			_, _, limit := w.current()
			if limit <= 0 {
				limit = dlqDefaultMaxBytes
			}
			ref := w.reference(r, dlq.Size(r), int(limit))
			ref.Topic = r.Topic
			w.produce(ref, done, wait)
			return
		}
		if w.onError != nil {
			w.onError()
		}
		w.failed(err, gen, wait)
		next := min(wait*2, dlqMaxBackoff)
		time.AfterFunc(wait, func() { resend(next) })
	})
}

// failed records a failed produce: health, the log (once per interval and kind), and what the failure asks for.
func (w *dlqWriter) failed(err error, gen int, wait time.Duration) {
	w.mu.Lock()
	if w.failingSince.IsZero() {
		w.failingSince = time.Now()
	}
	w.lastErr = err
	w.mu.Unlock()
	kind := "dlq:error"
	switch {
	case isAuthorization(err):
		kind = "dlq:auth"
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		kind = "dlq:missing"
		select {
		case w.topicCheck <- struct{}{}:
		default:
		}
	}
	if ke := (*kerr.Error)(nil); errors.As(err, &ke) && !ke.Retriable && !errors.Is(err, kerr.UnknownTopicOrPartition) {
		// franz-go keeps a fatal producer-id error on its client for good; a new client is the only way out.
		w.recreate(gen, err)
	}
	w.refresh()
	w.logs.do(kind, func(suppressed int) {
		w.log.Error().Err(err).Str("dlq_topic", w.topic).Dur("retry_in", wait).Int("similar_suppressed", suppressed).
			Msg("dead-letter produce failed; the source offset is held until it succeeds: " + w.problem(err, time.Duration(0)))
	})
}

func (w *dlqWriter) succeeded() {
	w.mu.Lock()
	wasFailing := !w.failingSince.IsZero()
	w.failingSince, w.lastErr = time.Time{}, nil
	w.mu.Unlock()
	if wasFailing {
		w.log.Info().Str("dlq_topic", w.topic).Msg("dead-letter produce succeeded again")
		w.refresh()
	}
}

// refresh sets dlq_writable from the topic's state and the writes' state. The monitor calls it every interval, so
// a write failing for longer than stallAfter turns it false even while the retry waits.
func (w *dlqWriter) refresh() {
	w.mu.Lock()
	topic, since, err := w.topicProblem, w.failingSince, w.lastErr
	w.mu.Unlock()
	var reasons []string
	if topic != "" {
		reasons = append(reasons, topic)
	}
	if err != nil {
		failing := time.Since(since)
		if isAuthorization(err) || errors.Is(err, kerr.UnknownTopicOrPartition) || failing >= w.stallAfter {
			reasons = append(reasons, w.problem(err, failing.Round(time.Second)))
		}
	}
	if oldest, n := w.oldestPending(); len(reasons) == 0 && n > 0 && time.Since(oldest) >= w.stallAfter {
		reasons = append(reasons, fmt.Sprintf("dead-letter writes to topic %s not acknowledged for %s (%d waiting; their source offsets are held)",
			w.topic, time.Since(oldest).Round(time.Second), n))
	}
	if w.health != nil {
		w.health.Set(health.DLQWritable, len(reasons) == 0, strings.Join(reasons, "; "))
	}
}

// problem explains err for an operator: what is refused and the fix.
func (w *dlqWriter) problem(err error, failing time.Duration) string {
	t := w.topic
	switch {
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		return "not authorized to write topic " + t + " (the idempotent producer was refused: CLUSTER_AUTHORIZATION_FAILED): grant WRITE and DESCRIBE on topic " + t + " (or IDEMPOTENT_WRITE on the cluster)"
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		return "not authorized to write topic " + t + ": grant WRITE and DESCRIBE on topic " + t
	case isAuthorization(err):
		return "not authorized to write topic " + t + ": " + err.Error()
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return "dead-letter topic " + t + " does not exist: create topic " + t + " or allow the connector to create it (kafka.dlq_create)"
	}
	if failing > 0 {
		return fmt.Sprintf("dead-letter writes to topic %s failing for %s: %v", t, failing, err)
	}
	return fmt.Sprintf("dead-letter write to topic %s failed: %v", t, err)
}

func isAuthorization(err error) bool {
	return errors.Is(err, kerr.ClusterAuthorizationFailed) || errors.Is(err, kerr.TopicAuthorizationFailed) ||
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed) || errors.Is(err, kerr.SaslAuthenticationFailed)
}

// recreate replaces the producer client if it is still generation gen (many records fail at once; one new client
// is enough). The old client is closed in the background: its buffered records fail with ErrClientClosed and go
// to the new client (see produce).
func (w *dlqWriter) recreate(gen int, cause error) {
	w.mu.Lock()
	if w.gen != gen || w.closed {
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	w.replace(func(old int32) int32 { return old }, cause)
}

// setMaxBytes sizes the producer for the DLQ topic's max.message.bytes, replacing the client when it changes.
func (w *dlqWriter) setMaxBytes(n int32) {
	w.mu.Lock()
	same := w.maxBytes == n
	w.mu.Unlock()
	if !same {
		w.replace(func(int32) int32 { return n }, nil)
	}
}

func (w *dlqWriter) replace(size func(old int32) int32, cause error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	n := size(w.maxBytes)
	cl, err := w.newClient(n)
	if err != nil {
		w.mu.Unlock()
		w.log.Error().Err(err).Str("dlq_topic", w.topic).Msg("dead-letter producer could not be created; keeping the old one")
		return
	}
	old := w.cl
	w.cl, w.maxBytes = cl, n
	w.gen++
	w.mu.Unlock()
	ev := w.log.Info()
	if cause != nil {
		ev = w.log.Warn().AnErr("cause", cause)
	}
	ev.Str("dlq_topic", w.topic).Int32("max_message_bytes", n).Msg("dead-letter producer (re)created")
	if old != nil {
		go old.Close()
	}
}

func (w *dlqWriter) setTopicProblem(p string) {
	w.mu.Lock()
	w.topicProblem = p
	w.mu.Unlock()
	w.refresh()
}

func (w *dlqWriter) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// close flushes what is buffered (bounded by ctx) and closes the producer; later writes are dropped (the process is
// stopping; their source offsets are not committed).
func (w *dlqWriter) close(ctx context.Context) {
	w.mu.Lock()
	cl := w.cl
	w.closed = true
	w.mu.Unlock()
	if cl == nil {
		return
	}
	if ctx != nil {
		_ = cl.Flush(ctx)
	}
	cl.Close()
}

// logLimiter lets one log line per key through per interval and counts the ones it held back.
type logLimiter struct {
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
	held  map[string]int
}

func newLogLimiter(every time.Duration) *logLimiter {
	return &logLimiter{every: every, last: map[string]time.Time{}, held: map[string]int{}}
}

// do runs log (with the number of lines held back since the previous one) unless key was logged less than an
// interval ago.
func (l *logLimiter) do(key string, log func(suppressed int)) {
	l.mu.Lock()
	now := time.Now()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		l.held[key]++
		l.mu.Unlock()
		return
	}
	n := l.held[key]
	l.last[key], l.held[key] = now, 0
	l.mu.Unlock()
	log(n)
}

// checkDLQTopic makes sure the DLQ topic exists (creating it when kafka.dlq_create allows) and sizes the producer
// from its max.message.bytes. sourcePartitions is the default partition count of a created topic.
func (r *Runner) checkDLQTopic(ctx context.Context, adm *kadm.Client, sourcePartitions int32) {
	t := r.opts.DLQTopic
	details, err := adm.ListTopics(ctx, t)
	if err != nil {
		return
	}
	d := details[t]
	missing := errors.Is(d.Err, kerr.UnknownTopicOrPartition) || d.Topic == ""
	switch {
	case missing && !r.opts.DLQCreate:
		r.dlqTopicProblem("dead-letter topic " + t + " does not exist and kafka.dlq_create is false: create topic " + t + " or allow the connector to create it (kafka.dlq_create)")
		return
	case missing:
		if !r.createDLQ(ctx, adm, sourcePartitions) {
			return
		}
	case isAuthorization(d.Err):
		r.dlqTopicProblem("not authorized to describe topic " + t + ": grant WRITE and DESCRIBE on topic " + t)
		return
	case d.Err != nil:
		r.dlqTopicProblem("dead-letter topic " + t + ": " + d.Err.Error())
		return
	}
	r.dlq.setTopicProblem("")
	rcs, err := adm.DescribeTopicConfigs(ctx, t)
	if err != nil {
		return // without DESCRIBE_CONFIGS the default size stays; a too-large record still becomes a reference
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			continue
		}
		for _, c := range rc.Configs {
			if c.Key != "max.message.bytes" || c.Value == nil {
				continue
			}
			if n, err := strconv.ParseInt(*c.Value, 10, 32); err == nil && n > 0 {
				r.dlq.setMaxBytes(int32(n))
			}
		}
	}
}

// createDLQ creates the missing DLQ topic, as Kafka Connect does for its dead-letter queue; it reports whether the
// topic exists now.
func (r *Runner) createDLQ(ctx context.Context, adm *kadm.Client, sourcePartitions int32) bool {
	t := r.opts.DLQTopic
	partitions := r.opts.DLQPartitions
	if partitions <= 0 {
		partitions = max(sourcePartitions, 1)
	}
	rf := r.opts.DLQReplicationFactor
	if rf <= 0 {
		rf = -1 // the cluster's default.replication.factor
	}
	resp, err := adm.CreateTopic(ctx, partitions, rf, nil, t)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil, errors.Is(err, kerr.TopicAlreadyExists):
		r.log.Info().Str("dlq_topic", t).Int32("partitions", partitions).Int16("replication_factor", rf).Msg("dead-letter topic created")
		return true
	case isAuthorization(err):
		r.dlqTopicProblem("dead-letter topic " + t + " does not exist and the connector is not authorized to create it: create topic " + t +
			" or grant CREATE on it (or on the cluster)")
	default:
		r.dlqTopicProblem(fmt.Sprintf("dead-letter topic %s does not exist and could not be created: %v; create it (kafka.dlq_partitions, kafka.dlq_replication_factor)", t, err))
	}
	return false
}

func (r *Runner) dlqTopicProblem(p string) {
	r.dlq.setTopicProblem(p)
	r.logs.do("dlq_topic", func(suppressed int) {
		r.log.Error().Str("dlq_topic", r.opts.DLQTopic).Int("similar_suppressed", suppressed).
			Msg(p + "; records to dead-letter are held and their offsets not committed")
	})
}
