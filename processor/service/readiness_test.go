package service_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

// readyz fetches /readyz and decodes its JSON body.
func readyz(t testing.TB, base string) (int, health.Status) {
	t.Helper()
	code, body := get(t, base+"/readyz")
	var s health.Status
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("/readyz body %q is not the JSON status: %v", body, err)
	}
	return code, s
}

func checkOf(s health.Status, name string) (health.Check, bool) {
	for _, c := range s.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return health.Check{}, false
}

// Kafka unreachable at start: /healthz, /readyz and /metrics are served at once (a liveness probe must not restart
// the pod in a loop during a Kafka outage), /readyz is 503 saying the brokers are unreachable, and capi_ready names
// the failing check.
func TestOpsServedBeforeKafka(t *testing.T) {
	names := servicetest.NewNames(t)
	broker := servicetest.ClosedAddr(t)
	cfg := servicetest.Config([]string{broker}, names, "http://127.0.0.1:1")
	cfg.MetricsAddr = "127.0.0.1:0"
	cfg.LogLevel = "info"
	var logs servicetest.SyncBuffer
	svc, err := service.New(cfg, zerolog.New(&logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel while Kafka was unreachable")
		}
	}()
	servicetest.WaitFor(t, 10*time.Second, "the ops server to listen", func() bool { return svc.OpsAddr() != "" })
	base := "http://" + svc.OpsAddr()
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d while Kafka is unreachable, want 200", code)
	}
	servicetest.WaitFor(t, 20*time.Second, "/readyz to say the brokers are unreachable", func() bool {
		code, s := readyz(t, base)
		c, ok := checkOf(s, health.BrokersReachable)
		return code == http.StatusServiceUnavailable && !s.Ready && ok && !c.OK &&
			strings.Contains(c.Reason, "brokers unreachable") && strings.Contains(c.Reason, broker)
	})
	_, s := readyz(t, base)
	if c, _ := checkOf(s, health.GroupJoined); c.OK || c.Reason == "" {
		t.Errorf("group_joined = %+v before any join", c)
	}
	m := scrape(t, base)
	if got := m.sum("capi_ready", map[string]string{"check": health.BrokersReachable}); got != 0 || len(m.series("capi_ready")) < 4 {
		t.Errorf("capi_ready{check=brokers_reachable} = %g (series %d), want 0 among the checks", got, len(m.series("capi_ready")))
	}
}

// Once joined, every check passes (200, capi_ready 1 for each); a misconfigured destination fails its own check with
// the reason; a broker that stops answering a scrape leaves the lag series at their last value instead of removing
// them.
func TestReadinessChecksAndLagKept(t *testing.T) {
	names := servicetest.NewNames(t)
	c := servicetest.NewCluster(t, names, 2)
	kopts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	sim, simURL := servicetest.NewSim(t)
	cfg := servicetest.Config(c.ListenAddrs(), names, simURL)
	cfg.MetricsAddr = "127.0.0.1:0"
	cfg.ShutdownTimeout = time.Second
	end := servicetest.Produce(t, kopts, names.Topic, servicetest.Deliverable(21, 30))
	svc := servicetest.Start(t, cfg, zerolog.Nop())
	servicetest.WaitFor(t, 20*time.Second, "commits to reach the end offsets", func() bool {
		return servicetest.Reached(servicetest.Committed(t, kopts, names.Group, names.Topic), end)
	})
	base := "http://" + svc.OpsAddr()
	servicetest.WaitFor(t, 10*time.Second, "/readyz 200 with every check ok", func() bool {
		code, s := readyz(t, base)
		return code == http.StatusOK && s.Ready
	})
	_, s := readyz(t, base)
	for _, name := range []string{health.GroupJoined, health.BrokersReachable, health.SourceTopics, health.DLQWritable, health.Destination("shop")} {
		if c, ok := checkOf(s, name); !ok || !c.OK || c.Reason != "" {
			t.Errorf("check %s = %+v (present %v), want ok", name, c, ok)
		}
	}
	m := scrape(t, base)
	for _, ch := range s.Checks {
		if got := m.sum("capi_ready", map[string]string{"check": ch.Name}); got != 1 {
			t.Errorf("capi_ready{check=%q} = %g, want 1", ch.Name, got)
		}
	}

	if err := sim.SetFaults(capitest.Faults{TokenExpired: true}); err != nil {
		t.Fatal(err)
	}
	servicetest.Produce(t, kopts, names.Topic, servicetest.Deliverable(22, 5))
	servicetest.WaitFor(t, 10*time.Second, "destination:shop to fail as misconfigured", func() bool {
		code, s := readyz(t, base)
		c, _ := checkOf(s, health.Destination("shop"))
		return code == http.StatusServiceUnavailable && !c.OK && strings.Contains(c.Reason, "misconfigured")
	})
	if got := scrape(t, base).sum("capi_ready", map[string]string{"check": health.Destination("shop")}); got != 0 {
		t.Errorf("capi_ready{check=destination:shop} = %g, want 0", got)
	}
	servicetest.WaitFor(t, 5*time.Second, "lag series", func() bool { return len(scrape(t, base).series("capi_consumer_lag")) == len(end) })

	c.Close() // the only broker goes away
	m = scrape(t, base)
	if n := len(m.series("capi_consumer_lag")); n != len(end) {
		t.Errorf("%d capi_consumer_lag series while the broker is gone, want the last %d kept", n, len(end))
	}
	if n := len(m.series("capi_end_offset")); n != len(end) {
		t.Errorf("%d capi_end_offset series while the broker is gone, want %d", n, len(end))
	}
}

// The broker keeps answering DLQ writes with a retryable error (NOT_ENOUGH_REPLICAS): franz-go retries them
// internally and never fails the record, so only their age tells. After the stall timeout dlq_writable fails with
// the reason, nothing is committed past the held record, and once the broker accepts again everything completes and
// the check passes.
func TestDLQRetryableFailureBounded(t *testing.T) {
	names := servicetest.NewNames(t)
	c := servicetest.NewCluster(t, names, 1)
	kopts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	dlqID := servicetest.TopicID(t, kopts, names.DLQ)
	var refusing atomic.Bool
	refusing.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		if !servicetest.ProducesTo(pr, names.DLQ, dlqID) || !refusing.Load() {
			return nil, nil, false
		}
		return servicetest.RefuseProduce(pr, kerr.NotEnoughReplicas.Code), nil, true
	})
	sim, simURL := servicetest.NewSim(t)
	_ = sim
	cfg := servicetest.Config(c.ListenAddrs(), names, simURL)
	events := append(servicetest.Deliverable(31, 10), servicetest.NoConsent(1)...)
	events = append(events, servicetest.Deliverable(32, 10)...)
	end := servicetest.Produce(t, kopts, names.Topic, events)
	svc := servicetest.Start(t, cfg, zerolog.Nop(), service.WithTuning(service.Tuning{
		CommitInterval: 100 * time.Millisecond, HealthInterval: 100 * time.Millisecond, DLQStallTimeout: 500 * time.Millisecond,
	}))
	servicetest.WaitFor(t, 20*time.Second, "dlq_writable to fail on a write held for longer than the stall timeout", func() bool {
		c, _ := svc.Health().Get(health.DLQWritable)
		return !c.OK && strings.Contains(c.Reason, "not acknowledged for") && strings.Contains(c.Reason, names.DLQ)
	})
	if svc.Ready() {
		t.Fatal("ready while a DLQ write is stuck")
	}
	if got := servicetest.Committed(t, kopts, names.Group, names.Topic)[0]; got > 10 {
		t.Fatalf("committed %d, past the record held at offset 10", got)
	}
	refusing.Store(false)
	servicetest.WaitFor(t, 30*time.Second, "commits to reach the end once the broker accepts", func() bool {
		return servicetest.Reached(servicetest.Committed(t, kopts, names.Group, names.Topic), end)
	})
	servicetest.WaitFor(t, 10*time.Second, "dlq_writable to pass again", func() bool {
		c, _ := svc.Health().Get(health.DLQWritable)
		return c.OK
	})
}
