package dlq_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

// The replay tests' cluster, seeding and reading helpers and their fixtures.

const (
	dlqTopic = "events.dlq"
	srcTopic = "events"
)

var t0 = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// failed describes one DLQ record to seed; key doubles as its identity in assertions.
type failed struct {
	key         string
	reason      reject.Reason
	dest        string
	srcTopic    string
	srcOffset   int64 // 0: derived from the seed index
	failedAt    time.Time
	replayCount int
	reference   bool // dead-lettered as a reference (value omitted)
}

// newCluster starts an in-process Kafka with the DLQ (2 partitions) and source topics.
func newCluster(t *testing.T, topics ...string) []kgo.Opt {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, dlqTopic), kfake.SeedTopics(1, append([]string{srcTopic, "other", "retarget"}, topics...)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
}

func newClient(t *testing.T, kopts []kgo.Opt, extra ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append(slices.Clone(kopts), extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// seed dead-letters fs the way the runtime does (dlq.Record), alternating DLQ partitions. The DLQ record's
// timestamp is its failure time, as it is when the runtime produces it.
func seed(t *testing.T, kopts []kgo.Opt, fs ...failed) {
	t.Helper()
	cl := newClient(t, kopts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for i, f := range fs {
		src := &kgo.Record{
			Topic: f.srcTopic, Partition: 0, Offset: f.srcOffset, Key: []byte(f.key), Value: []byte(`{"event_name":"purchase","k":"` + f.key + `"}`),
			Timestamp: t0.Add(-time.Hour).Add(time.Duration(i) * time.Second),
			Headers:   []kgo.RecordHeader{{Key: "trace", Value: []byte("t-" + f.key)}},
		}
		if src.Topic == "" {
			src.Topic = srcTopic
		}
		if src.Offset == 0 {
			src.Offset = int64(100 + i)
		}
		if f.replayCount > 0 {
			src.Headers = append(src.Headers, kgo.RecordHeader{Key: dlq.HeaderReplayCount, Value: []byte(strconv.Itoa(f.replayCount))})
		}
		at := f.failedAt
		if at.IsZero() {
			at = t0
		}
		rec := dlq.Record(dlqTopic, src, dlq.Failure{Rejection: reject.New(f.reason, reject.StageDelivery, "detail"), Destination: f.dest, FailedAt: at})
		if f.reference {
			rec = dlq.Reference(rec, "value omitted: too large for the DLQ topic")
		}
		rec.Partition = int32(i % 2)
		rec.Timestamp = at
		recs = append(recs, rec)
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func keys(rs []*kgo.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Key)
	}
	slices.Sort(out)
	return out
}

// rejected returns n facebook_rejected records keyed fmt.Sprintf(format, i), i from 0.
func rejected(n int, format string) []failed {
	fs := make([]failed, n)
	for i := range fs {
		fs[i] = failed{key: fmt.Sprintf(format, i), reason: reject.FacebookRejected}
	}
	return fs
}

// wantKeys stops the test unless topic holds exactly one record for each of want (in any order).
func wantKeys(t *testing.T, kopts []kgo.Opt, topic string, want ...string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if got := keys(servicetest.ReadAll(t, kopts, topic)); !slices.Equal(got, want) {
		t.Fatalf("%s holds %v, want %v", topic, got, want)
	}
}

func replay(t *testing.T, ctx context.Context, o dlq.Options) (dlq.Summary, error) {
	t.Helper()
	if o.DLQTopic == "" {
		o.DLQTopic = dlqTopic
	}
	if o.Group == "" {
		o.Group = "replay-test"
	}
	if o.DefaultTo == "" {
		o.DefaultTo = srcTopic
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 5 * time.Second
	}
	r, err := dlq.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r.Run(ctx)
}

func mustReplay(t *testing.T, o dlq.Options) dlq.Summary {
	t.Helper()
	s, err := replay(t, context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
