// Package e2e holds the end-to-end suites: the real pipeline over a real Kafka protocol broker and the Graph API
// simulator over real HTTP. One suite, two brokers (the franz-go convention): with CAPI_TEST_BROKERS unset the
// tests start an in-process kfake cluster; with CAPI_TEST_BROKERS=host:port they use that broker (a real Apache
// Kafka started by test/kafka/start.sh). Tests that need broker fault injection only kfake offers skip on a real
// broker.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// BrokersEnv selects the broker: unset → in-process kfake.
const BrokersEnv = "CAPI_TEST_BROKERS"

const (
	pixelID = "1234567890123"
	token   = "e2e-access-token"
)

var topicSeq atomic.Int64

// env is one test's world: a broker, fresh topics and group, and a Graph API simulator.
type env struct {
	t        testing.TB
	brokers  []string
	cluster  *kfake.Cluster // nil on a real broker
	topic    string
	dlqTopic string
	group    string
	sim      *capitest.Server
	simURL   string
	adm      *kadm.Client
}

func realBroker() bool { return os.Getenv(BrokersEnv) != "" }

func newEnv(t testing.TB, partitions int32) *env {
	t.Helper()
	n := topicSeq.Add(1)
	// A real broker accepts topic names of at most 249 characters from [a-zA-Z0-9._-] (kfake accepts anything).
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, t.Name())
	if len(name) > 180 {
		name = name[:180]
	}
	e := &env{
		t:     t,
		topic: fmt.Sprintf("e2e-%s-%d-%d", name, time.Now().UnixNano()%1e6, n),
		group: fmt.Sprintf("e2e-group-%s-%d-%d", name, time.Now().UnixNano()%1e6, n),
	}
	e.dlqTopic = e.topic + ".dlq"
	if s := os.Getenv(BrokersEnv); s != "" {
		e.brokers = strings.Split(s, ",")
	} else {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		e.cluster, e.brokers = c, c.ListenAddrs()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	e.adm = kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for topic, p := range map[string]int32{e.topic: partitions, e.dlqTopic: 1} {
		resp, err := e.adm.CreateTopic(ctx, p, 1, nil, topic)
		if err != nil || resp.Err != nil {
			t.Fatalf("create topic %s: %v %v", topic, err, resp.Err)
		}
	}
	e.startSim()
	return e
}

// startSim starts the env's Graph API simulator, which knows the pixel and its token.
func (e *env) startSim() {
	sim, srv := capitest.NewTestServer(e.t, capitest.Config{AccessTokens: map[string]string{pixelID: token}})
	e.sim, e.simURL = sim, srv.URL
}

// acl is one grant: operations on a resource.
type acl struct {
	kind string // topic, group, cluster
	name string
	ops  []kadm.ACLOperation
	// prefixed makes the resource name a prefix (replay's groups).
	prefixed bool
}

// aclAdmin authenticates as the super user of the clusters newACLEnv starts.
var aclAdmin = kgo.SASL(scram.Auth{User: "admin", Pass: "admin"}.AsSha256Mechanism())

// aclUser makes the connector authenticate as the user of the clusters newACLEnv starts.
func aclUser(c *config.Config) {
	c.Kafka.SASL = config.SASL{Mechanism: config.SASLScramSHA256, Username: "capi", Password: "capi-pw"}
}

