package config

import (
	"errors"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestLoadDefaultsOnly(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("Load(\"\", nil) = %+v, want Default()", c)
	}
	if empty := mustLoadYAML(t, "# nothing\n", nil); !reflect.DeepEqual(empty, Default()) {
		t.Fatalf("empty file = %+v, want Default()", empty)
	}
}

func TestLoadYAML(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, c Config)
	}{
		{
			name: "kafka section, other keys keep defaults",
			yaml: `
kafka:
  brokers: [k1:9092, k2:9092]
  topics: [web, store]
  session_timeout: 1m
  max_in_flight_records: 500
  tls: {enabled: true, server_name: kafka.internal}
  sasl: {mechanism: SCRAM-SHA-512, username: svc}
`,
			check: func(t *testing.T, c Config) {
				k := c.Kafka
				if !slices.Equal(k.Brokers, []string{"k1:9092", "k2:9092"}) || !slices.Equal(k.Topics, []string{"web", "store"}) {
					t.Errorf("brokers %q topics %q", k.Brokers, k.Topics)
				}
				if k.SessionTimeout != time.Minute || k.MaxInFlightRecords != 500 {
					t.Errorf("session %s in-flight %d", k.SessionTimeout, k.MaxInFlightRecords)
				}
				if !k.TLS.Enabled || k.TLS.ServerName != "kafka.internal" || k.SASL.Mechanism != SASLScramSHA512 || k.SASL.Username != "svc" {
					t.Errorf("tls %+v sasl %+v", k.TLS, k.SASL)
				}
				if k.Group != "capi-connector" || k.DLQTopic != "events.dlq" || c.Graph.APIVersion != "v24.0" {
					t.Errorf("defaults lost: %+v", k)
				}
			},
		},
		{
			name: "destinations start from DefaultDestination",
			yaml: `
destinations:
  - name: a
    pixel_id: "1"
    batch: {max_events: 10}
    ldu: {enabled: true, country: 1, state: 1000}
    events: {include: [purchase]}
  - name: b
    custom_data_passthrough: false
    window: {max_future: 1m}
`,
			check: func(t *testing.T, c Config) {
				a := DefaultDestination()
				a.Name, a.PixelID, a.Batch.MaxEvents = "a", "1", 10
				a.LDU = LDU{Enabled: true, Country: 1, State: 1000}
				a.Events.Include = []string{"purchase"}
				b := DefaultDestination()
				b.Name, b.CustomDataPassthrough, b.Window.MaxFuture = "b", false, time.Minute
				if !reflect.DeepEqual(c.Destinations, []Destination{a, b}) {
					t.Errorf("got %+v", c.Destinations)
				}
			},
		},
		{
			name: "anchors under x- keys and merge keys",
			yaml: `
x-common: &common
  default_phone_region: FR
  batch: {linger: 1s}
destinations:
  - <<: *common
    name: a
  - <<: *common
    name: b
    default_phone_region: BE
`,
			check: func(t *testing.T, c Config) {
				a, b := c.Destinations[0], c.Destinations[1]
				if a.DefaultPhoneRegion != "FR" || a.Batch.Linger != time.Second || a.Batch.MaxEvents != 1000 {
					t.Errorf("a = %+v", a)
				}
				if b.DefaultPhoneRegion != "BE" || b.Batch.Linger != time.Second {
					t.Errorf("b = %+v (explicit key must override the merge)", b)
				}
			},
		},
		{
			name: "empty value zeroes a leaf, empty section keeps defaults",
			yaml: "metrics_addr:\ngraph:\n",
			check: func(t *testing.T, c Config) {
				if c.MetricsAddr != "" || c.Graph != Default().Graph {
					t.Errorf("metrics %q graph %+v", c.MetricsAddr, c.Graph)
				}
			},
		},
		{
			name: "list as a comma-separated string",
			yaml: "kafka:\n  topics: \"a, b\"\n",
			check: func(t *testing.T, c Config) {
				if !slices.Equal(c.Kafka.Topics, []string{"a", "b"}) {
					t.Errorf("topics = %q", c.Kafka.Topics)
				}
			},
		},
		{
			name: "input formats per topic",
			yaml: "kafka:\n  topics: [web, app]\n  input_formats:\n    app: avro-confluent\n    web: json\n",
			check: func(t *testing.T, c Config) {
				if want := map[string]string{"app": "avro-confluent", "web": "json"}; !reflect.DeepEqual(c.Kafka.InputFormats, want) {
					t.Errorf("input_formats = %v, want %v", c.Kafka.InputFormats, want)
				}
			},
		},
		{
			name: "input formats as a string, environment replaces the whole map",
			yaml: "kafka:\n  input_formats: \"app=avro-schema, web=json\"\n",
			check: func(t *testing.T, c Config) {
				if want := map[string]string{"app": "avro-schema", "web": "json"}; !reflect.DeepEqual(c.Kafka.InputFormats, want) {
					t.Errorf("input_formats = %v, want %v", c.Kafka.InputFormats, want)
				}
			},
		},
		{
			name: "numeric scalar as secret and pixel id",
			yaml: "destinations:\n  - pixel_id: 1234\n    access_token: 5678\n",
			check: func(t *testing.T, c Config) {
				if d := c.Destinations[0]; d.PixelID != "1234" || d.AccessToken.Reveal() != "5678" || d.Name != "default" {
					t.Errorf("got %+v", d)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustLoadYAML(t, tt.yaml, nil))
		})
	}
}

