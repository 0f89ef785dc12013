package e2e

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/stream"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// staticAssignments returns the partitions of e.topic held by each static member (instance id), as the coordinator sees
// them, and the number of members.
func (e *env) staticAssignments() (map[string][]int32, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	groups, err := e.adm.DescribeGroups(ctx, e.group)
	if err != nil {
		return nil, 0
	}
	g := groups[e.group]
	out := map[string][]int32{}
	for _, m := range g.Members {
		id := "dynamic:" + m.MemberID
		if m.InstanceID != nil {
			id = *m.InstanceID
		}
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, tp := range c.Topics {
				if tp.Topic == e.topic {
					out[id] = append(out[id], tp.Partitions...)
				}
			}
		}
		slices.Sort(out[id])
	}
	return out, len(g.Members)
}

// With a group instance id (static membership), a member killed without leaving the group (kill -9, OOM) and
// restarted with the same id takes its partitions back at once, long before the session timeout, without a
// rebalance of the other members; nothing is lost.
func TestStaticMemberRestartTakesItsPartitionsBack(t *testing.T) {
	if realBroker() {
		t.Skip("timing assertions are calibrated for kfake")
	}
	const session = 30 * time.Second // a dynamic member's partitions would wait this long after a kill
	e := newEnv(t, 4)
	member := func(id string) tweak {
		return func(c *config.Config) {
			c.Kafka.GroupInstanceID = id
			c.Kafka.SessionTimeout = session
		}
	}
	p1 := e.produce(only(400, sample.Deliverable), -1)
	a := e.start(e.config(member("pod-a")))
	b := e.start(e.config(member("pod-b")))
	var before map[string][]int32
	if err := eventually(20*time.Second, func() bool {
		var n int
		before, n = e.staticAssignments()
		return n == 2 && len(before["pod-a"]) > 0 && len(before["pod-b"]) > 0 && a.Runner().Ready() && b.Runner().Ready()
	}); err != nil {
		t.Fatalf("both static members never got partitions: %v", before)
	}
	e.waitCommitted(p1.end, 30*time.Second, nil)

	// kill -9: no drain, no commit, no leave.
	a.Runner().Abort()
	if err := a.Stop(t); err != stream.ErrAborted {
		t.Fatalf("Run after Abort = %v", err)
	}
	bConsumed := b.Runner().Stats().Consumed.Load()
	restart := time.Now()
	a2 := e.start(e.config(member("pod-a")))
	if err := eventually(session/3, a2.Ready); err != nil {
		t.Fatalf("the restarted static member did not get its partitions within %s (session timeout %s)", session/3, session)
	}
	took := time.Since(restart)
	after, n := e.staticAssignments()
	if n != 2 || !maps.EqualFunc(before, after, slices.Equal[[]int32]) {
		t.Errorf("assignment changed across the restart: before %v, after %v (%d members)", before, after, n)
	}

	// New events on every partition are consumed by both members, the restarted one included.
	p2 := e.produce(only(400, sample.Deliverable), -1)
	e.waitCommitted(p2.end, 20*time.Second, nil)
	if a2.Runner().Stats().Consumed.Load() == 0 {
		t.Error("the restarted member consumed nothing")
	}
	if b.Runner().Stats().Consumed.Load() == bConsumed {
		t.Error("pod-b consumed nothing after the restart")
	}
	for _, r := range []*running{a2, b} {
		if err := r.Stop(t); err != nil {
			t.Fatal(err)
		}
	}
	e.verify(produced{events: append(p1.events, p2.events...), where: mergeWhere(p1, p2)}, false)
	t.Logf("restarted static member ready %s after the kill (session timeout %s)", took.Round(time.Millisecond), session)
}

func mergeWhere(ps ...produced) map[string]kgo.Record {
	out := map[string]kgo.Record{}
	for _, p := range ps {
		maps.Copy(out, p.where)
	}
	return out
}
