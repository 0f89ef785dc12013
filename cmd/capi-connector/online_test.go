package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
	"github.com/capi-connector/capi-connector/schema/registrytest"
)

// row finds the table row of a check and, when it failed, its fix line.
func row(t *testing.T, out, name string) (line, fix string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if len(l) > 4 && strings.HasPrefix(l[4:], name+" ") || strings.HasSuffix(l, " "+name) {
			if i+1 < len(lines) && strings.Contains(lines[i+1], "fix: ") {
				fix = strings.TrimSpace(lines[i+1])
			}
			return l, fix
		}
	}
	t.Fatalf("no row %q in:\n%s", name, out)
	return "", ""
}

func TestCheckConfigOnline(t *testing.T) {
	clearCAPIEnv(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "online-events"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	sim, simSrv := capitest.NewTestServer(t, capitest.Config{AccessTokens: map[string]string{servicetest.Pixel: servicetest.Token}})
	reg := registrytest.New(t, registrytest.WithBasicAuth("capi", "reg-pass"))

	base := map[string]string{
		"CAPI_KAFKA_BROKERS": strings.Join(c.ListenAddrs(), ","), "CAPI_KAFKA_TOPIC": "online-events",
		"CAPI_DLQ_TOPIC": "online-events.dlq", "CAPI_KAFKA_GROUP": "online-group",
		"CAPI_PIXEL_ID": servicetest.Pixel, "CAPI_ACCESS_TOKEN": servicetest.Token, "CAPI_GRAPH_URL": simSrv.URL,
	}
	run := func(t *testing.T, extra map[string]string) (int, string, string) {
		t.Helper()
		for k, v := range base {
			t.Setenv(k, v)
		}
		for k, v := range extra {
			t.Setenv(k, v)
		}
		return runMain(t, "check-config", "--online")
	}

	t.Run("all good, DLQ to be created", func(t *testing.T) {
		code, out, errOut := run(t, map[string]string{"CAPI_INPUT_FORMAT": "avro-confluent",
			"CAPI_SCHEMA_REGISTRY_URL": reg.URL(), "CAPI_SCHEMA_REGISTRY_USERNAME": "capi", "CAPI_SCHEMA_REGISTRY_PASSWORD": "reg-pass"})
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		for name, want := range map[string]string{
			"kafka brokers":               "1 broker(s) answer",
			"source topic online-events":  "3 partitions",
			"dlq topic online-events.dlq": "will create it at start",
			"consumer group online-group": "no offsets committed yet",
			"destination default":         "the token is valid for pixel " + servicetest.Pixel,
			"schema registry":             "answers at " + reg.URL(),
		} {
			if l, _ := row(t, out, name); !strings.HasPrefix(l, "✔") || !strings.Contains(l, want) {
				t.Errorf("row %q = %q, want ✔ and %q", name, l, want)
			}
		}
		if strings.Contains(out+errOut, servicetest.Token) || strings.Contains(out+errOut, "reg-pass") {
			t.Error("the output contains a secret")
		}
		// Validating the creation created nothing, and no event reached Graph.
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		td, err := kadm.NewClient(cl).ListTopics(ctx, "online-events.dlq")
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := td["online-events.dlq"]; ok && d.Err == nil {
			t.Error("--online created the DLQ topic")
		}
		if st := sim.Stats(); st.AcceptedEvents != 0 {
			t.Errorf("--online sent events: %+v", st)
		}
	})

	t.Run("every failure with its fix", func(t *testing.T) {
		if err := sim.SetFaults(capitest.Faults{TokenExpired: true}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sim.SetFaults(capitest.Faults{}) })
		code, out, errOut := run(t, map[string]string{"CAPI_KAFKA_TOPIC": "online-events,missing-topic", "CAPI_DLQ_CREATE": "false",
			"CAPI_INPUT_FORMAT": "avro-confluent", "CAPI_SCHEMA_REGISTRY_URL": reg.URL(),
			"CAPI_SCHEMA_REGISTRY_USERNAME": "capi", "CAPI_SCHEMA_REGISTRY_PASSWORD": "wrong"})
		if code != exitFail || !strings.Contains(errOut, "online checks failed: 4 of 7") {
			t.Fatalf("exit %d, want %d and 4 failures\n%s%s", code, exitFail, out, errOut)
		}
		for name, want := range map[string][2]string{
			"source topic missing-topic":  {"does not exist", "--create --topic missing-topic"},
			"dlq topic online-events.dlq": {"does not exist", "create topic online-events.dlq or allow the connector to create it (kafka.dlq_create"},
			"destination default":         {"code 190/463", "the access token expired or was revoked: create a new one in Events Manager → Settings → Conversions API"},
			"schema registry":             {"HTTP 401", "refused the credentials"},
		} {
			l, fix := row(t, out, name)
			if !strings.HasPrefix(l, "✖") || !strings.Contains(l, want[0]) || !strings.Contains(fix, want[1]) {
				t.Errorf("row %q = %q, fix %q; want ✖ %q and fix %q", name, l, fix, want[0], want[1])
			}
		}
	})

	t.Run("invalid configuration: no online checks", func(t *testing.T) {
		code, out, errOut := run(t, map[string]string{"CAPI_BATCH_MAX_EVENTS": "5000"})
		if code != exitConfig || !strings.Contains(out, "online checks skipped") || strings.Contains(out, "✔") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	})
}