func TestLoadYAMLErrors(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		sentinel error
		key      string
		line     int
		fix      string // substring of the fix
	}{
		{"unknown top key", "kafak:\n  group: g\n", ErrUnknownKey, "kafak", 1, `did you mean "kafka"?`},
		{"unknown nested key", "kafka:\n  sasl:\n    mechansim: PLAIN\n", ErrUnknownKey, "kafka.sasl.mechansim", 3, `"mechanism"`},
		{"unknown key in a destination", "destinations:\n  - name: a\n  - name: b\n    batch:\n      linger_ms: 5\n",
			ErrUnknownKey, "destinations[1].batch.linger_ms", 5, `"linger"`},
		{"unknown key far from any", "zzzzzzzzz: 1\n", ErrUnknownKey, "zzzzzzzzz", 1, "valid keys here: destinations, graph, kafka"},
		{"x- keys only at top", "kafka:\n  x-note: hi\n", ErrUnknownKey, "kafka.x-note", 2, ""},
		{"duration without unit", "destinations:\n  - batch:\n      linger: 250\n", ErrInvalidValue, "destinations[0].batch.linger", 3, "duration"},
		{"integer as text", "kafka:\n  max_in_flight_records: many\n", ErrInvalidValue, "kafka.max_in_flight_records", 2, "whole number"},
		{"boolean as text", "kafka:\n  tls:\n    enabled: sure\n", ErrInvalidValue, "kafka.tls.enabled", 3, "true or false"},
		{"section as scalar", "graph: fast\n", ErrInvalidValue, "graph", 1, "mapping"},
		{"destinations as mapping", "destinations:\n  name: a\n", ErrInvalidValue, "destinations", 2, "sequence"},
		{"repeated key", "log_level: info\nlog_level: debug\n", ErrConflict, "log_level", 2, ""},
		{"secret and its file", "destinations:\n  - access_token: x\n    access_token_file: /run/t\n", ErrConflict,
			"destinations[0].access_token", 2, "access_token_file"},
		{"sasl password and its file", "kafka:\n  sasl:\n    password: x\n    password_file: /f\n", ErrConflict,
			"kafka.sasl.password", 3, "password_file"},
		{"syntax", "kafka:\n  brokers: [a\n", ErrSyntax, "", 2, "indentation"},
		{"input formats as a list", "kafka:\n  input_formats: [app]\n", ErrInvalidValue, "kafka.input_formats", 2, "mapping"},
		{"input formats entry without value", "kafka:\n  input_formats:\n    app:\n", ErrInvalidValue, "kafka.input_formats.app", 3, "key=value"},
		{"input formats entry nested", "kafka:\n  input_formats:\n    app: {format: json}\n", ErrInvalidValue, "kafka.input_formats.app", 3, "mapping"},
		{"input formats repeated topic", "kafka:\n  input_formats:\n    app: json\n    app: avro-schema\n", ErrConflict, "kafka.input_formats.app", 4, ""},
		{"input formats string without =", "kafka:\n  input_formats: \"app avro-schema\"\n", ErrInvalidValue, "kafka.input_formats", 2, "key=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.yaml, nil)
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			les := loadErrors(t, err)
			if len(les) != 1 {
				t.Fatalf("got %d errors, want 1: %v", len(les), err)
			}
			le := les[0]
			if le.Key != tt.key || le.Line != tt.line || !strings.Contains(le.Fix, tt.fix) || le.File == "" {
				t.Fatalf("got key %q line %d fix %q file %q, want key %q line %d fix ~%q",
					le.Key, le.Line, le.Fix, le.File, tt.key, tt.line, tt.fix)
			}
			if tt.key != "" && !strings.Contains(err.Error(), tt.key) {
				t.Errorf("message %q does not name the key", err)
			}
		})
	}
}

