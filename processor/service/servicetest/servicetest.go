// Package servicetest holds the helpers of the tests that run the connector against an in-process Kafka
// (kfake) and the Graph API simulator: names, cluster, simulator, a configuration built like an operator's,
// producing, reading and committed offsets, polling, a throwaway PKI. One home for what the service tests, the
// command tests and the end-to-end suites share. It imports package testing: only tests import it.
package servicetest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/mapping"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/schema"
	"github.com/capi-connector/capi-connector/schema/sample"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	Pixel = "1234567890123"
	Token = "ops-access-token-EAAB-do-not-log"
)

var seq atomic.Int64

// Names are one test's topic, DLQ topic and group.
type Names struct{ Topic, DLQ, Group string }

func NewNames(t testing.TB) Names {
	n := seq.Add(1)
	base := fmt.Sprintf("ops-%d-%d", time.Now().UnixNano()%1e6, n)
	_ = t
	return Names{Topic: base, DLQ: base + ".dlq", Group: base + "-group"}
}

// NewCluster starts kfake with the source topic (partitions) and a one-partition DLQ topic.
func NewCluster(t testing.TB, names Names, partitions int32, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, names.Topic), kfake.SeedTopics(1, names.DLQ)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// NewSim starts a Graph API simulator over HTTP that knows Pixel with Token.
func NewSim(t testing.TB) (*capitest.Server, string) {
	t.Helper()
	sim, srv := capitest.NewTestServer(t, capitest.Config{AccessTokens: map[string]string{Pixel: Token}})
	return sim, srv.URL
}

// Config is a valid configuration for one destination "shop" on simURL, tuned for short tests.
func Config(brokers []string, names Names, simURL string) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.Topics = []string{names.Topic}
	cfg.Kafka.Group = names.Group
	cfg.Kafka.DLQTopic = names.DLQ
	cfg.Kafka.SessionTimeout = 10 * time.Second
	cfg.Kafka.MaxInFlightRecords = 2000
	cfg.Graph.URL = simURL
	cfg.Graph.RequestTimeout = 5 * time.Second
	cfg.MetricsAddr = ""
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.LogLevel = "debug"
	d := config.DefaultDestination()
	d.Name = "shop"
	d.PixelID = Pixel
	d.AccessToken = config.Secret(Token)
	d.ConsentCategory = sample.ConsentCategory
	d.DefaultPhoneRegion = "FR"
	d.Batch.Linger = 20 * time.Millisecond
	d.Batch.MaxEvents = 200
	d.Retry.InitialBackoff = 10 * time.Millisecond
	d.Retry.MaxBackoff = 100 * time.Millisecond
	d.Retry.ThrottleBackoff = 50 * time.Millisecond
	d.Breaker.ConsecutiveFailures = 3
	d.Breaker.OpenTimeout = 300 * time.Millisecond
	cfg.Destinations = []config.Destination{d}
	return cfg
}

// Produce writes events to the topic and returns the end offset per partition.
func Produce(t testing.TB, kopts []kgo.Opt, topic string, events []sample.Event) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, kopts...), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	recs := make([]*kgo.Record, len(events))
	for i, ev := range events {
		recs[i] = &kgo.Record{Key: ev.Key, Value: ev.Value}
	}
	end := map[int32]int64{}
	for _, r := range cl.ProduceSync(ctx, recs...) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		end[r.Record.Partition] = max(end[r.Record.Partition], r.Record.Offset+1)
	}
	return end
}

// Committed is the group's committed offsets of topic as the broker sees them.
func Committed(t testing.TB, kopts []kgo.Opt, group, topic string) map[int32]int64 {
	adm, ctx, done := admin(t, kopts)
	defer done()
	offs, err := adm.FetchOffsets(ctx, group)
	out := map[int32]int64{}
	if err != nil {
		return out
	}
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			out[o.Partition] = o.At
		}
	})
	return out
}

