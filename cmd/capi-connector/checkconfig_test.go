package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

// invalidYAML has one problem per area (destination, kafka TLS, SASL, graph) and a secret that must never be printed.
const invalidYAML = `kafka:
  brokers: [localhost:9092]
  topics: [events]
  dlq_topic: events
  tls: {enabled: true, cert_file: /nonexistent/client.pem}
  sasl: {mechanism: SCRAM, username: capi, password: sasl-secret-in-file}
graph:
  url: "graph.facebook.com"
destinations:
  - name: shop
    pixel_id: "12ab"
    access_token: EAAB-token-in-file
    batch: {max_events: 5000}
`

// check-config prints every problem with its key and its fix and exits non-zero; run refuses to start on the same
// configuration with the same lines; neither prints a secret.
func TestCheckConfigAndRunReportEveryProblem(t *testing.T) {
	path := servicetest.WriteYAML(t, invalidYAML)
	cfg, err := config.Load(path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	problems, _ := cfg.Check()
	if len(problems) < 5 {
		t.Fatalf("the fixture should have at least 5 problems, config.Check found %d: %v", len(problems), problems)
	}
	keys := map[string]bool{}
	for _, p := range problems {
		keys[p.Key] = true
	}
	for _, k := range []string{"kafka.dlq_topic", "kafka.tls.key_file", "kafka.sasl.mechanism", "graph.url",
		"destinations[0].pixel_id", "destinations[0].batch.max_events"} {
		if !keys[k] {
			t.Errorf("config.Check did not report %s (got %v)", k, problems)
		}
	}

	for _, cmd := range []string{"check-config", "run"} {
		t.Run(cmd, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := realMain([]string{cmd, "--config", path}, strings.NewReader(""), &out, &errOut)
			if code != exitConfig {
				t.Errorf("exit status %d, want %d (invalid configuration)", code, exitConfig)
			}
			all := out.String() + errOut.String()
			lines := strings.Split(all, "\n")
			for i, l := range lines {
				// run logs JSON (the default log format): compare the message, unescaped.
				var entry struct{ Message string }
				if strings.HasPrefix(l, "{") && json.Unmarshal([]byte(l), &entry) == nil {
					lines[i] = entry.Message
				} else if cmd == "run" && l != "" {
					t.Errorf("run wrote a line that is not JSON with log_format json: %q", l)
				}
			}
			for _, p := range problems {
				found := false
				for _, l := range lines {
					// One line per problem carries the key, the message and the fix together.
					if strings.Contains(l, p.Key+": "+p.Message) && strings.Contains(l, "(fix: "+p.Fix+")") {
						found = true
					}
				}
				if !found {
					t.Errorf("no line reports %q with its fix %q; output:\n%s", p.Key, p.Fix, all)
				}
			}
			for _, secret := range []string{"sasl-secret-in-file", "EAAB-token-in-file"} {
				if strings.Contains(all, secret) {
					t.Errorf("output contains the secret %q", secret)
				}
			}
			if strings.Contains(all, "configuration OK") || strings.Contains(all, "starting") {
				t.Errorf("%s went on despite the problems:\n%s", cmd, all)
			}
		})
	}
}

// A valid configuration passes check-config with exit 0, and its warnings are still shown.
func TestCheckConfigValidPrintsWarnings(t *testing.T) {
	path := servicetest.WriteYAML(t, `kafka:
  brokers: [localhost:9092]
  topics: [events]
  dlq_topic: events.dlq
graph: {url: "https://graph.facebook.com"}
destinations:
  - {name: shop, pixel_id: "1234567890", test_event_code: TEST123}
`)
	t.Setenv("CAPI_DEST_SHOP_ACCESS_TOKEN", "EAAB-token-from-env")
	var out, errOut bytes.Buffer
	if code := realMain([]string{"check-config", "--config", path}, nil, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "configuration OK") {
		t.Errorf("stdout lacks 'configuration OK':\n%s", out.String())
	}
	if !strings.Contains(out.String(), "warning: "+path+":7: destinations[0].test_event_code") {
		t.Errorf("the test_event_code warning is not shown for a valid configuration:\n%s", out.String())
	}
	if strings.Contains(out.String()+errOut.String(), "EAAB-token-from-env") {
		t.Error("output contains the access token")
	}
}

// A YAML key that does not exist (a typo) is reported by check-config with its line, not silently ignored.
func TestCheckConfigUnknownKey(t *testing.T) {
	path := servicetest.WriteYAML(t, "kafka:\n  brokers: [localhost:9092]\n  dlq_topik: x\n")
	var out, errOut bytes.Buffer
	if code := realMain([]string{"check-config", "--config", path}, nil, &out, &errOut); code != exitConfig {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitConfig, out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), path+":3") || !strings.Contains(errOut.String(), "dlq_topik") {
		t.Errorf("the unknown key is not reported with its file and line:\n%s", errOut.String())
	}
	_ = os.Remove(path)
}

// clearCAPIEnv unsets every CAPI_* variable of the calling shell for the test, so that it sees only its own.
func clearCAPIEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "CAPI_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// The mistakes of the issue, against the command line: a misspelt variable is an error (with the right name) in
// check-config and at run start — before any connection — and CAPI_ALLOW_UNKNOWN_ENV=true lets it through.
func TestUnknownEnvRefused(t *testing.T) {
	clearCAPIEnv(t)
	t.Setenv("CAPI_KAFKA_BROKERS", servicetest.ClosedAddr(t))
	t.Setenv("CAPI_PIXEL_ID", "1234567890")
	t.Setenv("CAPI_ACCESS_TOKEN", "EAAB-token")
	t.Setenv("CAPI_CONSENT_CATEGRY", "2")
	for _, cmd := range []string{"check-config", "run"} {
		start := time.Now()
		code, out, errOut := runMain(t, cmd)
		if code != exitConfig {
			t.Errorf("%s: exit %d, want %d\n%s%s", cmd, code, exitConfig, out, errOut)
		}
		if !strings.Contains(errOut, "CAPI_CONSENT_CATEGRY: unknown variable") || !strings.Contains(errOut, "did you mean CAPI_CONSENT_CATEGORY?") {
			t.Errorf("%s does not name the variable and the fix:\n%s", cmd, errOut)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %s: it should refuse before reaching Kafka", cmd, d)
		}
	}
	t.Setenv("CAPI_ALLOW_UNKNOWN_ENV", "true")
	code, out, errOut := runMain(t, "check-config")
	if code != exitOK || !strings.Contains(out, "warning: CAPI_CONSENT_CATEGRY") {
		t.Errorf("with CAPI_ALLOW_UNKNOWN_ENV=true: exit %d, want 0 and a warning\n%s%s", code, out, errOut)
	}
}

// One pass: a bad duration, range errors of the same file and an environment mistake, each on its own line with its
// line number or variable; a token with a space is caught offline.
func TestCheckConfigOnePass(t *testing.T) {
	clearCAPIEnv(t)
	path := servicetest.WriteYAML(t, `kafka:
  brokers: [localhost:9092]
destinations:
  - name: shop
    pixel_id: "123"
    retry: {initial_backoff: 10x}
    batch: {max_events: 5000, max_in_flight: 0}
`)
	t.Setenv("CAPI_DEST_SHOP_ACCESS_TOKEN", "EAAB tokenpart")
	t.Setenv("CAPI_KAFKA_GROPU", "g")
	code, out, errOut := runMain(t, "check-config", "--config", path)
	if code != exitConfig {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitConfig, out, errOut)
	}
	for _, want := range []string{
		"5 problems in the configuration",
		path + ":6: destinations[0].retry.initial_backoff: invalid value",
		path + ":7: destinations[0].batch.max_events: 5000 is out of range",
		path + ":7: destinations[0].batch.max_in_flight: must be ≥ 1",
		"CAPI_DEST_SHOP_ACCESS_TOKEN (destinations[0].access_token): contains a space at character 5",
		"CAPI_KAFKA_GROPU: unknown variable",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("output lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(out+errOut, "tokenpart") {
		t.Error("the output contains the token")
	}
}

func TestCheckConfigPrint(t *testing.T) {
	clearCAPIEnv(t)
	path := servicetest.WriteYAML(t, "destinations:\n  - name: shop\n    pixel_id: \"123\"\n")
	t.Setenv("CAPI_DEST_SHOP_ACCESS_TOKEN", "EAAB-token-value")
	t.Setenv("CAPI_KAFKA_GROUP", "my-group")
	code, out, errOut := runMain(t, "check-config", "--print", "--config", path)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"group: my-group # from CAPI_KAFKA_GROUP", `pixel_id: "123" # from ` + path + ":3",
		"access_token: '[redacted]' # from CAPI_DEST_SHOP_ACCESS_TOKEN", "max_events: 1000\n", "configuration OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("--print output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "EAAB-token-value") {
		t.Error("--print shows the token")
	}
}
