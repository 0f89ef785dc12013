package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// The tests in this file inject faults only a real broker has: the broker process killed with SIGKILL and
// restarted, and connector processes (the real binary) killed with SIGKILL. They skip on kfake.

func requireRealBroker(t *testing.T) {
	t.Helper()
	if !realBroker() {
		t.Skipf("needs a real broker: set %s (make test starts one with test/kafka/start.sh)", BrokersEnv)
	}
}

// errNoState means the broker is not one test/kafka/start.sh manages (no state file, or another address).
var errNoState = errors.New("no test/kafka state for this broker")

// kafkaStateFile is the state file the test/kafka scripts use (CAPI_KAFKA_STATE, as in lib.sh).
func kafkaStateFile() string {
	if s := os.Getenv("CAPI_KAFKA_STATE"); s != "" {
		return s
	}
	return "/tmp/capi-kafka.state"
}

// keyValues reads a file of key=value lines, as the test/kafka scripts write them (the state file, secured.env).
func keyValues(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for line := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out, nil
}

// managedBroker returns the test/kafka state when brokers is the single broker test/kafka/start.sh runs (its state
// file names the same bootstrap address): only then may a test kill and restart it.
func managedBroker(brokers []string) (map[string]string, error) {
	st, err := keyValues(kafkaStateFile())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoState, err)
	}
	v, ok := st["BOOTSTRAP"]
	if !ok {
		return nil, fmt.Errorf("%w: state file %s has no BOOTSTRAP", errNoState, kafkaStateFile())
	}
	if len(brokers) != 1 || v != brokers[0] {
		return nil, fmt.Errorf("%w: state file %s names %s, the suite uses %v", errNoState, kafkaStateFile(), v, brokers)
	}
	return st, nil
}

// kafkaScript runs test/kafka/<name> and returns the last line of its standard output; its diagnostics go to the
// test log.
func kafkaScript(t testing.TB, name string) string {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("bash", filepath.Join("kafka", name))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("test/kafka/%s (%s): %s", name, time.Since(start).Round(time.Millisecond), bytes.TrimSpace(stderr.Bytes()))
	if err != nil {
		t.Fatalf("test/kafka/%s: %v", name, err)
	}
	out := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	return string(out)
}

// mergeEnds is the per-partition maximum of end offsets.
func mergeEnds(ends ...map[int32]int64) map[int32]int64 {
	out := map[int32]int64{}
	for _, m := range ends {
		for p, o := range m {
			out[p] = max(out[p], o)
		}
	}
	return out
}

// assignments returns the group's state and, per member client id, the partitions of e.topic it is assigned.
func (e *env) assignments() (string, map[string][]int32) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	groups, err := e.adm.DescribeGroups(ctx, e.group)
	if err != nil {
		return "", nil
	}
	g, ok := groups[e.group]
	if !ok || g.Err != nil {
		return "", nil
	}
	out := map[string][]int32{}
	for _, m := range g.Members {
		c, ok := m.Assigned.AsConsumer()
		if !ok {
			continue
		}
		for _, tp := range c.Topics {
			if tp.Topic == e.topic {
				out[m.ClientID] = append(out[m.ClientID], tp.Partitions...)
			}
		}
	}
	return g.State, out
}