// admin is an admin client on kopts and a 5-second context for one request; done releases both.
func admin(t testing.TB, kopts []kgo.Opt) (adm *kadm.Client, ctx context.Context, done func()) {
	t.Helper()
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	return kadm.NewClient(cl), ctx, func() { cancel(); cl.Close() }
}

// WaitFor polls cond every 20ms until it holds, failing the test after timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Reached reports whether committed equals end for every partition of end.
func Reached(committed, end map[int32]int64) bool {
	for p, off := range end {
		if committed[p] != off {
			return false
		}
	}
	return true
}

// Deliverable returns n Deliverable sample events (seeded, deterministic).
func Deliverable(seed uint64, n int) []sample.Event {
	g := sample.New(seed, time.Now())
	var out []sample.Event
	for len(out) < n {
		if e := g.Next(); e.Kind == sample.Deliverable {
			out = append(out, e)
		}
	}
	return out
}

// SyncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// PKI is a throwaway CA with a server certificate for kafka.test only (not the dialled 127.0.0.1) and a client certificate, written
// as PEM files in a temporary directory.
type PKI struct {
	CAFile, CertFile, KeyFile string // client side
	ServerTLS                 *tls.Config
}

func NewPKI(t testing.TB, requireClientCert bool) PKI {
	t.Helper()
	dir := t.TempDir()
	caKey := mustKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "capi test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, dns []string, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		k := mustKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			DNSNames: dns, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	srvDER, srvKey := issue(2, "kafka.test", x509.ExtKeyUsageServerAuth, []string{"kafka.test"}, nil)
	cliDER, cliKey := issue(3, "capi-connector", x509.ExtKeyUsageClientAuth, nil, nil)

	p := PKI{CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client-key.pem")}
	WritePEM(t, p.CAFile, "CERTIFICATE", caDER)
	WritePEM(t, p.CertFile, "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	WritePEM(t, p.KeyFile, "EC PRIVATE KEY", keyDER)

	srvKeyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	srvCert, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: srvKeyDER}))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	p.ServerTLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, MinVersion: tls.VersionTLS12}
	if requireClientCert {
		p.ServerTLS.ClientAuth = tls.RequireAndVerifyClientCert
		p.ServerTLS.ClientCAs = pool
	}
	return p
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func WritePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// LogLines splits captured JSON logs into lines (for messages in failures).
func LogLines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

// NoConsent returns n sample events without consent (seeded, deterministic).
func NoConsent(n int) []sample.Event {
	g := sample.New(3, time.Now())
	var out []sample.Event
	for len(out) < n {
		if e := g.Next(); e.Kind == sample.NoConsent {
			out = append(out, e)
		}
	}
	return out
}