func TestLoadYAMLReportsAllErrors(t *testing.T) {
	_, err := loadYAML(t, "kafak: {}\ngraf: {}\ndestinations:\n  - pixel: 1\n", nil)
	var keys []string
	for _, le := range loadErrors(t, err) {
		keys = append(keys, le.Key)
	}
	if want := []string{"kafak", "graf", "destinations[0].pixel"}; !slices.Equal(keys, want) {
		t.Fatalf("keys = %q, want %q", keys, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("/nonexistent/capi.yaml", nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "/nonexistent/capi.yaml") {
		t.Fatalf("err = %v", err)
	}
}

func TestYAMLErrorsNeverEchoSecrets(t *testing.T) {
	for _, doc := range []string{
		"destinations:\n  - access_token: [supersecretvalue]\n",
		"destinations:\n  - app_secret: {supersecretvalue: 1}\n",
		"kafka:\n  sasl:\n    password: [supersecretvalue]\n",
	} {
		_, err := loadYAML(t, doc, nil)
		if err == nil || !errors.Is(err, ErrInvalidValue) {
			t.Fatalf("%q: err = %v", doc, err)
		}
		if strings.Contains(err.Error(), "supersecretvalue") {
			t.Fatalf("error leaks the secret: %v", err)
		}
	}
}

func TestSecretFiles(t *testing.T) {
	tokenFile := writeFile(t, "token", "file-token\n")
	passFile := writeFile(t, "pass", "file-pass\r\n")
	tests := []struct {
		name      string
		yaml      string
		env       map[string]string
		wantToken string
		wantFile  string
		wantErr   error
		wantKey   string
	}{
		{name: "file key in YAML", yaml: "destinations:\n  - access_token_file: " + tokenFile + "\n",
			wantToken: "file-token", wantFile: tokenFile},
		{name: "file from env", env: map[string]string{"CAPI_ACCESS_TOKEN_FILE": tokenFile},
			wantToken: "file-token", wantFile: tokenFile},
		{name: "env file replaces YAML secret", yaml: "destinations:\n  - access_token: yaml-token\n",
			env: map[string]string{"CAPI_ACCESS_TOKEN_FILE": tokenFile}, wantToken: "file-token", wantFile: tokenFile},
		{name: "env secret replaces YAML file", yaml: "destinations:\n  - access_token_file: /does/not/exist\n",
			env: map[string]string{"CAPI_ACCESS_TOKEN": "env-token"}, wantToken: "env-token"},
		{name: "both in env", env: map[string]string{"CAPI_ACCESS_TOKEN": "t", "CAPI_ACCESS_TOKEN_FILE": tokenFile},
			wantErr: ErrConflict, wantKey: "destinations[0].access_token"},
		{name: "missing file", env: map[string]string{"CAPI_ACCESS_TOKEN_FILE": "/does/not/exist"},
			wantErr: ErrSecretFile, wantKey: "destinations[0].access_token_file"},
		{name: "oversized file", env: map[string]string{"CAPI_ACCESS_TOKEN_FILE": writeFile(t, "big", strings.Repeat("x", maxSecretFileSize+1))},
			wantErr: ErrSecretFile, wantKey: "destinations[0].access_token_file"},
		{name: "named destination file", yaml: "destinations:\n  - name: a\n  - name: b\n",
			env: map[string]string{"CAPI_DEST_B_ACCESS_TOKEN_FILE": tokenFile}, wantToken: "file-token", wantFile: tokenFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			var err error
			if tt.yaml != "" {
				c, err = loadYAML(t, tt.yaml, tt.env)
			} else {
				c, err = Load("", envOf(tt.env))
			}
			if tt.wantErr != nil {
				les := loadErrors(t, err)
				if !errors.Is(err, tt.wantErr) || len(les) != 1 || les[0].Key != tt.wantKey {
					t.Fatalf("err = %v, want %v on %s", err, tt.wantErr, tt.wantKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := c.Destinations[len(c.Destinations)-1]
			if d.AccessToken.Reveal() != tt.wantToken || d.AccessTokenFile != tt.wantFile {
				t.Fatalf("token %q file %q, want %q %q", d.AccessToken.Reveal(), d.AccessTokenFile, tt.wantToken, tt.wantFile)
			}
		})
	}

	t.Run("passwords", func(t *testing.T) {
		c, err := Load("", envOf(map[string]string{
			"CAPI_KAFKA_SASL_PASSWORD_FILE":      passFile,
			"CAPI_SCHEMA_REGISTRY_PASSWORD_FILE": passFile,
			"CAPI_APP_SECRET_FILE":               tokenFile,
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Kafka.SASL.Password != "file-pass" || c.Kafka.SchemaRegistry.Password != "file-pass" || c.Destinations[0].AppSecret != "file-token" {
			t.Fatalf("got sasl %q registry %q app secret %q", c.Kafka.SASL.Password.Reveal(),
				c.Kafka.SchemaRegistry.Password.Reveal(), c.Destinations[0].AppSecret.Reveal())
		}
	})
}

func TestExampleFile(t *testing.T) {
	const path = "example.yaml"
	c, err := Load(path, envOf(map[string]string{"CAPI_ACCESS_TOKEN": "example-token"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}

	// The example shows the defaults.
	want := Default()
	d := DefaultDestination()
	d.PixelID, d.AccessToken = "1234567890", "example-token"
	d.Events = EventFilter{Include: []string{}, Exclude: []string{}}
	want.Destinations = []Destination{d}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("example.yaml differs from the defaults:\n got %+v\nwant %+v", c, want)
	}

	// It lists every key…
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.DocumentNode:
			walk(n.Content[0], prefix)
		case yaml.SequenceNode:
			for _, item := range n.Content {
				if item.Kind == yaml.MappingNode {
					walk(item, strings.TrimSuffix(prefix, ".")+"[].")
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := prefix + n.Content[i].Value
				present[k] = true
				walk(n.Content[i+1], k+".")
			}
		}
	}
	walk(&root, "")
	for _, k := range leafKeys(reflect.TypeFor[Config](), "") {
		if !present[k] {
			t.Errorf("example.yaml lacks key %s", k)
		}
	}
	// …and documents every environment variable.
	for _, name := range KnownEnv() {
		if !strings.Contains(string(raw), name) {
			t.Errorf("example.yaml does not mention %s", name)
		}
	}
}
