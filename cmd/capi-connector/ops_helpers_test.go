package main

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

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/stream"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// Helpers shared by the operations tests of package main (run_test.go, security_test.go, logs_test.go,
// signals_test.go): an in-process kfake cluster, a Graph simulator, a configuration built like an operator's, and
// the service started through runServiceWith, the same wiring as `capi-connector run`.

const (
	opsPixel = "1234567890123"
	opsToken = "ops-access-token-EAAB-do-not-log"
)

var opsSeq atomic.Int64

// opsNames are one test's topic, DLQ topic and group.
type opsNames struct{ topic, dlq, group string }

func newOpsNames(t testing.TB) opsNames {
	n := opsSeq.Add(1)
	base := fmt.Sprintf("ops-%d-%d", time.Now().UnixNano()%1e6, n)
	_ = t
	return opsNames{topic: base, dlq: base + ".dlq", group: base + "-group"}
}

// newOpsCluster starts kfake with the source topic (partitions) and a one-partition DLQ topic.
func newOpsCluster(t testing.TB, names opsNames, partitions int32, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, names.topic), kfake.SeedTopics(1, names.dlq)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// newOpsSim starts a Graph API simulator over HTTP that knows opsPixel with opsToken.
func newOpsSim(t testing.TB) (*capitest.Server, string) {
	t.Helper()
	sim, srv := capitest.NewTestServer(t, capitest.Config{AccessTokens: map[string]string{opsPixel: opsToken}})
	return sim, srv.URL
}

// opsConfig is a valid configuration for one destination "shop" on simURL, tuned for short tests.
func opsConfig(brokers []string, names opsNames, simURL string) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.Topics = []string{names.topic}
	cfg.Kafka.Group = names.group
	cfg.Kafka.DLQTopic = names.dlq
	cfg.Kafka.SessionTimeout = 10 * time.Second
	cfg.Kafka.MaxInFlightRecords = 2000
	cfg.Graph.URL = simURL
	cfg.Graph.RequestTimeout = 5 * time.Second
	cfg.MetricsAddr = ""
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.LogLevel = "debug"
	d := config.DefaultDestination()
	d.Name = "shop"
	d.PixelID = opsPixel
	d.AccessToken = config.Secret(opsToken)
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

// service is runServiceWith running in the background.
type service struct {
	r      *stream.Runner
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// startService runs the service for cfg until the test ends (or stop). It fails the test when the runner is not
// created within 10s. hooks run after the runner is built and before it consumes (runServiceWith's started).
func startService(t testing.TB, cfg config.Config, log zerolog.Logger, hooks ...func(*stream.Runner)) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *stream.Runner, 1)
	s := &service{cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- runServiceWith(ctx, cfg, log, func(r *stream.Runner) {
			for _, h := range hooks {
				h(r)
			}
			started <- r
		})
	}()
	select {
	case s.r = <-started:
	case err := <-s.done:
		cancel()
		t.Fatalf("service did not start: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("service did not start within 10s")
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop cancels the service and returns Run's error; safe to call twice.
func (s *service) stop(t testing.TB) error {
	s.once.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("service did not stop within 30s")
		}
	})
	return s.err
}

// opsProduce writes events to the topic and returns the end offset per partition.
func opsProduce(t testing.TB, kopts []kgo.Opt, topic string, events []sample.Event) map[int32]int64 {
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

// opsCommitted is the group's committed offsets of topic as the broker sees them.
func opsCommitted(t testing.TB, kopts []kgo.Opt, group, topic string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
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

// waitFor polls cond every 20ms until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reached reports whether committed equals end for every partition of end.
func reached(committed, end map[int32]int64) bool {
	for p, off := range end {
		if committed[p] != off {
			return false
		}
	}
	return true
}

// deliverable returns n deliverable sample events (seeded, deterministic).
func deliverable(seed uint64, n int) []sample.Event {
	g := sample.New(seed, time.Now())
	var out []sample.Event
	for len(out) < n {
		if e := g.Next(); e.Kind == sample.Deliverable {
			out = append(out, e)
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testPKI is a throwaway CA with a server certificate for kafka.test only (not the dialled 127.0.0.1) and a client certificate, written
// as PEM files in a temporary directory.
type testPKI struct {
	caFile, certFile, keyFile string // client side
	serverTLS                 *tls.Config
}

func newTestPKI(t testing.TB, requireClientCert bool) testPKI {
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

	p := testPKI{caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "client.pem"), keyFile: filepath.Join(dir, "client-key.pem")}
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	writePEM(t, p.certFile, "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.keyFile, "EC PRIVATE KEY", keyDER)

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
	p.serverTLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, MinVersion: tls.VersionTLS12}
	if requireClientCert {
		p.serverTLS.ClientAuth = tls.RequireAndVerifyClientCert
		p.serverTLS.ClientCAs = pool
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

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// logLines splits captured JSON logs into lines (for messages in failures).
func logLines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }
