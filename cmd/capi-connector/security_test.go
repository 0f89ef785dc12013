package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/schema/sample"
)

const (
	saslUser     = "capi"
	saslPassword = "sasl-pa55word-do-not-log"
)

// securedCluster is kfake with SASL (one superuser per mechanism) and mutual TLS, whose server certificate is
// valid for "kafka.test" only: dialling 127.0.0.1 succeeds only when kafka.tls.server_name is honoured.
func securedCluster(t *testing.T, names opsNames, pki testPKI) *kfake.Cluster {
	t.Helper()
	return newOpsCluster(t, names, 2,
		kfake.EnableSASL(),
		kfake.Superuser(config.SASLPlain, saslUser, saslPassword),
		kfake.Superuser(config.SASLScramSHA256, saslUser, saslPassword),
		kfake.Superuser(config.SASLScramSHA512, saslUser, saslPassword),
		kfake.TLS(pki.serverTLS),
	)
}

func securedKafka(brokers []string, names opsNames, pki testPKI, mechanism, password string) config.Kafka {
	k := opsConfig(brokers, names, "http://unused.invalid").Kafka
	k.TLS = config.TLS{Enabled: true, CAFile: pki.caFile, CertFile: pki.certFile, KeyFile: pki.keyFile, ServerName: "kafka.test"}
	k.SASL = config.SASL{Mechanism: mechanism, Username: saslUser, Password: config.Secret(password)}
	return k
}

// The consumer, the DLQ producer and replay connect through kafkaOpts (the real wiring) to a broker that requires
// mutual TLS and SASL, for each mechanism: deliverable events reach Graph, rejected ones reach the DLQ, offsets are
// committed, and replay moves the dead-lettered records back.
func TestKafkaTLSAndSASL(t *testing.T) {
	pki := newTestPKI(t, true)
	for _, mech := range []string{config.SASLPlain, config.SASLScramSHA256, config.SASLScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			names := newOpsNames(t)
			c := securedCluster(t, names, pki)
			sim, simURL := newOpsSim(t)
			cfg := opsConfig(c.ListenAddrs(), names, simURL)
			cfg.Kafka = securedKafka(c.ListenAddrs(), names, pki, mech, saslPassword)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("config: %v", err)
			}
			var logs syncBuffer
			log := zerolog.New(&logs).Level(zerolog.InfoLevel)
			kopts, err := kafkaOpts(cfg.Kafka, log)
			if err != nil {
				t.Fatal(err)
			}

			events := append(deliverable(1, 20), noConsent(5)...)
			end := opsProduce(t, kopts, names.topic, events)
			svc := startService(t, cfg, log)
			waitFor(t, 20*time.Second, "commits to reach the end offsets", func() bool {
				return reached(opsCommitted(t, kopts, names.group, names.topic), end)
			})
			if err := svc.stop(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if n := len(sim.EventIDs()); n != 20 {
				t.Errorf("Graph received %d events, want 20", n)
			}
			if n := endOffsets(t, kopts, names.dlq)[0]; n != 5 {
				t.Errorf("DLQ holds %d records, want 5 (the DLQ producer must authenticate too)", n)
			}

			// Replay reads the DLQ and produces to the source topic through the same options; the password
			// comes from the environment as in production.
			path := writeYAML(t, `kafka:
  brokers: [`+c.ListenAddrs()[0]+`]
  topics: [`+names.topic+`]
  group: `+names.group+`
  dlq_topic: `+names.dlq+`
  tls: {enabled: true, ca_file: `+pki.caFile+`, cert_file: `+pki.certFile+`, key_file: `+pki.keyFile+`, server_name: kafka.test}
  sasl: {mechanism: `+mech+`, username: `+saslUser+`}
graph: {url: "`+simURL+`"}
destinations:
  - {name: shop, pixel_id: "`+opsPixel+`"}
`)
			t.Setenv("CAPI_KAFKA_SASL_PASSWORD", saslPassword)
			t.Setenv("CAPI_DEST_SHOP_ACCESS_TOKEN", opsToken)
			var out, errOut bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = ctx
			if code := realMain([]string{"replay", "--config", path, "--reason", "no_consent", "--json"}, nil, &out, &errOut); code != exitOK {
				t.Fatalf("replay exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
			}
			var total int64
			for _, n := range endOffsets(t, kopts, names.topic) {
				total += n
			}
			if total != int64(len(events))+5 {
				t.Errorf("source topic holds %d records after replay, want %d", total, len(events)+5)
			}
			if strings.Contains(logs.String()+errOut.String(), saslPassword) {
				t.Error("the SASL password appears in the logs")
			}
		})
	}
}