// EndOffsets is the end offset of every partition of topic.
func EndOffsets(t testing.TB, kopts []kgo.Opt, topic string) map[int32]int64 {
	adm, ctx, done := admin(t, kopts)
	defer done()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// WriteYAML writes a configuration file in a temporary directory and returns its path.
func WriteYAML(t testing.TB, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ReadAll reads every record of topic.
func ReadAll(t testing.TB, kopts []kgo.Opt, topic string) []*kgo.Record {
	t.Helper()
	var want int64
	for _, n := range EndOffsets(t, kopts, topic) {
		want += n
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, kopts...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for int64(len(out)) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// DeadLetter produces to dlqTopic one record per reason, as the runtime dead-letters them (dlq.Record): the source
// record of srcTopic at offset i is keyed by its reason and failed for destination "main".
func DeadLetter(t testing.TB, kopts []kgo.Opt, dlqTopic, srcTopic string, reasons ...reject.Reason) {
	t.Helper()
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i, r := range reasons {
		src := &kgo.Record{Topic: srcTopic, Offset: int64(i), Key: []byte(string(r)), Value: []byte(`{}`), Timestamp: time.Now()}
		recs = append(recs, dlq.Record(dlqTopic, src, dlq.Failure{Rejection: reject.New(r, reject.StageDelivery, "why"), Destination: "main", FailedAt: time.Now()}))
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TopicID is the broker's id of topic (Produce v13+ names topics by id).
func TopicID(t testing.TB, kopts []kgo.Opt, topic string) [16]byte {
	adm, ctx, done := admin(t, kopts)
	defer done()
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	return td[topic].ID
}

// Running is a service started by Start.
type Running struct {
	*service.Service
	cancel context.CancelFunc
	exited chan struct{} // closed when Run returned
	err    error         // Run's result, set before exited is closed
}

// FastTimings shortens the runtime timings no configuration key covers, so that rebalances, outages and retries
// play out in seconds in the end-to-end tests: commits every 100 ms, a 10 s revoke timeout, 20 ms between DLQ
// retries, throttling backoff capped at 200 ms, and a misconfigured destination waiting for the test's fix instead
// of retrying. health > 0 also checks brokers and topics that often (the default is 5 s).
func FastTimings(health time.Duration) service.Option {
	return service.WithTuning(service.Tuning{
		CommitInterval: 100 * time.Millisecond, RevokeTimeout: 10 * time.Second, MisconfiguredRetry: time.Hour,
		DLQRetryBackoff: 20 * time.Millisecond, MaxThrottleBackoff: 200 * time.Millisecond, HealthInterval: health,
	})
}

// Start runs service.New(cfg, log, opts...) in the background until the test ends (or Stop). It fails the test
// when the service cannot be built or does not create its runtime within 10s.
func Start(t testing.TB, cfg config.Config, log zerolog.Logger, opts ...service.Option) *Running {
	t.Helper()
	svc, err := service.New(cfg, log, opts...)
	if err != nil {
		t.Fatalf("service.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{Service: svc, cancel: cancel, exited: make(chan struct{})}
	go func() {
		r.err = svc.Run(ctx)
		close(r.exited)
	}()
	select {
	case <-svc.Started():
	case <-r.exited:
		cancel()
		t.Fatalf("service did not start: %v", r.err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("service did not start within 10s")
	}
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// Exited reports whether Run returned, and its error.
func (r *Running) Exited() (bool, error) {
	select {
	case <-r.exited:
		return true, r.err
	default:
		return false, nil
	}
}

// Stop cancels the service and returns Run's error; safe to call twice.
func (r *Running) Stop(t testing.TB) error {
	r.cancel()
	select {
	case <-r.exited:
		return r.err
	case <-time.After(60 * time.Second):
		t.Error("service did not stop within 60s")
		return nil
	}
}

// ProducesTo reports whether a produce request writes to topic (named, or by id for Produce v13+).
func ProducesTo(pr *kmsg.ProduceRequest, topic string, id [16]byte) bool {
	for _, tp := range pr.Topics {
		if tp.Topic == topic || tp.TopicID == id {
			return true
		}
	}
	return false
}

// RefuseProduce is the broker's answer refusing every partition of pr with code (for kfake's ControlKey).
func RefuseProduce(pr *kmsg.ProduceRequest, code int16) *kmsg.ProduceResponse {
	resp := pr.ResponseKind().(*kmsg.ProduceResponse)
	for _, tp := range pr.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
		for _, pp := range tp.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = pp.Partition
			rp.ErrorCode = code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// ClosedAddr returns a loopback address on which nothing listens.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Shop is the pipeline destination of the transformation tests: "shop", consent category 2, phones in FR, custom
// data passed through, and the eligibility rules of config.DefaultDestination.
func Shop() processor.Destination {
	return processor.Destination{
		Name: "shop", ConsentCategory: "2", DefaultRegion: "FR",
		Mapping: mapping.Options{CustomDataPassthrough: true}, Rules: service.Rules(config.DefaultDestination()),
	}
}

// Pipeline is the real transformation of JSON input for dests (Shop when none).
func Pipeline(t testing.TB, dests ...processor.Destination) *processor.Pipeline {
	t.Helper()
	if len(dests) == 0 {
		dests = []processor.Destination{Shop()}
	}
	p, err := processor.New(schema.NewJSONDecoder().Contextual(), dests)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
