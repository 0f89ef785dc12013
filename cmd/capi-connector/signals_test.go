package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
	"github.com/capi-connector/capi-connector/schema/sample"
	"github.com/capi-connector/capi-connector/test/proctest"
)

func TestMain(m *testing.M) { proctest.Main(m, "../..") }

// SIGTERM and a second signal, against the real binary: kfake runs in the test process (the subprocess reaches it
// over TCP) and the Graph simulator over HTTP; the connector is configured by CAPI_* variables only.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Connector(t)

	setup := func(t *testing.T, n int) (servicetest.Names, []kgo.Opt, *capitest.Server, map[string]string, map[int32]map[int64]string) {
		names := servicetest.NewNames(t)
		c := servicetest.NewCluster(t, names, 3)
		kopts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
		sim, simURL := servicetest.NewSim(t)
		events := servicetest.Deliverable(21, n)
		ids := map[string]string{}
		for _, ev := range events {
			ids[string(ev.Value)] = ev.EventID
		}
		env := map[string]string{
			"CAPI_KAFKA_BROKERS": strings.Join(c.ListenAddrs(), ","), "CAPI_KAFKA_TOPIC": names.Topic,
			"CAPI_KAFKA_GROUP": names.Group, "CAPI_DLQ_TOPIC": names.DLQ, "CAPI_KAFKA_SESSION_TIMEOUT": "10s",
			"CAPI_GRAPH_URL": simURL, "CAPI_PIXEL_ID": servicetest.Pixel, "CAPI_ACCESS_TOKEN": servicetest.Token,
			"CAPI_CONSENT_CATEGORY": sample.ConsentCategory, "CAPI_DEFAULT_PHONE_REGION": "FR",
			"CAPI_BATCH_MAX_EVENTS": "100", "CAPI_BATCH_LINGER": "20ms", "CAPI_METRICS_ADDR": "127.0.0.1:0",
			"CAPI_LOG_LEVEL": "info", "CAPI_BATCH_MAX_IN_FLIGHT": "2", "CAPI_MAX_IN_FLIGHT_RECORDS": "1000",
		}
		// A steady, not instant, flow: about 1000 events/s.
		if err := sim.SetFaults(capitest.Faults{Latency: 100 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		// Where each event sits, to check commits against deliveries.
		pos := map[int32]map[int64]string{}
		cl, err := kgo.NewClient(append(append([]kgo.Opt{}, kopts...), kgo.DefaultProduceTopic(names.Topic))...)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		recs := make([]*kgo.Record, len(events))
		for i, ev := range events {
			recs[i] = &kgo.Record{Key: ev.Key, Value: ev.Value}
		}
		for _, r := range cl.ProduceSync(t.Context(), recs...) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if pos[r.Record.Partition] == nil {
				pos[r.Record.Partition] = map[int64]string{}
			}
			pos[r.Record.Partition][r.Record.Offset] = ids[string(r.Record.Value)]
		}
		return names, kopts, sim, env, pos
	}
	// noCommitPastUndelivered is the delivery contract seen from outside: every record below a committed offset
	// was accepted by Graph.
	noCommitPastUndelivered := func(t *testing.T, committed map[int32]int64, pos map[int32]map[int64]string, accepted map[string]int) {
		t.Helper()
		for part, off := range committed {
			for o := int64(0); o < off; o++ {
				if accepted[pos[part][o]] == 0 {
					t.Fatalf("partition %d committed at %d past undelivered offset %d", part, off, o)
				}
			}
		}
	}

	t.Run("SIGTERM drains, commits and exits 0", func(t *testing.T) {
		names, kopts, sim, env, pos := setup(t, 6000)
		env["CAPI_SHUTDOWN_TIMEOUT"] = "10s"
		p := proctest.StartConnector(t, bin, "connector", env, 0)
		servicetest.WaitFor(t, 20*time.Second, "deliveries at full speed", func() bool { return len(sim.EventIDs()) > 300 })
		sent := time.Now()
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := p.Wait(15 * time.Second); code != exitOK {
			t.Fatalf("exit status %d after SIGTERM, want 0", code)
		}
		took := time.Since(sent)
		accepted := sim.EventIDs()
		committed := servicetest.Committed(t, kopts, names.Group, names.Topic)
		noCommitPastUndelivered(t, committed, pos, accepted)
		// A clean drain leaves nothing acknowledged-but-uncommitted: every accepted event is below the commit.
		for part, offs := range pos {
			for o, id := range offs {
				if accepted[id] > 0 && o >= committed[part] {
					t.Fatalf("event at %d/%d was delivered but the drain did not commit it (committed %d)", part, o, committed[part])
				}
			}
		}
		if len(accepted) >= 6000 {
			t.Log("everything was delivered before the signal; the drain had little to do")
		}
		if !strings.Contains(p.LogText(), "draining") {
			t.Error("no drain announced in the output")
		}
		t.Logf("drained and exited %s after SIGTERM with %d of 6000 delivered", took.Round(time.Millisecond), len(accepted))

		// A restart resumes exactly at the commit: the rest is delivered, nothing twice.
		p2 := proctest.StartConnector(t, bin, "connector", env, 0)
		servicetest.WaitFor(t, 30*time.Second, "the rest to be delivered and committed", func() bool {
			return len(sim.EventIDs()) == 6000 && servicetest.Reached(servicetest.Committed(t, kopts, names.Group, names.Topic), ends(pos))
		})
		_ = p2.Signal(syscall.SIGTERM)
		if code := p2.Wait(15 * time.Second); code != exitOK {
			t.Errorf("second run exit status %d, want 0", code)
		}
		if d := sim.Stats().DuplicateEvents; d != 0 {
			t.Errorf("%d events delivered twice across a graceful restart", d)
		}
	})

	t.Run("second signal exits 130 without committing unacknowledged work", func(t *testing.T) {
		names, kopts, sim, env, pos := setup(t, 6000)
		env["CAPI_SHUTDOWN_TIMEOUT"] = "30s"
		p := proctest.StartConnector(t, bin, "connector", env, 0)
		servicetest.WaitFor(t, 20*time.Second, "first deliveries and commits", func() bool {
			return len(sim.EventIDs()) > 300 && len(servicetest.Committed(t, kopts, names.Group, names.Topic)) > 0
		})
		// Graph hangs: batches stay in flight, unacknowledged.
		if err := sim.SetFaults(capitest.Faults{Latency: time.Minute}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		_ = p.Signal(syscall.SIGTERM)
		servicetest.WaitFor(t, 5*time.Second, "the drain to start", func() bool { return strings.Contains(p.LogText(), "draining") })
		select {
		case <-p.Done():
			t.Fatal("exited on the first signal although batches were stuck: the drain should wait")
		case <-time.After(300 * time.Millisecond):
		}
		sent := time.Now()
		_ = p.Signal(syscall.SIGTERM)
		if code := p.Wait(3 * time.Second); code != 130 {
			t.Fatalf("exit status %d after a second signal, want 130", code)
		}
		if took := time.Since(sent); took > 2*time.Second {
			t.Errorf("exited %s after the second signal, want at once", took)
		}
		noCommitPastUndelivered(t, servicetest.Committed(t, kopts, names.Group, names.Topic), pos, sim.EventIDs())
		if !strings.Contains(p.LogText(), "second signal") {
			t.Error("the immediate exit is not announced")
		}
	})
}

func ends(pos map[int32]map[int64]string) map[int32]int64 {
	out := map[int32]int64{}
	for p, offs := range pos {
		out[p] = int64(len(offs))
	}
	return out
}