// Broker fault: the only broker is killed with SIGKILL mid-flow (consumer fetching, Graph deliveries and DLQ
// produces in flight, commits due) and restarted on the same address and data. The in-process connector must ride
// it out without restarting: once the broker is back, it consumes what is produced after the restart too, and in
// the end every event is delivered or dead-lettered with the right reason, committed offsets reach the end, and no
// commit ever passed an undelivered event.
func TestBrokerKilledAndRestarted(t *testing.T) {
	requireRealBroker(t)
	e := newEnv(t, 4)
	if _, err := managedBroker(e.brokers); err != nil {
		t.Skipf("the broker is not the one test/kafka/start.sh runs, so it cannot be killed: %v", err)
	}
	// The generator's own mix dead-letters about a third of the events (no consent, anonymous, purchase without
	// PII), so DLQ produces are in flight all along. One invalid record only: all invalid records have the same
	// bytes, and verify tells DLQ records apart by their bytes.
	before := mixSeeded(101, 3000, 997, 1499, 2999)
	after := mixSeeded(102, 1000, 499, 0, 0)
	if err := e.sim.SetFaults(capitest.Faults{Latency: 40 * time.Millisecond, PoisonedEventIDs: poisonedIDs(before, after)}); err != nil {
		t.Fatal(err)
	}
	p1 := e.produce(before, -1)
	g1 := newWatermarkGuard(e, p1)
	run := e.start(e.config(func(c *config.Config) {
		c.Destinations[0].Batch.MaxEvents = 20
		c.Destinations[0].Batch.MaxInFlight = 2
	}))
	// Registered after start, so it runs before the runner's cleanup: whatever happens, later tests get the
	// broker back (restart.sh only prints the address when it already runs).
	t.Cleanup(func() { kafkaScript(t, "restart.sh") })

	if err := eventually(30*time.Second, func() bool { g1.check(e.committed()); return len(e.sim.EventIDs()) > 500 }); err != nil {
		t.Fatal("no progress before the broker kill")
	}
	committedBefore := e.committed()
	kafkaScript(t, "kill.sh")
	killed := time.Now()
	atKill := len(e.sim.EventIDs())
	// The connector sees dead connections, failing commits and DLQ produces, and says so on its readiness checks
	// within a bounded time (two failed health rounds of 5 s).
	if err := eventually(30*time.Second, func() bool {
		c, _ := run.Health().Get(health.BrokersReachable)
		return !c.OK && strings.Contains(c.Reason, "brokers unreachable") && !run.Ready()
	}); err != nil {
		c, _ := run.Health().Get(health.BrokersReachable)
		t.Fatalf("still %+v %s after losing the only broker", c, time.Since(killed).Round(time.Second))
	}
	notReadyAfter := time.Since(killed)
	if exited, err := run.Exited(); exited {
		t.Fatalf("the runner stopped while the broker was down: %v", err)
	}
	duringOutage := len(e.sim.EventIDs()) - atKill
	addr := kafkaScript(t, "restart.sh")
	if addr != e.brokers[0] {
		t.Fatalf("restart.sh came back on %s, want %s", addr, e.brokers[0])
	}
	back := time.Now()

	if err := eventually(60*time.Second, run.Ready); err != nil {
		t.Fatalf("not ready again after the broker came back: %+v", run.Health().Status())
	}
	p2 := e.produce(after, -1)
	g2 := newWatermarkGuard(e, p2)
	e.waitCommitted(mergeEnds(p1.end, p2.end), 120*time.Second, func(c map[int32]int64) { g1.check(c); g2.check(c) })
	caughtUp := time.Now()
	if err := run.Stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.verify(p1, false)
	e.verify(p2, false)
	checkNoRedeliveryBelow(t, p1, committedBefore, e.sim.EventIDs())
	t.Logf("not ready %s after the kill; delivered at kill %d, during the %s outage %d; caught up %s after the restart; duplicates %d",
		notReadyAfter.Round(time.Millisecond), atKill, back.Sub(killed).Round(time.Millisecond), duringOutage, caughtUp.Sub(back).Round(time.Millisecond),
		e.sim.Stats().DuplicateEvents)
}

// Consumer crash: the real binary, consuming 3 partitions, is SIGKILLed mid-flow (no drain, no commit, no
// LeaveGroup) and a new process is started in the same group. Nothing is lost: every deliverable event_id is
// accepted at least once, every other kind is in the DLQ with its reason, offsets reach the end, and no commit
// observed at any time passed an undelivered event.
func TestConnectorProcessKilledAndRestarted(t *testing.T) {
	requireRealBroker(t)
	bin := connectorBinary(t)
	e := newEnv(t, 3)
	events := mixSeeded(201, 3000, 701, 997, 2999)
	if err := e.sim.SetFaults(capitest.Faults{Latency: 40 * time.Millisecond, PoisonedEventIDs: poisonedIDs(events)}); err != nil {
		t.Fatal(err)
	}
	p := e.produce(events, -1)
	guard := newWatermarkGuard(e, p)
	deliverable := countKind(events, sample.Deliverable)

	a := e.startConnector(bin, "connector-a", e.connectorEnv("connector-a"))
	// Killed once it has committed something, so that the restart must resume from a committed offset (and not
	// consume anything below it again) with delivered-but-uncommitted work above it.
	if err := eventually(60*time.Second, func() bool {
		a.RequireRunning()
		c := e.committed()
		guard.check(c)
		return len(e.sim.EventIDs()) > 500 && sumOffsets(c) > 0
	}); err != nil {
		t.Fatal("no progress (deliveries and a commit) before the kill")
	}
	a.Kill()
	atKill := len(e.sim.EventIDs())
	committedAtKill := e.committed()
	guard.check(committedAtKill)
	if atKill >= deliverable {
		t.Fatalf("all %d deliverable events were delivered before the kill: nothing to prove (slow the flow down)", deliverable)
	}

	b := e.startConnector(bin, "connector-b", e.connectorEnv("connector-b"))
	restarted := time.Now()
	e.waitCommitted(p.end, 120*time.Second, func(c map[int32]int64) { b.RequireRunning(); guard.check(c) })
	caughtUp := time.Since(restarted)
	b.Terminate(30 * time.Second)
	e.verify(p, false)
	checkNoRedeliveryBelow(t, p, committedAtKill, e.sim.EventIDs())
	t.Logf("delivered at kill %d of %d (committed %v of %v); restarted process caught up in %s; duplicates %d",
		atKill, deliverable, committedAtKill, p.end, caughtUp.Round(time.Millisecond), e.sim.Stats().DuplicateEvents)
}

