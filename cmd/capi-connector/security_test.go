package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

const (
	saslUser     = "capi"
	saslPassword = "sasl-pa55word-do-not-log"
)

// securedCluster is kfake with SASL (one superuser per mechanism) and mutual TLS, whose server certificate is
// valid for "kafka.test" only: dialling 127.0.0.1 succeeds only when kafka.tls.server_name is honoured.
func securedCluster(t *testing.T, names servicetest.Names, pki servicetest.PKI) *kfake.Cluster {
	t.Helper()
	return servicetest.NewCluster(t, names, 2,
		kfake.EnableSASL(),
		kfake.Superuser(config.SASLPlain, saslUser, saslPassword),
		kfake.Superuser(config.SASLScramSHA256, saslUser, saslPassword),
		kfake.Superuser(config.SASLScramSHA512, saslUser, saslPassword),
		kfake.TLS(pki.ServerTLS),
	)
}

func securedKafka(brokers []string, names servicetest.Names, pki servicetest.PKI, mechanism, password string) config.Kafka {
	k := servicetest.Config(brokers, names, "http://unused.invalid").Kafka
	k.TLS = config.TLS{Enabled: true, CAFile: pki.CAFile, CertFile: pki.CertFile, KeyFile: pki.KeyFile, ServerName: "kafka.test"}
	k.SASL = config.SASL{Mechanism: mechanism, Username: saslUser, Password: config.Secret(password)}
	return k
}

