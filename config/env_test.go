package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// envKey maps a KnownEnv name to the key path it sets and whether that path is inside destinations[0].
func envKey(t *testing.T, name string) (key string, dest bool) {
	t.Helper()
	if name == envDestinationName {
		return "name", true
	}
	for _, b := range globalBindings() {
		if b.env == name {
			return b.key, false
		}
	}
	for _, b := range destBindings() {
		if EnvPrefix+b.env == name {
			return b.key, true
		}
	}
	t.Fatalf("%s has no binding", name)
	return "", false
}

func fieldOf(t *testing.T, c *Config, key string, dest bool) reflect.Value {
	t.Helper()
	root := reflect.ValueOf(c).Elem()
	if dest {
		if len(c.Destinations) != 1 {
			t.Fatalf("want 1 destination, got %d", len(c.Destinations))
		}
		root = reflect.ValueOf(&c.Destinations[0]).Elem()
	}
	f, err := fieldByPath(root, key)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func isSecretFileKey(key string) bool {
	for _, p := range slices.Concat(globalSecretPairs(), destSecretPairs()) {
		if p[1] == key {
			return true
		}
	}
	return false
}

// TestEveryKnownEnvChangesConfig is generated from KnownEnv: each variable, set alone to a value different from the
// default, must change exactly the key it is bound to (and, for *_FILE, the secret it points at).
func TestEveryKnownEnvChangesConfig(t *testing.T) {
	defDest := DefaultDestination()
	for _, name := range KnownEnv() {
		t.Run(name, func(t *testing.T) {
			key, dest := envKey(t, name)
			base := Default()
			if dest {
				base.Destinations = []Destination{defDest}
			}
			old := fieldOf(t, &base, key, dest)

			var raw string
			want := reflect.New(old.Type()).Elem()
			var secretWant, secretKey string
			switch {
			case old.Type() == durationType:
				d := time.Duration(old.Int()) + 7*time.Second
				raw = d.String()
				want.SetInt(int64(d))
			case old.Kind() == reflect.Int:
				raw = fmt.Sprint(old.Int() + 7)
				want.SetInt(old.Int() + 7)
			case old.Kind() == reflect.Bool:
				raw = fmt.Sprint(!old.Bool())
				want.SetBool(!old.Bool())
			case old.Kind() == reflect.Slice:
				raw = " a, b ,,"
				want.Set(reflect.ValueOf([]string{"a", "b"}))
			case old.Kind() == reflect.Map:
				raw = " a=json, b = avro-schema ,,"
				want.Set(reflect.ValueOf(map[string]string{"a": "json", "b": "avro-schema"}))
			case isSecretFileKey(key):
				secretWant = "secret-of-" + name
				raw = writeFile(t, "secret", secretWant+"\n")
				want.SetString(raw)
				secretKey = strings.TrimSuffix(key, "_file")
			default:
				raw = "value-" + strings.ToLower(name)
				want.SetString(raw)
			}

			c, err := Load("", envOf(map[string]string{name: raw}))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := fieldOf(t, &c, key, dest)
			if !reflect.DeepEqual(got.Interface(), want.Interface()) {
				t.Fatalf("%s=%q: %s = %#v, want %#v", name, raw, key, got.Interface(), want.Interface())
			}
			if reflect.DeepEqual(got.Interface(), old.Interface()) {
				t.Fatalf("%s did not change %s from its default", name, key)
			}
			if secretKey != "" {
				if s := fieldOf(t, &c, secretKey, dest).Interface().(Secret); s.Reveal() != secretWant {
					t.Fatalf("%s: secret %s = %q, want the file content %q", name, secretKey, s.Reveal(), secretWant)
				}
			}
			// Nothing else changed.
			f := fieldOf(t, &c, key, dest)
			f.Set(old)
			if secretKey != "" {
				fieldOf(t, &c, secretKey, dest).SetString("")
			}
			if !reflect.DeepEqual(c, base) {
				t.Fatalf("%s changed more than %s:\n got %+v\nwant %+v", name, key, c, base)
			}
		})
	}
}

// Every YAML key must be reachable from the environment.
func TestEveryKeyHasAnEnvVariable(t *testing.T) {
	bound := map[string]bool{"destinations[].name": true}
	for _, b := range globalBindings() {
		bound[b.key] = true
	}
	for _, b := range destBindings() {
		bound["destinations[]."+b.key] = true
	}
	for _, k := range leafKeys(reflect.TypeFor[Config](), "") {
		if !bound[k] {
			t.Errorf("key %s has no environment variable", k)
		}
		delete(bound, k)
	}
	for k := range bound {
		t.Errorf("binding for %s names no key", k)
	}
}

func TestKnownEnv(t *testing.T) {
	known := KnownEnv()
	if !slices.IsSorted(known) {
		t.Error("KnownEnv is not sorted")
	}
	if len(slices.Compact(slices.Clone(known))) != len(known) {
		t.Error("KnownEnv has duplicates")
	}
	for _, must := range []string{"CAPI_KAFKA_BROKERS", "CAPI_KAFKA_TOPIC", "CAPI_ACCESS_TOKEN", "CAPI_ACCESS_TOKEN_FILE",
		"CAPI_APP_SECRET_FILE", "CAPI_KAFKA_SASL_PASSWORD_FILE", "CAPI_SCHEMA_REGISTRY_PASSWORD_FILE", "CAPI_DLQ_TOPIC",
		"CAPI_MAX_IN_FLIGHT_RECORDS", "CAPI_DESTINATION_NAME", "CAPI_LDU_STATE", "CAPI_BREAKER_OPEN_TIMEOUT"} {
		if !slices.Contains(known, must) {
			t.Errorf("KnownEnv lacks %s", must)
		}
	}
	for _, name := range known {
		if !strings.HasPrefix(name, EnvPrefix) {
			t.Errorf("%s lacks the CAPI_ prefix", name)
		}
	}
}

func TestIsKnownEnv(t *testing.T) {
	for name, want := range map[string]bool{
		"CAPI_PIXEL_ID":                   true,
		"CAPI_DEST_SHOP_FR_ACCESS_TOKEN":  true,
		"CAPI_DEST_X_ACCESS_TOKEN_FILE":   true,
		"CAPI_DEST_A_B_WINDOW_MAX_AGE":    true,
		"CAPI_DEST__PIXEL_ID":             false, // no valid name maps to an empty NAME
		"CAPI_DEST_PIXEL_ID":              false,
		"CAPI_DEST_SHOP_FR_ACESS_TOKEN":   false,
		"CAPI_PIXELID":                    false,
		"CAPI_KAFKA_TOPICS":               false, // the variable is CAPI_KAFKA_TOPIC
		"HOME":                            false,
		"CAPI_DEST_SHOP_FR_KAFKA_BROKERS": false,
	} {
		if got := IsKnownEnv(name); got != want {
			t.Errorf("IsKnownEnv(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestDestinationEnvPrefix(t *testing.T) {
	for name, want := range map[string]string{
		"shop-fr":  "CAPI_DEST_SHOP_FR_",
		"Shop.FR":  "CAPI_DEST_SHOP_FR_",
		"default":  "CAPI_DEST_DEFAULT_",
		"pixel 42": "CAPI_DEST_PIXEL_42_",
		"été":      "CAPI_DEST__T__",
	} {
		if got := DestinationEnvPrefix(name); got != want {
			t.Errorf("DestinationEnvPrefix(%q) = %q, want %q", name, got, want)
		}
	}
}

// Hand-written rows: typed parsing of each value kind, beyond the generated test.
func TestEnvValues(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"brokers list", map[string]string{"CAPI_KAFKA_BROKERS": "k1:9092, k2:9093"}, func(t *testing.T, c Config) {
			if !slices.Equal(c.Kafka.Brokers, []string{"k1:9092", "k2:9093"}) {
				t.Errorf("brokers = %q", c.Kafka.Brokers)
			}
		}},
		{"several topics", map[string]string{"CAPI_KAFKA_TOPIC": "web,store"}, func(t *testing.T, c Config) {
			if !slices.Equal(c.Kafka.Topics, []string{"web", "store"}) {
				t.Errorf("topics = %q", c.Kafka.Topics)
			}
		}},
		{"empty metrics addr disables", map[string]string{"CAPI_METRICS_ADDR": ""}, func(t *testing.T, c Config) {
			if c.MetricsAddr != "" {
				t.Errorf("metrics_addr = %q", c.MetricsAddr)
			}
		}},
		{"durations", map[string]string{"CAPI_BATCH_LINGER": "0s", "CAPI_RETRY_MAX_BACKOFF": "1m30s", "CAPI_PIXEL_ID": "1"},
			func(t *testing.T, c Config) {
				if b := c.Destinations[0]; b.Batch.Linger != 0 || b.Retry.MaxBackoff != 90*time.Second {
					t.Errorf("linger %s max_backoff %s", b.Batch.Linger, b.Retry.MaxBackoff)
				}
			}},
		{"bool and ints", map[string]string{"CAPI_LDU_ENABLED": "1", "CAPI_LDU_STATE": "1000", "CAPI_KAFKA_TLS_ENABLED": "TRUE"},
			func(t *testing.T, c Config) {
				if l := c.Destinations[0].LDU; !l.Enabled || l.State != 1000 || !c.Kafka.TLS.Enabled {
					t.Errorf("ldu %+v tls %v", l, c.Kafka.TLS.Enabled)
				}
			}},
		{"secret keeps inner spaces, drops newline", map[string]string{"CAPI_ACCESS_TOKEN": " a b\n"}, func(t *testing.T, c Config) {
			if got := c.Destinations[0].AccessToken.Reveal(); got != " a b" {
				t.Errorf("token = %q", got)
			}
		}},
		{"input formats per topic", map[string]string{"CAPI_INPUT_FORMATS": "app=avro-confluent, web = json"}, func(t *testing.T, c Config) {
			if want := map[string]string{"app": "avro-confluent", "web": "json"}; !maps.Equal(c.Kafka.InputFormats, want) {
				t.Errorf("input_formats = %v, want %v", c.Kafka.InputFormats, want)
			}
			if c.Kafka.TopicFormat("app") != FormatAvroConfluent || c.Kafka.TopicFormat("other") != FormatJSON {
				t.Errorf("TopicFormat app=%q other=%q", c.Kafka.TopicFormat("app"), c.Kafka.TopicFormat("other"))
			}
		}},
		{"empty input formats clears", map[string]string{"CAPI_INPUT_FORMATS": ""}, func(t *testing.T, c Config) {
			if c.Kafka.InputFormats == nil || len(c.Kafka.InputFormats) != 0 {
				t.Errorf("input_formats = %#v, want an empty map", c.Kafka.InputFormats)
			}
		}},
		{"oauthbearer", map[string]string{"CAPI_KAFKA_SASL_MECHANISM": "OAUTHBEARER",
			"CAPI_KAFKA_SASL_OAUTH_TOKEN_URL": "https://idp/token", "CAPI_KAFKA_SASL_OAUTH_CLIENT_ID": "capi",
			"CAPI_KAFKA_SASL_OAUTH_CLIENT_SECRET": "s3cret\n", "CAPI_KAFKA_SASL_OAUTH_SCOPE": "kafka offline",
			"CAPI_KAFKA_SASL_OAUTH_EXTENSIONS": "logicalCluster=lkc-1, identityPoolId=pool-2", "CAPI_KAFKA_SASL_AWS_REGION": "eu-west-1"},
			func(t *testing.T, c Config) {
				o := c.Kafka.SASL.OAuth
				if c.Kafka.SASL.Mechanism != SASLOAuthBearer || o.TokenURL != "https://idp/token" || o.ClientID != "capi" ||
					o.ClientSecret.Reveal() != "s3cret" || o.Scope != "kafka offline" || c.Kafka.SASL.AWS.Region != "eu-west-1" {
					t.Errorf("sasl = %+v", c.Kafka.SASL)
				}
				if want := map[string]string{"logicalCluster": "lkc-1", "identityPoolId": "pool-2"}; !maps.Equal(o.Extensions, want) {
					t.Errorf("extensions = %v, want %v", o.Extensions, want)
				}
			}},
		{"plain strings are trimmed", map[string]string{"CAPI_KAFKA_GROUP": " g \n"}, func(t *testing.T, c Config) {
			if c.Kafka.Group != "g" {
				t.Errorf("group = %q", c.Kafka.Group)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("", envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestEnvInvalidValues(t *testing.T) {
	tests := []struct{ env, value, key string }{
		{"CAPI_KAFKA_SESSION_TIMEOUT", "45", "kafka.session_timeout"},
		{"CAPI_MAX_IN_FLIGHT_RECORDS", "lots", "kafka.max_in_flight_records"},
		{"CAPI_KAFKA_TLS_ENABLED", "yes please", "kafka.tls.enabled"},
		{"CAPI_BATCH_MAX_EVENTS", "1e3", "destinations[0].batch.max_events"},
		{"CAPI_SHUTDOWN_TIMEOUT", "", "shutdown_timeout"},
		{"CAPI_INPUT_FORMATS", "app:avro-confluent", "kafka.input_formats"},
		{"CAPI_INPUT_FORMATS", "app=", "kafka.input_formats"},
		{"CAPI_INPUT_FORMATS", "=json", "kafka.input_formats"},
		{"CAPI_INPUT_FORMATS", "app=json,app=avro-confluent", "kafka.input_formats"},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			_, err := Load("", envOf(map[string]string{tt.env: tt.value}))
			if !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("err = %v, want ErrInvalidValue", err)
			}
			les := loadErrors(t, err)
			if len(les) != 1 || les[0].Env != tt.env || les[0].Key != tt.key || les[0].Fix == "" {
				t.Fatalf("got %+v, want one error naming %s and %s with a fix", les, tt.env, tt.key)
			}
			if !strings.Contains(err.Error(), tt.env) {
				t.Errorf("message %q does not name the variable", err)
			}
		})
	}
}

func TestEnvReportsAllErrors(t *testing.T) {
	_, err := Load("", envOf(map[string]string{"CAPI_KAFKA_SESSION_TIMEOUT": "x", "CAPI_LDU_COUNTRY": "y"}))
	if got := len(loadErrors(t, err)); got != 2 {
		t.Fatalf("got %d errors, want 2: %v", got, err)
	}
}

const twoDestinations = `
destinations:
  - name: shop-fr
    pixel_id: "111"
  - name: de
    pixel_id: "222"
    access_token: from-file-de
`

func TestSingleDestinationEnv(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		env       map[string]string
		wantNames []string
		check     func(t *testing.T, c Config)
	}{
		{
			name:      "none in file: env creates default",
			env:       map[string]string{"CAPI_PIXEL_ID": "42", "CAPI_ACCESS_TOKEN": "tok"},
			wantNames: []string{"default"},
			check: func(t *testing.T, c Config) {
				want := DefaultDestination()
				want.PixelID, want.AccessToken = "42", "tok"
				if !reflect.DeepEqual(c.Destinations[0], want) {
					t.Errorf("got %+v, want defaults plus env", c.Destinations[0])
				}
			},
		},
		{
			name:      "none in file: CAPI_DESTINATION_NAME names it",
			env:       map[string]string{"CAPI_DESTINATION_NAME": "shop", "CAPI_PIXEL_ID": "42"},
			wantNames: []string{"shop"},
		},
		{
			name:      "nothing anywhere: no destination",
			env:       map[string]string{},
			wantNames: nil,
		},
		{
			name:      "one in file: env overrides and renames",
			yaml:      "destinations:\n  - name: a\n    pixel_id: \"1\"\n    consent_category: \"7\"\n",
			env:       map[string]string{"CAPI_PIXEL_ID": "2", "CAPI_DESTINATION_NAME": "b"},
			wantNames: []string{"b"},
			check: func(t *testing.T, c Config) {
				if d := c.Destinations[0]; d.PixelID != "2" || d.ConsentCategory != "7" {
					t.Errorf("got %+v", d)
				}
			},
		},
		{
			name:      "one in file: named variable wins over single",
			yaml:      "destinations:\n  - name: shop-fr\n",
			env:       map[string]string{"CAPI_PIXEL_ID": "2", "CAPI_DEST_SHOP_FR_PIXEL_ID": "3"},
			wantNames: []string{"shop-fr"},
			check: func(t *testing.T, c Config) {
				if c.Destinations[0].PixelID != "3" {
					t.Errorf("pixel = %q", c.Destinations[0].PixelID)
				}
			},
		},
		{
			name: "several in file: named variables",
			yaml: twoDestinations,
			env: map[string]string{
				"CAPI_DEST_SHOP_FR_ACCESS_TOKEN":   "tok-fr",
				"CAPI_DEST_SHOP_FR_EVENTS_INCLUDE": "purchase,lead",
				"CAPI_DEST_DE_BATCH_MAX_EVENTS":    "10",
				"CAPI_DEST_DE_ACCESS_TOKEN_FILE":   "", // empty: does not clear the file's token
			},
			wantNames: []string{"shop-fr", "de"},
			check: func(t *testing.T, c Config) {
				fr, de := c.Destinations[0], c.Destinations[1]
				if fr.AccessToken.Reveal() != "tok-fr" || !slices.Equal(fr.Events.Include, []string{"purchase", "lead"}) {
					t.Errorf("shop-fr = %+v", fr)
				}
				if de.Batch.MaxEvents != 10 || de.AccessToken.Reveal() != "from-file-de" || fr.Batch.MaxEvents != 1000 {
					t.Errorf("de = %+v", de)
				}
				if err := c.Validate(); err != nil {
					t.Errorf("Validate: %v", err)
				}
			},
		},
		{
			name:      "several in file: single variables apply to none and Validate says so",
			yaml:      twoDestinations,
			env:       map[string]string{"CAPI_PIXEL_ID": "9", "CAPI_ACCESS_TOKEN": "tok", "CAPI_DEST_SHOP_FR_ACCESS_TOKEN": "t"},
			wantNames: []string{"shop-fr", "de"},
			check: func(t *testing.T, c Config) {
				if c.Destinations[0].PixelID != "111" || c.Destinations[1].PixelID != "222" {
					t.Errorf("single variables were applied: %+v", c.Destinations)
				}
				var ve *ValidationError
				if err := c.Validate(); !errors.As(err, &ve) {
					t.Fatalf("Validate = %v, want a ValidationError", err)
				}
				if got := problemKeys(ve.Problems); !slices.Equal(got, []string{"CAPI_ACCESS_TOKEN", "CAPI_PIXEL_ID"}) {
					t.Errorf("problem keys = %q", got)
				}
				if !strings.Contains(ve.Error(), "CAPI_DEST_<NAME>_PIXEL_ID") {
					t.Errorf("fix does not show the per-destination form: %s", ve)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			if tt.yaml == "" {
				var err error
				if c, err = Load("", envOf(tt.env)); err != nil {
					t.Fatal(err)
				}
			} else {
				c = mustLoadYAML(t, tt.yaml, tt.env)
			}
			var names []string
			for _, d := range c.Destinations {
				names = append(names, d.Name)
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Fatalf("destinations = %q, want %q", names, tt.wantNames)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestNamedDestinationEnvError(t *testing.T) {
	_, err := loadYAML(t, twoDestinations, map[string]string{"CAPI_DEST_DE_BATCH_LINGER": "soon"})
	les := loadErrors(t, err)
	if len(les) != 1 || les[0].Env != "CAPI_DEST_DE_BATCH_LINGER" || les[0].Key != "destinations[1].batch.linger" {
		t.Fatalf("got %v", err)
	}
}
