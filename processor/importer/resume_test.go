package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// stallingProducer forwards the first n records to a real client, then holds every further record without an
// answer, as a process does when it dies: what it held was never acknowledged.
type stallingProducer struct {
	cl      *kgo.Client
	mu      sync.Mutex
	n       int
	stalled chan struct{}
}

func (p *stallingProducer) Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	p.mu.Lock()
	if p.n == 0 {
		p.mu.Unlock()
		select {
		case <-p.stalled:
		default:
			close(p.stalled)
		}
		return
	}
	p.n--
	p.mu.Unlock()
	p.cl.Produce(ctx, r, promise)
}

func (p *stallingProducer) Flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return err
	}
	return errors.New("killed")
}

func newCluster(t *testing.T) (brokers []string, cl *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "events"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err = kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("events"), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return c.ListenAddrs(), cl
}

// topicIDs counts the records of topic by key, reading up to the end offsets.
func topicIDs(t *testing.T, brokers []string, topic string) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	out := map[string]int{}
	for n := int64(0); n < total; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records", n, total)
		}
		fs.EachRecord(func(r *kgo.Record) { out[string(r.Key)]++; n++ })
	}
	return out
}

func salesFile(rows int) string {
	var b strings.Builder
	b.WriteString("event_name;value;currency;user.email;context.event_timestamp\n")
	for i := range rows {
		if i%500 == 250 {
			b.WriteString("purchase;bad;EUR;x@example.fr;2026-11-30\n")
			continue
		}
		fmt.Fprintf(&b, "purchase;%d,%02d;EUR;c%d@example.fr;2026-11-30 10:%02d:00\n", i, i%100, i, i%60)
	}
	return b.String()
}

func TestResumeAfterKill(t *testing.T) {
	const rows = 3000
	data := salesFile(rows)
	path := writeFile(t, "sales.csv", []byte(data))
	brokers, cl := newCluster(t)
	size, sum, err := Fingerprint(path)
	if err != nil {
		t.Fatal(err)
	}
	state := &StateFile{Path: path + ".state", Want: State{Input: path, Size: size, Fingerprint: sum, Topic: "events"}}
	rejPath := path + ".rejects.csv"

	// Every id the file yields, from a run that keeps them in memory.
	_, all, _ := mustImport(t, []byte(data), Options{Rejects: &strings.Builder{}})
	want := map[string]bool{}
	for _, ev := range all {
		want[get(ev, "integrations.facebook.event_id").(string)] = true
	}

	// Run 1 dies after 1200 acknowledged records. The state file is copied while it runs: a SIGKILL leaves the
	// last periodic save, behind the acknowledgements.
	ctx, cancel := context.WithCancel(context.Background())
	stall := &stallingProducer{cl: cl, n: 1200, stalled: make(chan struct{})}
	rej1, err := os.Create(rejPath)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Summary)
	go func() {
		s, _ := Run(ctx, strings.NewReader(data), Options{Name: "sales.csv", Topic: "events", Producer: stall, State: state,
			Rejects: rej1, MaxInFlight: 100, StateEvery: 2 * time.Millisecond})
		done <- s
	}()
	<-stall.stalled
	var snapshot []byte
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(state.Path)
		var st State
		if json.Unmarshal(b, &st) == nil && st.Rows >= 1000 {
			snapshot = b
			break
		}
		time.Sleep(time.Millisecond)
	}
	if snapshot == nil {
		t.Fatal("the state file never recorded 1000 rows")
	}
	cancel()
	s1 := <-done
	rej1.Close()
	if !s1.Interrupted {
		t.Errorf("run 1 summary: %+v", s1)
	}
	if err := os.WriteFile(state.Path, snapshot, 0o600); err != nil { // the kill: the final save never happened
		t.Fatal(err)
	}
	var st State
	_ = json.Unmarshal(snapshot, &st)

	// Run 2 resumes.
	rej2, err := os.OpenFile(rejPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rej2.Close()
	s2, err := Run(context.Background(), strings.NewReader(data), Options{Name: "sales.csv", Topic: "events", Producer: cl, State: state,
		Resume: true, Rejects: rej2, RejectsHasHeader: true})
	if err != nil {
		t.Fatalf("resume: %v %+v", err, s2)
	}
	if s2.Skipped != st.Rows || s2.Rows != rows || s2.Skipped+s2.Produced+s2.RejectsWritten != rows || s2.Unaccounted != 0 {
		t.Fatalf("resumed summary %+v (state said %d rows done)", s2, st.Rows)
	}
	got := topicIDs(t, brokers, "events")
	dups := 0
	for id := range want {
		if got[id] == 0 {
			t.Fatalf("event %s never reached the topic", id)
		}
		dups += got[id] - 1
	}
	if len(got) != len(want) {
		t.Errorf("%d distinct keys in the topic, want %d", len(got), len(want))
	}
	// The 1200 records run 1 handed to Kafka were all acknowledged (an interrupt does not cancel them); those
	// past the stale state are produced again, under the same ids, and no other.
	producedBefore := st.Rows
	for i := int64(0); i < st.Rows; i++ {
		if i%500 == 250 {
			producedBefore-- // a rejected row
		}
	}
	if int64(dups) != 1200-producedBefore {
		t.Errorf("%d records produced twice, want %d (acknowledged after the last save)", dups, 1200-producedBefore)
	}
	b, _ := os.ReadFile(rejPath)
	if strings.Count(string(b), "capi_import_reason") != 1 || strings.Count(string(b), "\n") < 1+rows/500 {
		t.Errorf("rejects file after resume:\n%s", b)
	}
	final, err := state.Load()
	if err != nil || !final.Complete || final.Rows != rows {
		t.Fatalf("final state %+v %v", final, err)
	}

	// Resuming a complete import produces nothing.
	s3, err := Run(context.Background(), strings.NewReader(data), Options{Name: "sales.csv", Topic: "events", Producer: cl, State: state,
		Resume: true, Rejects: &strings.Builder{}})
	if err != nil || s3.Produced != 0 || s3.Skipped != rows {
		t.Fatalf("resume of a complete import: %v %+v", err, s3)
	}

	// A changed file refuses the old state.
	if err := os.WriteFile(path, []byte(data+"purchase;1;EUR;new@example.fr;2026-11-30\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	size2, sum2, _ := Fingerprint(path)
	changed := &StateFile{Path: state.Path, Want: State{Input: path, Size: size2, Fingerprint: sum2, Topic: "events"}}
	if _, err := Run(context.Background(), strings.NewReader(data), Options{Topic: "events", Producer: cl, State: changed, Resume: true}); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("changed file: err %v, want ErrStateMismatch", err)
	}
}
