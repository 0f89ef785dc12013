package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidConfigPasses(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Fatalf("warnings: %v", w)
	}
}

// One row per check: the mutation breaks exactly the listed keys (problems), and raises exactly the listed warnings.
func TestValidate(t *testing.T) {
	dir := t.TempDir()
	existing := writeFile(t, "exists.pem", "x")
	second := func(c *Config, name string) *Destination {
		d := DefaultDestination()
		d.Name, d.PixelID, d.AccessToken = name, "42", "tok"
		c.Destinations = append(c.Destinations, d)
		return &c.Destinations[len(c.Destinations)-1]
	}
	tests := []struct {
		name     string
		mutate   func(c *Config)
		problems []string
		warnings []string
	}{
		{"no brokers", func(c *Config) { c.Kafka.Brokers = nil }, []string{"kafka.brokers"}, nil},
		{"broker without port", func(c *Config) { c.Kafka.Brokers = []string{"k:9092", "kafka"} }, []string{"kafka.brokers[1]"}, nil},
		{"no topics", func(c *Config) { c.Kafka.Topics = nil }, []string{"kafka.topics"}, nil},
		{"repeated topic", func(c *Config) { c.Kafka.Topics = []string{"a", "a"} }, []string{"kafka.topics[1]"}, nil},
		{"blank topic", func(c *Config) { c.Kafka.Topics = []string{""} }, []string{"kafka.topics[0]"}, nil},
		{"no group", func(c *Config) { c.Kafka.Group = "" }, []string{"kafka.group"}, nil},
		{"no dlq topic", func(c *Config) { c.Kafka.DLQTopic = "" }, []string{"kafka.dlq_topic"}, nil},
		{"dlq is a source topic", func(c *Config) { c.Kafka.Topics = []string{"a", "events.dlq"} }, []string{"kafka.dlq_topic"}, nil},
		{"start offset", func(c *Config) { c.Kafka.StartOffset = "newest" }, []string{"kafka.start_offset"}, nil},
		{"client id", func(c *Config) { c.Kafka.ClientID = "" }, []string{"kafka.client_id"}, nil},
		{"session timeout", func(c *Config) { c.Kafka.SessionTimeout = 0 }, []string{"kafka.session_timeout"}, nil},
		{"max in flight records", func(c *Config) { c.Kafka.MaxInFlightRecords = 0 }, []string{"kafka.max_in_flight_records"}, nil},
		{"fetch max bytes", func(c *Config) { c.Kafka.FetchMaxBytes = -1 }, []string{"kafka.fetch_max_bytes"}, nil},
		{"input format", func(c *Config) { c.Kafka.InputFormat = "avro" }, []string{"kafka.input_format"}, nil},
		{"avro-schema needs a file", func(c *Config) { c.Kafka.InputFormat = FormatAvroSchema }, []string{"kafka.schema_file"}, nil},
		{"avro-schema file missing", func(c *Config) {
			c.Kafka.InputFormat, c.Kafka.SchemaFile = FormatAvroSchema, dir+"/none.avsc"
		}, []string{"kafka.schema_file"}, nil},
		{"avro-schema file is a directory", func(c *Config) {
			c.Kafka.InputFormat, c.Kafka.SchemaFile = FormatAvroSchema, dir
		}, []string{"kafka.schema_file"}, nil},
		{"avro-schema ok", func(c *Config) { c.Kafka.InputFormat, c.Kafka.SchemaFile = FormatAvroSchema, existing }, nil, nil},
		{"avro-confluent needs a registry", func(c *Config) { c.Kafka.InputFormat = FormatAvroConfluent }, []string{"kafka.schema_registry.url"}, nil},
		{"per-topic formats ok", func(c *Config) {
			c.Kafka.Topics = []string{"web", "app", "store"}
			c.Kafka.InputFormats = map[string]string{"app": FormatAvroConfluent, "store": FormatAvroSchema, "web": FormatJSON}
			c.Kafka.SchemaRegistry.URL, c.Kafka.SchemaFile = "https://registry:8081", existing
		}, nil, nil},
		{"per-topic format for a topic not consumed", func(c *Config) {
			c.Kafka.InputFormats = map[string]string{"events.dlq": FormatJSON, "other": FormatJSON}
		}, []string{"kafka.input_formats.events.dlq", "kafka.input_formats.other"}, nil},
		{"per-topic format unknown", func(c *Config) { c.Kafka.InputFormats = map[string]string{"events": "avro"} },
			[]string{"kafka.input_formats.events"}, nil},
		{"per-topic avro-confluent needs a registry", func(c *Config) {
			c.Kafka.InputFormats = map[string]string{"events": FormatAvroConfluent}
		}, []string{"kafka.schema_registry.url"}, nil},
		{"per-topic avro-schema needs a file", func(c *Config) {
			c.Kafka.InputFormats = map[string]string{"events": FormatAvroSchema}
		}, []string{"kafka.schema_file"}, nil},
		{"default format's needs apply even when every topic is overridden", func(c *Config) {
			c.Kafka.InputFormat = FormatAvroConfluent
			c.Kafka.InputFormats = map[string]string{"events": FormatJSON}
		}, []string{"kafka.schema_registry.url"}, nil},
		{"registry url not absolute", func(c *Config) {
			c.Kafka.InputFormat, c.Kafka.SchemaRegistry.URL = FormatAvroConfluent, "registry:8081"
		}, []string{"kafka.schema_registry.url"}, nil},
		{"registry tls with http", func(c *Config) {
			c.Kafka.SchemaRegistry.URL, c.Kafka.SchemaRegistry.TLS.Enabled = "http://r:8081", true
		}, []string{"kafka.schema_registry.tls.enabled"}, nil},
		{"registry password without username", func(c *Config) {
			c.Kafka.SchemaRegistry.URL, c.Kafka.SchemaRegistry.Password = "https://r", "p"
		}, []string{"kafka.schema_registry.username"}, nil},
		{"registry ca missing", func(c *Config) { c.Kafka.SchemaRegistry.TLS.CAFile = dir + "/none.pem" },
			[]string{"kafka.schema_registry.tls.ca_file"}, nil},
		{"tls ca missing", func(c *Config) { c.Kafka.TLS = TLS{Enabled: true, CAFile: dir + "/none.pem"} }, []string{"kafka.tls.ca_file"}, nil},
		{"tls cert without key", func(c *Config) { c.Kafka.TLS = TLS{Enabled: true, CertFile: existing} }, []string{"kafka.tls.key_file"}, nil},
		{"tls key without cert", func(c *Config) { c.Kafka.TLS = TLS{Enabled: true, KeyFile: existing} }, []string{"kafka.tls.cert_file"}, nil},
		{"tls files ok", func(c *Config) {
			c.Kafka.TLS = TLS{Enabled: true, CAFile: existing, CertFile: existing, KeyFile: existing}
		}, nil, nil},
		{"tls settings while disabled", func(c *Config) { c.Kafka.TLS.CAFile = existing }, []string{"kafka.tls.enabled"}, nil},
		{"insecure skip verify is a warning", func(c *Config) { c.Kafka.TLS = TLS{Enabled: true, InsecureSkipVerify: true} },
			nil, []string{"kafka.tls.insecure_skip_verify"}},
		{"sasl mechanism", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: "GSSAPI"} }, []string{"kafka.sasl.mechanism"}, nil},
		{"sasl lower case", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: "plain", Username: "u", Password: "p"} },
			[]string{"kafka.sasl.mechanism"}, nil},
		{"sasl needs credentials", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: SASLScramSHA256} },
			[]string{"kafka.sasl.username", "kafka.sasl.password"}, nil},
		{"sasl credentials without mechanism", func(c *Config) { c.Kafka.SASL = SASL{Username: "u", Password: "p"} },
			[]string{"kafka.sasl.mechanism"}, nil},
		{"sasl plain without tls is a warning", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: SASLPlain, Username: "u", Password: "p"} },
			nil, []string{"kafka.sasl.mechanism"}},
		{"oauthbearer complete over tls", func(c *Config) {
			c.Kafka.TLS.Enabled = true
			c.Kafka.SASL = SASL{Mechanism: SASLOAuthBearer, OAuth: OAuth{TokenURL: "https://idp.example.com/token", ClientID: "capi",
				ClientSecret: "s", Scope: "kafka", Extensions: map[string]string{"logicalCluster": "lkc-1"}}}
		}, nil, nil},
		{"oauthbearer needs url, client id and secret", func(c *Config) {
			c.Kafka.TLS.Enabled = true
			c.Kafka.SASL = SASL{Mechanism: SASLOAuthBearer}
		}, []string{"kafka.sasl.oauth.token_url", "kafka.sasl.oauth.client_id", "kafka.sasl.oauth.client_secret"}, nil},
		{"oauthbearer http token url on loopback is a warning", func(c *Config) {
			c.Kafka.TLS.Enabled = true
			c.Kafka.SASL = SASL{Mechanism: SASLOAuthBearer, OAuth: OAuth{TokenURL: "http://127.0.0.1:8080/token", ClientID: "capi", ClientSecret: "s"}}
		}, nil, []string{"kafka.sasl.oauth.token_url"}},
		{"oauthbearer http token url elsewhere", func(c *Config) {
			c.Kafka.TLS.Enabled = true
			c.Kafka.SASL = SASL{Mechanism: SASLOAuthBearer, OAuth: OAuth{TokenURL: "http://idp.example.com/token", ClientID: "capi", ClientSecret: "s"}}
		}, []string{"kafka.sasl.oauth.token_url"}, nil},
		{"oauthbearer without tls is a warning", func(c *Config) {
			c.Kafka.SASL = SASL{Mechanism: SASLOAuthBearer, OAuth: OAuth{TokenURL: "https://idp/token", ClientID: "capi", ClientSecret: "s"}}
		}, nil, []string{"kafka.sasl.mechanism"}},
		{"oauthbearer with a username", func(c *Config) {
			c.Kafka.TLS.Enabled = true
			c.Kafka.SASL = SASL{Mechanism: SASLOAuthBearer, Username: "u", OAuth: OAuth{TokenURL: "https://idp/token", ClientID: "capi", ClientSecret: "s"}}
		}, []string{"kafka.sasl.username"}, nil},
		{"oauthbearer bad extension names", func(c *Config) {
			c.Kafka.TLS.Enabled = true
			c.Kafka.SASL = SASL{Mechanism: SASLOAuthBearer, OAuth: OAuth{TokenURL: "https://idp/token", ClientID: "capi", ClientSecret: "s",
				Extensions: map[string]string{"auth": "x", "pool-id": "y"}}}
		}, []string{"kafka.sasl.oauth.extensions.auth", "kafka.sasl.oauth.extensions.pool-id"}, nil},
		{"oauth settings with scram", func(c *Config) {
			c.Kafka.SASL = SASL{Mechanism: SASLScramSHA512, Username: "u", Password: "p", OAuth: OAuth{ClientID: "capi"}}
		}, []string{"kafka.sasl.oauth"}, nil},
		{"oauth settings without mechanism", func(c *Config) { c.Kafka.SASL = SASL{OAuth: OAuth{TokenURL: "https://idp/token"}} },
			[]string{"kafka.sasl.mechanism"}, nil},
		{"aws msk iam over tls", func(c *Config) {
			c.Kafka.TLS.Enabled = true
			c.Kafka.SASL = SASL{Mechanism: SASLAWSMSKIAM, AWS: AWSIAM{Region: "eu-west-1"}}
		}, nil, nil},
		{"aws msk iam needs tls and no password", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: SASLAWSMSKIAM, Password: "p"} },
			[]string{"kafka.sasl.mechanism", "kafka.tls.enabled"}, nil},
		{"graph url", func(c *Config) { c.Graph.URL = "graph.facebook.com" }, []string{"graph.url"}, nil},
		{"graph url scheme", func(c *Config) { c.Graph.URL = "ftp://graph.facebook.com" }, []string{"graph.url"}, nil},
		{"graph http is a warning", func(c *Config) { c.Graph.URL = "http://localhost:8080" }, nil, []string{"graph.url"}},
		{"api version", func(c *Config) { c.Graph.APIVersion = "24.0" }, []string{"graph.api_version"}, nil},
		{"request timeout", func(c *Config) { c.Graph.RequestTimeout = 0 }, []string{"graph.request_timeout"}, nil},
		{"no destination", func(c *Config) { c.Destinations = nil }, []string{"destinations"}, nil},
		{"duplicate names", func(c *Config) { second(c, "default") }, []string{"destinations[1].name"}, nil},
		{"names sharing an env prefix", func(c *Config) {
			c.Destinations[0].Name = "shop-fr"
			second(c, "shop_fr")
		}, []string{"destinations[1].name"}, nil},
		{"invalid name", func(c *Config) { c.Destinations[0].Name = "" }, []string{"destinations[0].name"}, nil},
		{"pixel id not digits", func(c *Config) { c.Destinations[0].PixelID = "px-1" }, []string{"destinations[0].pixel_id"}, nil},
		{"pixel id empty", func(c *Config) { c.Destinations[0].PixelID = "" }, []string{"destinations[0].pixel_id"}, nil},
		{"access token empty", func(c *Config) { c.Destinations[0].AccessToken = "" }, []string{"destinations[0].access_token"}, nil},
		{"second destination checked", func(c *Config) { second(c, "b").Batch.MaxEvents = 0 }, []string{"destinations[1].batch.max_events"}, nil},
		{"phone region unknown", func(c *Config) { c.Destinations[0].DefaultPhoneRegion = "XX" }, []string{"destinations[0].default_phone_region"}, nil},
		{"phone region lower case", func(c *Config) { c.Destinations[0].DefaultPhoneRegion = "fr" }, []string{"destinations[0].default_phone_region"}, nil},
		{"phone region ok", func(c *Config) { c.Destinations[0].DefaultPhoneRegion = "FR" }, nil, nil},
		{"test event code is a warning", func(c *Config) { c.Destinations[0].TestEventCode = "TEST123" }, nil, []string{"destinations[0].test_event_code"}},
		{"include and exclude overlap", func(c *Config) {
			c.Destinations[0].Events = EventFilter{Include: []string{"purchase", "lead"}, Exclude: []string{"lead"}}
		}, []string{"destinations[0].events.exclude"}, nil},
		{"include and exclude disjoint", func(c *Config) {
			c.Destinations[0].Events = EventFilter{Include: []string{"purchase"}, Exclude: []string{"lead"}}
		}, nil, nil},
		{"blank event name", func(c *Config) { c.Destinations[0].Events.Include = []string{" "} }, []string{"destinations[0].events.include[0]"}, nil},
		{"ldu country", func(c *Config) { c.Destinations[0].LDU = LDU{Enabled: true, Country: 33} }, []string{"destinations[0].ldu.country"}, nil},
		{"ldu state", func(c *Config) { c.Destinations[0].LDU = LDU{Enabled: true, State: -1} }, []string{"destinations[0].ldu.state"}, nil},
		{"ldu values while disabled is a warning", func(c *Config) { c.Destinations[0].LDU = LDU{Country: 1, State: 1000} },
			nil, []string{"destinations[0].ldu.enabled"}},
		{"min strong keys", func(c *Config) { c.Destinations[0].Matching.MinStrongKeys = -1 }, []string{"destinations[0].matching.min_strong_keys"}, nil},
		{"min other keys", func(c *Config) { c.Destinations[0].Matching.MinOtherKeys = -1 }, []string{"destinations[0].matching.min_other_keys"}, nil},
		{"window max age zero", func(c *Config) { c.Destinations[0].Window.MaxAge = 0 }, []string{"destinations[0].window.max_age"}, nil},
		{"window max age beyond meta", func(c *Config) { c.Destinations[0].Window.MaxAge = 8 * 24 * time.Hour }, []string{"destinations[0].window.max_age"}, nil},
		{"window store age zero", func(c *Config) { c.Destinations[0].Window.MaxAgePhysicalStore = 0 },
			[]string{"destinations[0].window.max_age_physical_store"}, nil},
		{"window store age beyond meta", func(c *Config) { c.Destinations[0].Window.MaxAgePhysicalStore = 63 * 24 * time.Hour },
			[]string{"destinations[0].window.max_age_physical_store"}, nil},
		{"window max future", func(c *Config) { c.Destinations[0].Window.MaxFuture = 0 }, []string{"destinations[0].window.max_future"}, nil},
		{"window safety margin negative", func(c *Config) { c.Destinations[0].Window.SafetyMargin = -time.Second },
			[]string{"destinations[0].window.safety_margin"}, nil},
		{"window safety margin eats max age", func(c *Config) { c.Destinations[0].Window.SafetyMargin = 168 * time.Hour },
			[]string{"destinations[0].window.safety_margin"}, nil},
		{"batch max events zero", func(c *Config) { c.Destinations[0].Batch.MaxEvents = 0 }, []string{"destinations[0].batch.max_events"}, nil},
		{"batch max events over cap", func(c *Config) { c.Destinations[0].Batch.MaxEvents = 1001 }, []string{"destinations[0].batch.max_events"}, nil},
		{"batch max bytes", func(c *Config) { c.Destinations[0].Batch.MaxBytes = 0 }, []string{"destinations[0].batch.max_bytes"}, nil},
		{"batch linger negative", func(c *Config) { c.Destinations[0].Batch.Linger = -time.Millisecond }, []string{"destinations[0].batch.linger"}, nil},
		{"batch linger zero ok", func(c *Config) { c.Destinations[0].Batch.Linger = 0 }, nil, nil},
		{"batch max in flight", func(c *Config) { c.Destinations[0].Batch.MaxInFlight = 0 }, []string{"destinations[0].batch.max_in_flight"}, nil},
		{"retry initial", func(c *Config) { c.Destinations[0].Retry.InitialBackoff = 0 }, []string{"destinations[0].retry.initial_backoff"}, nil},
		{"retry max", func(c *Config) { c.Destinations[0].Retry.MaxBackoff = 0 }, []string{"destinations[0].retry.max_backoff"}, nil},
		{"retry throttle", func(c *Config) { c.Destinations[0].Retry.ThrottleBackoff = -1 }, []string{"destinations[0].retry.throttle_backoff"}, nil},
		{"retry initial above max", func(c *Config) { c.Destinations[0].Retry.InitialBackoff = 2 * time.Minute },
			[]string{"destinations[0].retry.initial_backoff"}, nil},
		{"breaker failures", func(c *Config) { c.Destinations[0].Breaker.ConsecutiveFailures = 0 },
			[]string{"destinations[0].breaker.consecutive_failures"}, nil},
		{"breaker open timeout", func(c *Config) { c.Destinations[0].Breaker.OpenTimeout = 0 }, []string{"destinations[0].breaker.open_timeout"}, nil},
		{"metrics addr", func(c *Config) { c.MetricsAddr = "9464" }, []string{"metrics_addr"}, nil},
		{"metrics addr port", func(c *Config) { c.MetricsAddr = "localhost:http" }, []string{"metrics_addr"}, nil},
		{"metrics disabled ok", func(c *Config) { c.MetricsAddr = "" }, nil, nil},
		{"metrics host ok", func(c *Config) { c.MetricsAddr = "127.0.0.1:9000" }, nil, nil},
		{"shutdown timeout", func(c *Config) { c.ShutdownTimeout = 0 }, []string{"shutdown_timeout"}, nil},
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, []string{"log_level"}, nil},
		{"log level blank", func(c *Config) { c.LogLevel = "" }, []string{"log_level"}, nil},
		{"log format", func(c *Config) { c.LogFormat = "text" }, []string{"log_format"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			problems, warnings := c.Check()
			if got := problemKeys(problems); !slices.Equal(got, tt.problems) {
				t.Errorf("problems %q, want %q\n%v", got, tt.problems, problems)
			}
			if got := problemKeys(warnings); !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings %q, want %q", got, tt.warnings)
			}
			for _, p := range slices.Concat(problems, warnings) {
				if p.Message == "" || p.Fix == "" {
					t.Errorf("%s: message %q fix %q: both are required", p.Key, p.Message, p.Fix)
				}
			}
			err := c.Validate()
			if (err == nil) != (len(tt.problems) == 0) {
				t.Errorf("Validate() = %v with problems %q", err, tt.problems)
			}
		})
	}
}

func TestValidationErrorReportsEverything(t *testing.T) {
	c := validConfig()
	c.Kafka.Brokers = nil
	c.Destinations[0].Batch.MaxEvents = 5000
	c.Kafka.TLS = TLS{Enabled: true, InsecureSkipVerify: true}
	before := c.Redacted()
	err := c.Validate()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err is %T", err)
	}
	want := "kafka.brokers: no broker (fix: list at least one host:port (CAPI_KAFKA_BROKERS=host1:9092,host2:9092))\n" +
		"destinations[0].batch.max_events: 5000 is out of range (fix: use 1..1000 (Meta's cap per request))"
	if ve.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", ve.Error(), want)
	}
	if got := problemKeys(ve.Warnings); !slices.Equal(got, []string{"kafka.tls.insecure_skip_verify"}) {
		t.Errorf("warnings = %q", got)
	}
	if after := c.Redacted(); after.Kafka.TLS != before.Kafka.TLS || after.Destinations[0].Batch != before.Destinations[0].Batch {
		t.Error("Validate changed the configuration")
	}
}

func TestValidationMessagesNeverContainSecrets(t *testing.T) {
	c := validConfig()
	c.Destinations[0].PixelID = "bad"
	c.Destinations[0].AppSecret = "app-secret-value"
	c.Kafka.SASL = SASL{Mechanism: "bogus", Password: "sasl-secret-value", OAuth: OAuth{ClientSecret: "oauth-secret-value"}}
	c.Kafka.SchemaRegistry = SchemaRegistry{URL: "::", Password: "registry-secret-value"}
	problems, warnings := c.Check()
	if len(problems) == 0 {
		t.Fatal("expected problems")
	}
	for _, p := range slices.Concat(problems, warnings) {
		if leak := containsAny(p.String(), "token-value", "app-secret-value", "sasl-secret-value", "registry-secret-value", "oauth-secret-value"); leak != "" {
			t.Errorf("%s leaks %s", p, leak)
		}
	}
}

func TestParseLogLevel(t *testing.T) {
	for _, ok := range []string{"trace", "debug", "info", "warn", "error", "fatal", "panic", "disabled"} {
		if _, err := ParseLogLevel(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1", "INFO", "warning"} {
		if _, err := ParseLogLevel(bad); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	if l, _ := ParseLogLevel("warn"); !strings.EqualFold(l.String(), "warn") {
		t.Errorf("warn parsed as %s", l)
	}
}

// LoadError and Problem share one format: where the value came from, what is wrong, the fix.
func TestErrorFormats(t *testing.T) {
	t.Parallel()
	bad := errors.New("invalid value: want a duration")
	for _, tt := range []struct {
		got, want string
	}{
		{(&LoadError{Env: "CAPI_LINGER", Key: "destinations[0].batch.linger", Err: bad, Fix: "write 250ms"}).Error(),
			"CAPI_LINGER (destinations[0].batch.linger): invalid value: want a duration (fix: write 250ms)"},
		{(&LoadError{Env: "CAPI_LINGER", File: "c.yaml", Line: 3, Err: bad}).Error(), "CAPI_LINGER: invalid value: want a duration"},
		{(&LoadError{File: "c.yaml", Line: 3, Key: "graph.url", Err: bad}).Error(), "c.yaml:3: graph.url: invalid value: want a duration"},
		{(&LoadError{File: "c.yaml", Err: bad, Fix: "f"}).Error(), "c.yaml: invalid value: want a duration (fix: f)"},
		{(&LoadError{Key: "graph.url", Err: bad}).Error(), "graph.url: invalid value: want a duration"},
		{(&LoadError{Key: "k"}).Error(), "k: <nil>"},
		{Problem{Env: "CAPI_X", Key: "CAPI_X", Message: "unknown variable", Fix: "remove it"}.String(),
			"CAPI_X: unknown variable (fix: remove it)"},
		{Problem{Env: "CAPI_PIXEL_ID", Key: "destinations[0].pixel_id", Message: "digits only"}.String(),
			"CAPI_PIXEL_ID (destinations[0].pixel_id): digits only"},
		{Problem{File: "c.yaml", Line: 7, Key: "kafka.group", Message: "required", Fix: "set it"}.String(),
			"c.yaml:7: kafka.group: required (fix: set it)"},
		{Problem{File: "c.yaml", Key: "kafka.group", Message: "required"}.String(), "c.yaml: kafka.group: required"},
		{Problem{Key: "kafka.group", Message: "required"}.String(), "kafka.group: required"},
	} {
		if tt.got != tt.want {
			t.Errorf("got  %q\nwant %q", tt.got, tt.want)
		}
	}
}