// A wrong password, an untrusted CA or a wrong server name end the service with a clear error naming the cause,
// promptly, instead of retrying silently forever.
func TestKafkaAuthFailuresAreReported(t *testing.T) {
	pki := newTestPKI(t, true)
	other := newTestPKI(t, true) // a CA the broker's certificate does not chain to
	names := newOpsNames(t)
	c := securedCluster(t, names, pki)
	_, simURL := newOpsSim(t)
	for _, tc := range []struct {
		name string
		edit func(*config.Kafka)
		want string
	}{
		{"wrong password", func(k *config.Kafka) { k.SASL.Password = "wrong" }, "SASL"},
		{"unknown user", func(k *config.Kafka) { k.SASL.Username = "nobody" }, "SASL"},
		{"untrusted CA", func(k *config.Kafka) { k.TLS.CAFile = other.caFile }, "certificate"},
		{"wrong server name", func(k *config.Kafka) { k.TLS.ServerName = "other.test" }, "certificate"},
		{"no client certificate", func(k *config.Kafka) { k.TLS.CertFile, k.TLS.KeyFile = "", "" }, "client certificate"},
		{"TLS off against a TLS listener", func(k *config.Kafka) { k.TLS = config.TLS{} }, "kafka.tls.enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := opsConfig(c.ListenAddrs(), names, simURL)
			cfg.Kafka = securedKafka(c.ListenAddrs(), names, pki, config.SASLScramSHA512, saslPassword)
			tc.edit(&cfg.Kafka)
			var logs syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			err := runServiceWith(ctx, cfg, zerolog.New(&logs), nil)
			if err == nil || errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				t.Fatalf("runServiceWith = %v after %s, want a prompt authentication error", err, time.Since(start).Round(time.Millisecond))
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "kafka") {
				t.Errorf("error %q does not name the cause (%s)", err, tc.want)
			}
			if strings.Contains(err.Error(), saslPassword) || strings.Contains(logs.String(), saslPassword) {
				t.Error("the SASL password appears in the error or the logs")
			}
			t.Logf("%s after %s: %v", tc.name, time.Since(start).Round(time.Millisecond), err)
		})
	}
}

// Brokers that are down are waited for (a Kafka outage must not crash-loop the connector), with a warning.
func TestKafkaUnreachableIsWaitedFor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	k := config.Default().Kafka
	k.Brokers = []string{addr}
	var logs syncBuffer
	log := zerolog.New(&logs)
	kopts, err := kafkaOpts(k, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	if err := checkKafka(ctx, kopts, k, log, nil); err != nil {
		t.Fatalf("checkKafka = %v, want to wait until the context ends", err)
	}
	if !strings.Contains(logs.String(), "kafka brokers unreachable") {
		t.Errorf("no warning while waiting for the brokers; logs:\n%s", logs.String())
	}
}

// insecure_skip_verify connects without a CA but is announced by a warning in the logs and by check-config.
func TestKafkaInsecureSkipVerifyWarns(t *testing.T) {
	pki := newTestPKI(t, false)
	names := newOpsNames(t)
	c := newOpsCluster(t, names, 1, kfake.TLS(pki.serverTLS))
	sim, simURL := newOpsSim(t)
	cfg := opsConfig(c.ListenAddrs(), names, simURL)
	cfg.Kafka.TLS = config.TLS{Enabled: true, InsecureSkipVerify: true}
	var logs syncBuffer
	log := zerolog.New(&logs)
	kopts, err := kafkaOpts(cfg.Kafka, log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(logs.String(), "insecure_skip_verify") {
		t.Fatalf("no warning logged for insecure_skip_verify; logs:\n%s", logs.String())
	}
	var out bytes.Buffer
	if err := validate(cfg, &out); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if !strings.Contains(out.String(), "warning: kafka.tls.insecure_skip_verify") {
		t.Errorf("check-config output lacks the insecure_skip_verify warning:\n%s", out.String())
	}
	end := opsProduce(t, kopts, names.topic, deliverable(2, 10))
	startService(t, cfg, log)
	waitFor(t, 20*time.Second, "delivery over TLS without verification", func() bool {
		return reached(opsCommitted(t, kopts, names.group, names.topic), end) && len(sim.EventIDs()) == 10
	})
}

func noConsent(n int) []sample.Event {
	g := sample.New(3, time.Now())
	var out []sample.Event
	for len(out) < n {
		if e := g.Next(); e.Kind == sample.NoConsent {
			out = append(out, e)
		}
	}
	return out
}

func endOffsets(t testing.TB, kopts []kgo.Opt, topic string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

func writeYAML(t testing.TB, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