// newACLEnv is an env on its own kfake cluster that enforces ACLs, with topic and topic.dlq (one partition each)
// and group: the env's admin client (also returned, producing to topic) is the super user admin (aclAdmin), the
// connector is the user capi (aclUser) with only grants (literal resource names). kfake only: on a real broker
// the secured suite grants the same with grant.
func newACLEnv(t *testing.T, topic, group string, grants ...acl) (*env, *kgo.Client) {
	t.Helper()
	e := &env{t: t, topic: topic, dlqTopic: topic + ".dlq", group: group}
	var allowed []kfake.ACL
	for _, g := range grants {
		rt := map[string]kmsg.ACLResourceType{"topic": kmsg.ACLResourceTypeTopic, "group": kmsg.ACLResourceTypeGroup,
			"cluster": kmsg.ACLResourceTypeCluster}[g.kind]
		for _, op := range g.ops {
			allowed = append(allowed, kfake.ACL{Resource: rt, Name: g.name, Pattern: kmsg.ACLResourcePatternTypeLiteral,
				Operation: op, Allow: true})
		}
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("SCRAM-SHA-256", "admin", "admin"), kfake.User("SCRAM-SHA-256", "capi", "capi-pw", allowed...),
		kfake.SeedTopics(1, e.topic, e.dlqTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	e.brokers = c.ListenAddrs()
	admin, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), aclAdmin, kgo.DefaultProduceTopic(e.topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	e.adm = kadm.NewClient(admin)
	e.startSim()
	return e, admin
}

// produced is what a test put in the source topic.
type produced struct {
	events []sample.Event
	where  map[string]kgo.Record // event_id → partition/offset (Value/Key unset)
	end    map[int32]int64       // partition → end offset
}

// mix generates n events with the generator's defaults plus special kinds every Nth.
func mix(n int, poison, tooOld, invalid int) []sample.Event {
	return mixSeeded(42, n, poison, tooOld, invalid)
}

// mixSeeded is mix with its own generator seed: two batches of one test must not share event ids.
func mixSeeded(seed uint64, n int, poison, tooOld, invalid int) []sample.Event {
	g := sample.New(seed, time.Now())
	g.PoisonEvery, g.TooOldEvery, g.InvalidEvery = poison, tooOld, invalid
	out := make([]sample.Event, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

// poisonedIDs returns the event ids the simulator must reject as Facebook would.
func poisonedIDs(events ...[]sample.Event) []string {
	var out []string
	for _, evs := range events {
		for _, ev := range evs {
			if ev.Kind == sample.Poisoned {
				out = append(out, ev.EventID)
			}
		}
	}
	return out
}

// countKind counts events of kind k.
func countKind(events []sample.Event, k sample.Kind) int {
	n := 0
	for _, ev := range events {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

// only generates n events of the given kind (the generator is drawn until it yields them).
func only(n int, k sample.Kind) []sample.Event {
	g := sample.New(7, time.Now())
	var out []sample.Event
	for len(out) < n {
		if e := g.Next(); e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func (e *env) produce(events []sample.Event, partition int32) produced {
	e.t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(e.brokers...), kgo.DefaultProduceTopic(e.topic)}
	if partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	p := produced{events: events, where: map[string]kgo.Record{}, end: map[int32]int64{}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	recs := make([]*kgo.Record, len(events))
	for i, ev := range events {
		recs[i] = &kgo.Record{Key: ev.Key, Value: ev.Value, Partition: max(partition, 0)}
	}
	for _, r := range cl.ProduceSync(ctx, recs...) {
		if r.Err != nil {
			e.t.Fatal(r.Err)
		}
	}
	for i, r := range recs {
		if id := events[i].EventID; id != "" {
			p.where[id] = kgo.Record{Partition: r.Partition, Offset: r.Offset}
		}
		p.end[r.Partition] = max(p.end[r.Partition], r.Offset+1)
	}
	return p
}

// tweak adjusts a test's configuration (the keys an operator would set).
type tweak func(*config.Config)

// config is the configuration of the connector under test: config.Default with one destination "shop" on the
// simulator, tuned for short tests, then the tweaks. The connector is built from it by processor/service, as
// `capi-connector run` builds it.
func (e *env) config(tweaks ...tweak) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers = e.brokers
	cfg.Kafka.Topics = []string{e.topic}
	cfg.Kafka.Group = e.group
	cfg.Kafka.DLQTopic = e.dlqTopic
	cfg.Kafka.SessionTimeout = 10 * time.Second
	cfg.Graph.URL = e.simURL
	cfg.MetricsAddr = ""
	cfg.ShutdownTimeout = 10 * time.Second
	d := config.DefaultDestination()
	d.Name, d.PixelID, d.AccessToken = "shop", pixelID, token
	d.ConsentCategory, d.DefaultPhoneRegion = sample.ConsentCategory, "FR"
	d.Retry = config.Retry{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, ThrottleBackoff: 50 * time.Millisecond}
	d.Breaker = config.Breaker{ConsecutiveFailures: 3, OpenTimeout: 300 * time.Millisecond}
	d.Batch.MaxEvents, d.Batch.Linger, d.Batch.MaxInFlight = 500, 20*time.Millisecond, 4
	cfg.Destinations = []config.Destination{d}
	for _, tw := range tweaks {
		tw(&cfg)
	}
	return cfg
}

// running is a connector started by start.
type running = servicetest.Running

// start runs the connector for cfg through processor/service until the test ends. Only timings no configuration
// key covers are shortened (commit interval, revoke and misconfiguration retry, fetch wait), so that rebalances
// and outages play out in seconds; extra adds service options (a second simulator for a destination).
func (e *env) start(cfg config.Config, extra ...service.Option) *running {
	e.t.Helper()
	return e.startLogged(cfg, testLogger(e.t), extra...)
}

// startLogged is start with the service's logs going to log.
func (e *env) startLogged(cfg config.Config, log zerolog.Logger, extra ...service.Option) *running {
	e.t.Helper()
	opts := append([]service.Option{
		service.WithKafkaOpts(kgo.FetchMaxWait(200 * time.Millisecond)),
		servicetest.FastTimings(0),
	}, extra...)
	return servicetest.Start(e.t, cfg, log, opts...)
}

// testLogger sends the runtime's logs to the test log (shown on failure or with -v).
func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

// committed returns the group's committed offsets as the broker sees them.
func (e *env) committed() map[int32]int64 {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := e.adm.FetchOffsets(ctx, e.group)
	if err != nil {
		return nil // group not there yet
	}
	out := map[int32]int64{}
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == e.topic && o.Err == nil {
			out[o.Partition] = o.At
		}
	})
	return out
}

// waitCommitted waits until committed offsets equal end offsets, calling check on every observation.
func (e *env) waitCommitted(end map[int32]int64, timeout time.Duration, check func(map[int32]int64)) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c := e.committed()
		if check != nil {
			check(c)
		}
		if maps.Equal(c, end) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("committed offsets %v never reached end offsets %v", c, end)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dlqRecords reads the whole DLQ topic.
func (e *env) dlqRecords() []*kgo.Record { return e.readAll(e.dlqTopic) }

// readAll reads a topic up to its end offsets.
func (e *env) readAll(topic string) []*kgo.Record {
	e.t.Helper()
	want := sumOffsets(e.endOffsets(topic))
	if want == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []*kgo.Record
	for int64(len(out)) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			e.t.Fatalf("read %d of %d records of %s", len(out), want, topic)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// endOffsets is the end offset of every partition of topic.
func (e *env) endOffsets(topic string) map[int32]int64 {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := e.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// sumOffsets is the sum of per-partition offsets: the number of records below them.
func sumOffsets(m map[int32]int64) int64 {
	var n int64
	for _, o := range m {
		n += o
	}
	return n
}

var errTimeout = errors.New("timeout")

// eventually polls cond until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return errTimeout
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// topicID returns the broker's id of topic (Produce v13+ names topics by id).
func (e *env) topicID(topic string) [16]byte {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	td, err := e.adm.ListTopics(ctx, topic)
	if err != nil {
		e.t.Fatal(err)
	}
	return td[topic].ID
}