// The consumer, the DLQ producer and replay connect through service.KafkaOpts (the real wiring) to a broker that requires
// mutual TLS and SASL, for each mechanism: servicetest.Deliverable events reach Graph, rejected ones reach the DLQ, offsets are
// committed, and replay moves the dead-lettered records back.
func TestKafkaTLSAndSASL(t *testing.T) {
	pki := servicetest.NewPKI(t, true)
	for _, mech := range []string{config.SASLPlain, config.SASLScramSHA256, config.SASLScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			names := servicetest.NewNames(t)
			c := securedCluster(t, names, pki)
			sim, simURL := servicetest.NewSim(t)
			cfg := servicetest.Config(c.ListenAddrs(), names, simURL)
			cfg.Kafka = securedKafka(c.ListenAddrs(), names, pki, mech, saslPassword)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("config: %v", err)
			}
			var logs servicetest.SyncBuffer
			log := zerolog.New(&logs).Level(zerolog.InfoLevel)
			kopts, err := service.KafkaOpts(cfg.Kafka, log)
			if err != nil {
				t.Fatal(err)
			}

			events := append(servicetest.Deliverable(1, 20), servicetest.NoConsent(5)...)
			end := servicetest.Produce(t, kopts, names.Topic, events)
			svc := servicetest.Start(t, cfg, log)
			servicetest.WaitFor(t, 20*time.Second, "commits to reach the end offsets", func() bool {
				return servicetest.Reached(servicetest.Committed(t, kopts, names.Group, names.Topic), end)
			})
			if err := svc.Stop(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if n := len(sim.EventIDs()); n != 20 {
				t.Errorf("Graph received %d events, want 20", n)
			}
			if n := servicetest.EndOffsets(t, kopts, names.DLQ)[0]; n != 5 {
				t.Errorf("DLQ holds %d records, want 5 (the DLQ producer must authenticate too)", n)
			}

			// Replay reads the DLQ and produces to the source topic through the same options; the password
			// comes from the environment as in production.
			path := servicetest.WriteYAML(t, `kafka:
  brokers: [`+c.ListenAddrs()[0]+`]
  topics: [`+names.Topic+`]
  group: `+names.Group+`
  dlq_topic: `+names.DLQ+`
  tls: {enabled: true, ca_file: `+pki.CAFile+`, cert_file: `+pki.CertFile+`, key_file: `+pki.KeyFile+`, server_name: kafka.test}
  sasl: {mechanism: `+mech+`, username: `+saslUser+`}
graph: {url: "`+simURL+`"}
destinations:
  - {name: shop, pixel_id: "`+servicetest.Pixel+`"}
`)
			t.Setenv("CAPI_KAFKA_SASL_PASSWORD", saslPassword)
			t.Setenv("CAPI_DEST_SHOP_ACCESS_TOKEN", servicetest.Token)
			var out, errOut bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = ctx
			if code := realMain([]string{"replay", "--config", path, "--reason", "no_consent", "--json"}, nil, &out, &errOut); code != exitOK {
				t.Fatalf("replay exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
			}
			var total int64
			for _, n := range servicetest.EndOffsets(t, kopts, names.Topic) {
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
	pki := servicetest.NewPKI(t, true)
	other := servicetest.NewPKI(t, true) // a CA the broker's certificate does not chain to
	names := servicetest.NewNames(t)
	c := securedCluster(t, names, pki)
	_, simURL := servicetest.NewSim(t)
	for _, tc := range []struct {
		name string
		edit func(*config.Kafka)
		want string
	}{
		{"wrong password", func(k *config.Kafka) { k.SASL.Password = "wrong" }, `SASL authentication failed for user "capi" with SCRAM-SHA-512`},
		{"unknown user", func(k *config.Kafka) { k.SASL.Username = "nobody" }, `SASL authentication failed for user "nobody"`},
		{"untrusted CA", func(k *config.Kafka) { k.TLS.CAFile = other.CAFile }, "x509: certificate signed by unknown authority"},
		{"wrong server name", func(k *config.Kafka) { k.TLS.ServerName = "other.test" }, "x509: name mismatch"},
		{"no client certificate", func(k *config.Kafka) { k.TLS.CertFile, k.TLS.KeyFile = "", "" }, "client certificate"},
		{"TLS off against a TLS listener", func(k *config.Kafka) { k.TLS = config.TLS{} }, "kafka.tls.enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := servicetest.Config(c.ListenAddrs(), names, simURL)
			cfg.Kafka = securedKafka(c.ListenAddrs(), names, pki, config.SASLScramSHA512, saslPassword)
			tc.edit(&cfg.Kafka)
			var logs servicetest.SyncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			svc, err := service.New(cfg, zerolog.New(&logs))
			if err == nil {
				err = svc.Run(ctx)
			}
			if err == nil || errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				t.Fatalf("service Run = %v after %s, want a prompt authentication error", err, time.Since(start).Round(time.Millisecond))
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
	var logs servicetest.SyncBuffer
	log := zerolog.New(&logs)
	kopts, err := service.KafkaOpts(k, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	if err := service.CheckKafka(ctx, kopts, k, nil, log, nil); err != nil {
		t.Fatalf("CheckKafka = %v, want to wait until the context ends", err)
	}
	if !strings.Contains(logs.String(), "kafka brokers unreachable") {
		t.Errorf("no warning while waiting for the brokers; logs:\n%s", logs.String())
	}
}

// insecure_skip_verify connects without a CA but is announced by a warning in the logs and by check-config.
func TestKafkaInsecureSkipVerifyWarns(t *testing.T) {
	pki := servicetest.NewPKI(t, false)
	names := servicetest.NewNames(t)
	c := servicetest.NewCluster(t, names, 1, kfake.TLS(pki.ServerTLS))
	sim, simURL := servicetest.NewSim(t)
	cfg := servicetest.Config(c.ListenAddrs(), names, simURL)
	cfg.Kafka.TLS = config.TLS{Enabled: true, InsecureSkipVerify: true}
	var logs servicetest.SyncBuffer
	log := zerolog.New(&logs)
	kopts, err := service.KafkaOpts(cfg.Kafka, log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(logs.String(), "insecure_skip_verify") {
		t.Fatalf("no warning logged for insecure_skip_verify; logs:\n%s", logs.String())
	}
	var out bytes.Buffer
	problems, warnings := cfg.Check()
	if err := report(cfg, problems, warnings, &out); err != nil {
		t.Fatalf("report: %v", err)
	}
	if !strings.Contains(out.String(), "warning: kafka.tls.insecure_skip_verify") {
		t.Errorf("check-config output lacks the insecure_skip_verify warning:\n%s", out.String())
	}
	end := servicetest.Produce(t, kopts, names.Topic, servicetest.Deliverable(2, 10))
	servicetest.Start(t, cfg, log)
	servicetest.WaitFor(t, 20*time.Second, "delivery over TLS without verification", func() bool {
		return servicetest.Reached(servicetest.Committed(t, kopts, names.Group, names.Topic), end) && len(sim.EventIDs()) == 10
	})
}