// Group crash: 12 partitions shared by 3 connector processes; one is SIGKILLed mid-flow. Its partitions stay
// assigned to the dead member until the session timeout (6 s) expires, then move to the survivors, which deliver
// everything: nothing is lost, offsets reach the end on all 12 partitions, the survivors drain and exit 0.
func TestTwelvePartitionsThreeProcessesOneKilled(t *testing.T) {
	requireRealBroker(t)
	bin := connectorBinary(t)
	e := newEnv(t, 12)
	names := []string{"connector-a", "connector-b", "connector-c"}
	procs := map[string]*connectorProc{}
	for _, n := range names {
		procs[n] = e.startConnector(bin, n, e.connectorEnv(n))
	}
	// The group settles with every process owning partitions before any event exists, so the kill below hits a
	// member that is working, not one still joining.
	var assigned map[string][]int32
	if err := eventually(60*time.Second, func() bool {
		for _, p := range procs {
			p.RequireRunning()
		}
		var state string
		state, assigned = e.assignments()
		if state != "Stable" || len(assigned) != len(names) {
			return false
		}
		total := 0
		for _, parts := range assigned {
			if len(parts) == 0 {
				return false
			}
			total += len(parts)
		}
		return total == 12
	}); err != nil {
		t.Fatalf("the group never settled with 3 members owning the 12 partitions: %v", assigned)
	}

	events := mixSeeded(301, 6000, 1499, 1999, 5999)
	if err := e.sim.SetFaults(capitest.Faults{Latency: 40 * time.Millisecond, PoisonedEventIDs: poisonedIDs(events)}); err != nil {
		t.Fatal(err)
	}
	p := e.produce(events, -1)
	guard := newWatermarkGuard(e, p)
	deliverable := countKind(events, sample.Deliverable)
	victim := names[1]
	if err := eventually(60*time.Second, func() bool {
		c := e.committed()
		guard.check(c)
		victimCommitted := false
		for _, part := range assigned[victim] {
			victimCommitted = victimCommitted || c[part] > 0
		}
		return len(e.sim.EventIDs()) > deliverable/4 && victimCommitted
	}); err != nil {
		t.Fatal("no progress (deliveries, a commit by the victim) before the kill")
	}
	procs[victim].Kill()
	atKill := len(e.sim.EventIDs())
	committedAtKill := e.committed()
	guard.check(committedAtKill)
	var unfinished []int32
	for _, part := range assigned[victim] {
		if committedAtKill[part] < p.end[part] {
			unfinished = append(unfinished, part)
		}
	}
	if len(unfinished) == 0 {
		t.Fatalf("%s had finished its partitions %v before the kill: nothing to prove", victim, assigned[victim])
	}

	killed := time.Now()
	e.waitCommitted(p.end, 120*time.Second, func(c map[int32]int64) {
		for _, n := range names {
			if n != victim {
				procs[n].RequireRunning()
			}
		}
		guard.check(c)
	})
	caughtUp := time.Since(killed)
	_, final := e.assignments()
	for _, n := range names {
		if n != victim {
			procs[n].Terminate(30 * time.Second)
		}
	}
	e.verify(p, false)
	checkNoRedeliveryBelow(t, p, committedAtKill, e.sim.EventIDs())
	slices.Sort(unfinished)
	t.Logf("killed %s owning %v (unfinished %v) with %d of %d delivered; all 12 partitions committed to the end %s later; "+
		"survivors' assignment %v; duplicates %d", victim, assigned[victim], unfinished, atKill, deliverable,
		caughtUp.Round(time.Millisecond), final, e.sim.Stats().DuplicateEvents)
}

// checkNoRedeliveryBelow fails the test for every event delivered more than once whose offset lies below the
// offset committed before the fault: a commit the broker acknowledged must survive the fault, so nothing below it
// is consumed again. It logs where the duplicates (legitimate above that offset: at-least-once) sit.
func checkNoRedeliveryBelow(t *testing.T, p produced, committed map[int32]int64, ids map[string]int) {
	t.Helper()
	type span struct {
		n      int
		lo, hi int64
	}
	per := map[int32]*span{}
	for id, w := range p.where {
		if ids[id] < 2 {
			continue
		}
		if w.Offset < committed[w.Partition] {
			t.Errorf("%s at partition %d offset %d delivered %d times, although offset %d was committed before the fault",
				id, w.Partition, w.Offset, ids[id], committed[w.Partition])
		}
		s := per[w.Partition]
		if s == nil {
			s = &span{lo: w.Offset, hi: w.Offset}
			per[w.Partition] = s
		}
		s.n++
		s.lo, s.hi = min(s.lo, w.Offset), max(s.hi, w.Offset)
	}
	parts := slices.Sorted(maps.Keys(p.end))
	for _, part := range parts {
		if s := per[part]; s != nil {
			t.Logf("partition %d: committed before the fault %d of %d; %d duplicates at offsets %d..%d",
				part, committed[part], p.end[part], s.n, s.lo, s.hi)
		}
	}
}
