// Package config holds the connector's configuration: the types, their defaults (Default, DefaultDestination — the
// only place defaults live), loading from one YAML file plus CAPI_* environment variables (Load), and one validation
// pass that reports every problem at once (Validate).
//
// Precedence, lowest to highest: Default() → YAML file → environment. A key absent from the file keeps its default;
// an environment variable that is present (even empty, for string and list keys) replaces the file's value.
// Every key has an environment variable; KnownEnv lists them.
//
// Secrets (Graph access token and app secret, SASL and schema-registry passwords) are of type Secret, which prints
// as "[redacted]" through fmt, JSON, YAML and text marshalling, so logging a Config never leaks them. Each secret can
// instead be read from a file (the *_file key or CAPI_…_FILE variable, the usual Kubernetes/Docker secret mount);
// within one layer (file or environment) setting both the secret and its file is an error, and a higher layer that
// sets one of them replaces the other from a lower layer.
//
// Destinations: single-destination variables (CAPI_PIXEL_ID, CAPI_ACCESS_TOKEN, …) create a destination named
// "default" (or CAPI_DESTINATION_NAME) when the file defines none, override it when the file defines exactly one, and
// apply to nothing when the file defines several — Validate reports that. Per-destination variables
// CAPI_DEST_<NAME>_<KEY> (see DestinationEnvPrefix) always address the destination of that name.
package config

import "time"

// Config is the whole service configuration. The zero value is not usable: start from Default or Load.
type Config struct {
	Kafka Kafka `yaml:"kafka" json:"kafka"`
	Graph Graph `yaml:"graph" json:"graph"`
	// Destinations are the pixels events are delivered to; each has its own filter, batcher, circuit breaker and
	// readiness, so one misconfigured pixel stops only itself. All share one consumer: a destination that is down
	// pauses the partitions it is behind on, which delays the others too (their offsets cannot be committed past it).
	Destinations []Destination `yaml:"destinations" json:"destinations"`
	// MetricsAddr is the listen address of the Prometheus /metrics, /healthz and /readyz server. "" disables it —
	// and with it the readiness probe, so an orchestrator can no longer see a destination whose token expired.
	MetricsAddr string `yaml:"metrics_addr" json:"metrics_addr"`
	// ShutdownTimeout bounds graceful shutdown: stop fetching, finish in-flight batches, commit what is acknowledged,
	// leave the group. Too short abandons batches that are then redelivered after restart (duplicates Facebook
	// deduplicates by event_id); longer than the orchestrator's kill grace period (Kubernetes: 30s) gets the process
	// SIGKILLed mid-commit, with the same result.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" json:"shutdown_timeout"`
	// LogLevel is the zerolog level: trace, debug, info, warn, error, fatal, panic or disabled. debug and trace log
	// per-batch and per-event detail (never personal data in clear) and cost throughput at high volume.
	LogLevel string `yaml:"log_level" json:"log_level"`
	// LogFormat is json (one object per line, for collectors) or console (human, colourless, slower).
	LogFormat string `yaml:"log_format" json:"log_format"`

	// ignoredEnv lists single-destination variables that were set while the file defined several destinations; they
	// applied to none, which Validate reports. Set by Load only.
	ignoredEnv []string
	// src tells where values came from (Read only), so that Check's problems name the line or variable.
	src *sources
}

// Kafka configures the source consumer, the DLQ producer and the input decoding.
type Kafka struct {
	// Brokers are the bootstrap servers (host:port). One reachable broker is enough to discover the cluster; list
	// several so that startup survives one being down.
	Brokers []string `yaml:"brokers" json:"brokers"`
	// Topics are the source topics, all read by the same group. Env CAPI_KAFKA_TOPIC takes a comma-separated list.
	Topics []string `yaml:"topics" json:"topics"`
	// Group is the consumer group id; committed offsets belong to it. Changing it starts over from StartOffset
	// (a new group), which replays or skips history: Facebook deduplicates replays for 48 h only.
	Group string `yaml:"group" json:"group"`
	// GroupInstanceID enables static membership (KIP-345), e.g. the pod name: a restart within SessionTimeout keeps
	// the member's partitions without a rebalance. Two live processes with the same id fence each other: use a value
	// unique per replica (a StatefulSet pod name), never a shared constant.
	GroupInstanceID string `yaml:"group_instance_id" json:"group_instance_id"`
	// StartOffset is where a group with no committed offset starts: earliest (process the retained history —
	// events older than the window go to the DLQ as event_too_old) or latest (only new events — history is skipped).
	// It has no effect once the group has committed offsets.
	StartOffset string `yaml:"start_offset" json:"start_offset"`
	// DLQTopic receives every event that cannot be delivered, with the reason in headers. It must not be a source
	// topic, which would loop rejections forever. If producing to it fails, the source offset is not committed and
	// the partition waits rather than losing the event; /readyz says so (dlq_writable).
	DLQTopic string `yaml:"dlq_topic" json:"dlq_topic"`
	// DLQCreate creates the dead-letter topic when it is missing, as Kafka Connect does (needs the CREATE ACL on the
	// topic or the cluster). Off, or without the ACL, a missing DLQ topic makes /readyz 503 naming the topic and the
	// fix, and records to dead-letter wait (nothing is lost). Source topics are never created.
	DLQCreate bool `yaml:"dlq_create" json:"dlq_create"`
	// DLQPartitions of a created DLQ topic; 0 takes the source topics' partition count.
	DLQPartitions int `yaml:"dlq_partitions" json:"dlq_partitions"`
	// DLQReplicationFactor of a created DLQ topic; 0 takes the cluster's default.replication.factor.
	DLQReplicationFactor int `yaml:"dlq_replication_factor" json:"dlq_replication_factor"`
	// ClientID names the connection in broker logs and quotas; brokers can throttle per client id.
	ClientID string `yaml:"client_id" json:"client_id"`
	// SessionTimeout is how long the group coordinator waits without a heartbeat before evicting the member and
	// rebalancing. Short detects dead members fast but evicts slow/GC-paused ones; long delays takeover after a crash.
	// Brokers clamp it to group.min/max.session.timeout.ms (6s..30m by default) and reject the join outside that.
	SessionTimeout time.Duration `yaml:"session_timeout" json:"session_timeout"`
	// MaxInFlightRecords caps records fetched but not yet committable (waiting in batches, retries or on an open
	// breaker); at the cap, fetching pauses. It bounds memory (roughly this × average record size). Too low starves
	// batching (batches never fill, Graph calls get small and many); too high uses memory and lengthens the redelivery
	// after a crash (everything uncommitted is read again).
	MaxInFlightRecords int `yaml:"max_in_flight_records" json:"max_in_flight_records"`
	// FetchMaxBytes is the most a single fetch response may carry (franz-go FetchMaxBytes). Higher means fewer round
	// trips but more memory per fetch; it must be at least the broker's largest record batch or fetches stall.
	FetchMaxBytes int `yaml:"fetch_max_bytes" json:"fetch_max_bytes"`
	// InputFormat is how record values are decoded: json (Commanders Act JSON), avro-confluent (Confluent wire
	// format: magic byte + schema id, writer schema fetched from SchemaRegistry) or avro-schema (plain Avro binary
	// written with the fixed SchemaFile). A wrong format sends every record to the DLQ as schema_error.
	InputFormat string `yaml:"input_format" json:"input_format"`
	// InputFormats overrides InputFormat for some source topics (topic → format), for a deployment reading topics
	// written differently, e.g. {web-events: json, app-events: avro-confluent}; topics not listed use InputFormat.
	// Keys must be source topics. Every avro-confluent topic shares SchemaRegistry (and its schema cache), every
	// avro-schema topic shares SchemaFile. Env CAPI_INPUT_FORMATS takes "topicA=avro-confluent,topicB=json" and
	// replaces the file's map as a whole. A topic given the wrong format sends each of its records to the DLQ as
	// schema_error (Avro read as JSON: invalid_payload).
	InputFormats map[string]string `yaml:"input_formats" json:"input_formats"`
	// SchemaFile is the .avsc writer schema for input_format avro-schema. Producers must write exactly this schema:
	// there is no schema evolution without a registry.
	SchemaFile string `yaml:"schema_file" json:"schema_file"`
	// SchemaRegistry is used by input_format avro-confluent.
	SchemaRegistry SchemaRegistry `yaml:"schema_registry" json:"schema_registry"`
	// TLS encrypts broker connections. Required by most managed Kafka services; without it SASL PLAIN sends the
	// password in clear.
	TLS TLS `yaml:"tls" json:"tls"`
	// SASL authenticates to the brokers.
	SASL SASL `yaml:"sasl" json:"sasl"`
}

// TopicFormat returns the input format of records read from topic: its InputFormats entry, else InputFormat.
func (k *Kafka) TopicFormat(topic string) string {
	if f, ok := k.InputFormats[topic]; ok {
		return f
	}
	return k.InputFormat
}

// SchemaRegistry locates a Confluent-compatible schema registry. Schemas are cached by id, so the registry is hit
// once per new schema id, not per record; while it is unreachable, records with an unseen id cannot be decoded and
// consumption waits (they are not sent to the DLQ for a network error).
type SchemaRegistry struct {
	// URL of the registry, e.g. https://registry:8081. https:// turns TLS on (with the TLS settings below).
	URL string `yaml:"url" json:"url"`
	// Username for HTTP basic auth; empty sends no credentials.
	Username string `yaml:"username" json:"username"`
	// Password for HTTP basic auth. Secret: prefer PasswordFile or the environment over the YAML file.
	Password Secret `yaml:"password" json:"password"`
	// PasswordFile is read at load time into Password (trailing newline removed). A rotated file needs a restart.
	PasswordFile string `yaml:"password_file" json:"password_file"`
	// TLS customises the registry's HTTPS client (private CA, client certificate). Only meaningful with https://.
	TLS TLS `yaml:"tls" json:"tls"`
}

// TLS configures a TLS client.
type TLS struct {
	// Enabled turns TLS on. For the schema registry, an https:// URL already implies it.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// CAFile is a PEM bundle of CAs to trust instead of the system pool; needed for private CAs. A wrong CA fails
	// every handshake ("certificate signed by unknown authority").
	CAFile string `yaml:"ca_file" json:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and key for mutual TLS; set both or neither.
	CertFile string `yaml:"cert_file" json:"cert_file"`
	KeyFile  string `yaml:"key_file" json:"key_file"`
	// ServerName overrides the name checked against the server certificate (SNI), for brokers reached through an
	// address that is not in their certificate. Empty uses the host being dialled.
	ServerName string `yaml:"server_name" json:"server_name"`
	// InsecureSkipVerify disables certificate verification: traffic is encrypted but anyone on the path can
	// impersonate the server and read the credentials. For local testing only; Validate reports it as a warning.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify" json:"insecure_skip_verify"`
}

// SASL configures broker authentication.
type SASL struct {
	// Mechanism is "" (no SASL), PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (OIDC client credentials, see
	// OAuth) or AWS_MSK_IAM (Amazon MSK IAM access control, see AWS). PLAIN sends the password itself and
	// OAUTHBEARER a bearer token, so use them with TLS only; SCRAM never sends the password. A mechanism the broker
	// does not enable fails every connection.
	Mechanism string `yaml:"mechanism" json:"mechanism"`
	// Username for PLAIN and SCRAM.
	Username string `yaml:"username" json:"username"`
	// Password for PLAIN and SCRAM. Secret: prefer PasswordFile or the environment over the YAML file.
	Password Secret `yaml:"password" json:"password"`
	// PasswordFile is read at load time (trailing newline removed) and read again at every authentication, so a
	// rotated file (a Kubernetes secret update) is used by the next connection or re-authentication without a
	// restart. If a later read fails, the last value read is used.
	PasswordFile string `yaml:"password_file" json:"password_file"`
	// OAuth configures OAUTHBEARER.
	OAuth OAuth `yaml:"oauth" json:"oauth"`
	// AWS configures AWS_MSK_IAM.
	AWS AWSIAM `yaml:"aws" json:"aws"`
}

// OAuth is SASL/OAUTHBEARER with tokens from an OpenID Connect / OAuth 2.0 token endpoint by the client
// credentials grant (Keycloak, Okta, Entra ID, Confluent Cloud identity pools, Strimzi). A token is fetched before
// the first connection and again before it expires (when less than a third of its lifetime, at most a minute,
// remains); brokers that enforce re-authentication (connections.max.reauth.ms, KIP-368) get the fresh token on the
// same connection. While the token endpoint fails, no new connection or re-authentication can succeed: the
// connector reports it, keeps retrying and recovers by itself.
type OAuth struct {
	// TokenURL is the token endpoint, e.g. https://idp.example.com/realms/kafka/protocol/openid-connect/token.
	// https:// is required except on a loopback address (http://127.0.0.1:…, tests), which is warned about: the
	// client secret and the tokens travel in it.
	TokenURL string `yaml:"token_url" json:"token_url"`
	// ClientID identifies the connector to the token endpoint (sent with ClientSecret by HTTP Basic auth,
	// client_secret_basic). Brokers usually map the token's sub claim to the Kafka principal: User:<sub>.
	ClientID string `yaml:"client_id" json:"client_id"`
	// ClientSecret authenticates the client. Secret: prefer ClientSecretFile or the environment.
	ClientSecret Secret `yaml:"client_secret" json:"client_secret"`
	// ClientSecretFile is read at load time and again at every token request, so a rotated secret is picked up
	// without a restart.
	ClientSecretFile string `yaml:"client_secret_file" json:"client_secret_file"`
	// Scope is the scope requested (space- or comma-separated); empty requests none (the provider's default).
	Scope string `yaml:"scope" json:"scope"`
	// Extensions are SASL extensions sent with the token (RFC 7628 key=value pairs), e.g. Confluent Cloud's
	// logicalCluster and identityPoolId. Keys are letters only; "auth" is reserved.
	Extensions map[string]string `yaml:"extensions" json:"extensions"`
}

// AWSIAM is SASL/AWS_MSK_IAM: every connection is signed (SigV4) with credentials from the AWS default chain —
// environment (AWS_ACCESS_KEY_ID…), shared config/credentials files (AWS_PROFILE), web identity (IRSA on EKS), ECS
// task role, EC2 instance role — refreshed by the SDK before they expire. The IAM policy the connector needs is in
// docs/security.md.
type AWSIAM struct {
	// Region of the MSK cluster, used when the broker host name does not contain it (MSK names do:
	// b-1.x.y.kafka.eu-west-1.amazonaws.com) and for the credential chain's STS calls. Empty uses AWS_REGION or
	// AWS_DEFAULT_REGION.
	Region string `yaml:"region" json:"region"`
}

// Graph configures the Meta Graph API client shared by all destinations.
type Graph struct {
	// URL is the Graph API base URL. Point it at the bundled simulator for tests and demos (http:// is allowed for
	// that); in production anything but https://graph.facebook.com sends customer data elsewhere.
	URL string `yaml:"url" json:"url"`
	// APIVersion is the Graph API version in the path, e.g. v24.0. Meta retires versions about two years after
	// release; a retired version fails every call as a destination misconfiguration (the connector stops delivering
	// and reports not-ready), so upgrade ahead of the deprecation date.
	APIVersion string `yaml:"api_version" json:"api_version"`
	// RequestTimeout bounds one Graph call, 1000 events included. A timeout is a transient failure (retried, counted
	// by the breaker). Too short times out large batches that Meta would have accepted — and if Meta did accept them,
	// the retry is deduplicated by event_id; too long holds in-flight slots during an outage.
	RequestTimeout time.Duration `yaml:"request_timeout" json:"request_timeout"`
	// PartnerAgent is sent as partner_agent on every request, identifying the integration in Meta's diagnostics.
	// Empty omits it.
	PartnerAgent string `yaml:"partner_agent" json:"partner_agent"`
}

// Destination is one pixel events are delivered to, with its own credentials, filters and delivery tuning.
type Destination struct {
	// Name identifies the destination in logs, metrics labels, the capi-destination DLQ header and env variables
	// (CAPI_DEST_<NAME>_…). Unique; letters, digits, '_', '-' and '.'. Renaming it changes metric series and makes
	// DLQ replays filtered by the old name miss.
	Name string `yaml:"name" json:"name"`
	// PixelID is the Meta dataset (pixel) id, digits only. A wrong id fails with code 100/33: the destination stops
	// and reports not-ready rather than sending the stream to the DLQ.
	PixelID string `yaml:"pixel_id" json:"pixel_id"`
	// AccessToken is the Conversions API system-user token. Secret. When it expires (code 190) the destination stops
	// and reports not-ready, consumption of its partitions pauses; nothing is sent to the DLQ for that.
	AccessToken Secret `yaml:"access_token" json:"access_token"`
	// AccessTokenFile is read at load time into AccessToken (trailing newline removed). Rotation needs a restart.
	AccessTokenFile string `yaml:"access_token_file" json:"access_token_file"`
	// AppSecret, when set, adds appsecret_proof (HMAC-SHA256 of the token) to every call, so a leaked token alone is
	// not usable. Required if the Meta app enforces "Require App Secret"; without it those calls fail as
	// misconfiguration. Secret.
	AppSecret Secret `yaml:"app_secret" json:"app_secret"`
	// AppSecretFile is read at load time into AppSecret (trailing newline removed).
	AppSecretFile string `yaml:"app_secret_file" json:"app_secret_file"`
	// ConsentCategory is the TRUST Commander consent category id required in the event's consent_categories. Empty
	// lets every event through — only if consent is filtered upstream; events failing it go to the DLQ as no_consent.
	ConsentCategory string `yaml:"consent_category" json:"consent_category"`
	// DefaultPhoneRegion (ISO 3166-1 alpha-2, upper case, e.g. FR) parses national phone numbers such as
	// "06 12 34 56 78". Empty accepts only international numbers (+33…); the others are dropped, which can make events
	// fail the matching thresholds.
	DefaultPhoneRegion string `yaml:"default_phone_region" json:"default_phone_region"`
	// UserDataPlaceholders are values that mean "no data" in the source (n/a, null, unknown…): a user_data field
	// equal to one of them (ignoring case, after trimming) is dropped instead of hashed, so it neither counts toward
	// the matching thresholds nor sends Meta a hash that matches nobody. Each drop is counted in
	// capi_user_data_dropped_total{reason="placeholder"}. An empty list disables the check; a real value on the
	// list (a customer really named "Test") is dropped too.
	UserDataPlaceholders []string `yaml:"user_data_placeholders" json:"user_data_placeholders"`
	// TestEventCode routes events to Events Manager's Test Events tab instead of production attribution. Leaving it
	// set in production silently loses the events for ads optimisation; Validate warns.
	TestEventCode string `yaml:"test_event_code" json:"test_event_code"`
	// Events filters Commanders Act event names (before mapping) for this destination.
	Events EventFilter `yaml:"events" json:"events"`
	// LDU sets Limited Data Use on every event of this destination (unless the event carries its own).
	LDU LDU `yaml:"ldu" json:"ldu"`
	// CustomDataPassthrough sends the extra keys of integrations.facebook.custom_data as custom parameters. Turn it
	// off when producers might put personal data there: custom_data is not hashed.
	CustomDataPassthrough bool `yaml:"custom_data_passthrough" json:"custom_data_passthrough"`
	// Matching sets the minimal customer-information rule (docs/mapping.md).
	Matching Matching `yaml:"matching" json:"matching"`
	// Window sets which event times are accepted before batching.
	Window Window `yaml:"window" json:"window"`
	// Batch tunes the Graph request batcher.
	Batch Batch `yaml:"batch" json:"batch"`
	// Retry tunes backoff for transient Graph failures.
	Retry Retry `yaml:"retry" json:"retry"`
	// Breaker tunes the circuit breaker around Graph calls.
	Breaker Breaker `yaml:"breaker" json:"breaker"`
}

// EventFilter selects events by Commanders Act event name (e.g. purchase, page_view). Filtered-out events are
// skipped for this destination (committed, not sent to the DLQ).
type EventFilter struct {
	// Include, when non-empty, is the only set of names delivered; a name missing here is silently not delivered.
	Include []string `yaml:"include" json:"include"`
	// Exclude names are never delivered. With Include set, Exclude may only remove names Include does not list
	// (an overlap is a contradiction that Validate rejects).
	Exclude []string `yaml:"exclude" json:"exclude"`
}

// LDU is Meta's Limited Data Use: data_processing_options ["LDU"] with a country and state.
type LDU struct {
	// Enabled adds LDU to every event of the destination. Events are then processed under US state privacy laws,
	// which reduces their use for ads optimisation.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Country is data_processing_options_country: 0 lets Meta geolocate the event (recommended), 1 is the USA.
	Country int `yaml:"country" json:"country"`
	// State is data_processing_options_state: 0 lets Meta geolocate, 1000 is California. A wrong explicit value
	// applies (or fails to apply) LDU for the wrong jurisdiction.
	State int `yaml:"state" json:"state"`
}

// Matching is the minimal matching-data rule: an event needs MinStrongKeys of {em, ph, external_id, fbp, fbc} and
// MinOtherKeys of the other user_data fields, else it goes to the DLQ as insufficient_user_data. Raising them sends
// more events to the DLQ but improves match quality; 0/0 sends everything Meta's baseline accepts (weak events
// lower the dataset's event match quality score).
type Matching struct {
	MinStrongKeys int `yaml:"min_strong_keys" json:"min_strong_keys"`
	MinOtherKeys  int `yaml:"min_other_keys" json:"min_other_keys"`
}

// Window bounds event_time. Meta rejects a whole request when one event is out of range, so out-of-range events go
// to the DLQ (event_too_old / event_in_future) before batching.
type Window struct {
	// MaxAge is the oldest accepted event for non-store action sources. Meta's limit is 7 days (168h); more makes
	// Graph reject whole batches (then bisected, slowly) instead of rejecting the event up front.
	MaxAge time.Duration `yaml:"max_age" json:"max_age"`
	// MaxAgePhysicalStore is the same for action_source physical_store; Meta's limit is 62 days (1488h).
	MaxAgePhysicalStore time.Duration `yaml:"max_age_physical_store" json:"max_age_physical_store"`
	// SafetyMargin is subtracted from the max ages so an event still in range at check time is still in range when
	// the batch reaches Meta after linger, retries and an open breaker. Larger sends more borderline events to the DLQ.
	SafetyMargin time.Duration `yaml:"safety_margin" json:"safety_margin"`
	// MaxFuture is how far ahead of the local clock event_time may be (clock skew between producers and us). The
	// default, five minutes, is "a few minutes" of skew: enough for NTP-synchronized hosts and mobile clocks a little
	// ahead, small enough that a wrongly stamped event (seconds read as milliseconds, a wrong time zone of at least
	// an hour) is caught here rather than by Facebook.
	// Meta rejects future events; too small rejects events from producers with a fast clock.
	MaxFuture time.Duration `yaml:"max_future" json:"max_future"`
}

// Batch tunes how events are grouped into Graph requests, per destination.
type Batch struct {
	// MaxEvents per request, 1..1000 (Meta's cap). Bigger batches mean fewer calls but one bad event costs a
	// bisection of a bigger batch.
	MaxEvents int `yaml:"max_events" json:"max_events"`
	// MaxBytes caps the JSON body size; a batch is flushed before exceeding it. Meta refuses very large bodies.
	MaxBytes int `yaml:"max_bytes" json:"max_bytes"`
	// Linger is how long a non-full batch waits for more events. 0 sends immediately (many small calls at low volume);
	// longer adds that much latency to every event at low volume.
	Linger time.Duration `yaml:"linger" json:"linger"`
	// MaxInFlight is the number of concurrent Graph requests for the destination. More raises throughput but hits
	// Meta's rate limits (throttling codes 4/17/613) sooner.
	MaxInFlight int `yaml:"max_in_flight" json:"max_in_flight"`
}

// Retry tunes exponential backoff with jitter for transient Graph failures. Transient failures are retried until
// they succeed or the breaker opens; they never go to the DLQ.
type Retry struct {
	// InitialBackoff is the first wait; it doubles per attempt up to MaxBackoff.
	InitialBackoff time.Duration `yaml:"initial_backoff" json:"initial_backoff"`
	// MaxBackoff caps the wait. Too low hammers a struggling API; too high delays recovery after it is back.
	MaxBackoff time.Duration `yaml:"max_backoff" json:"max_backoff"`
	// ThrottleBackoff is the wait after a rate-limit answer (HTTP 429, codes 4/17/613/80004). Meta's limits are per
	// hour-ish windows: retrying sooner only extends the throttling.
	ThrottleBackoff time.Duration `yaml:"throttle_backoff" json:"throttle_backoff"`
}

// Breaker tunes the per-destination circuit breaker (sony/gobreaker). While open, the destination's partitions are
// paused: nothing is committed, nothing goes to the DLQ.
type Breaker struct {
	// ConsecutiveFailures of transient failures open the breaker. Low opens on a blip (pausing consumption); high
	// keeps retrying against a dead API longer.
	ConsecutiveFailures int `yaml:"consecutive_failures" json:"consecutive_failures"`
	// OpenTimeout is how long the breaker stays open before a half-open probe. Short probes a down API often; long
	// delays recovery by up to this much.
	OpenTimeout time.Duration `yaml:"open_timeout" json:"open_timeout"`
}

// Default returns the complete default configuration, without destinations (they need a pixel and a token; see
// DefaultDestination). It is the only place top-level defaults are defined.
func Default() Config {
	return Config{
		Kafka: Kafka{
			Brokers:            []string{"localhost:9092"},
			Topics:             []string{"events"},
			Group:              "capi-connector",
			StartOffset:        StartEarliest,
			DLQTopic:           "events.dlq",
			DLQCreate:          true,
			ClientID:           "capi-connector",
			SessionTimeout:     45 * time.Second,
			MaxInFlightRecords: 20000,
			FetchMaxBytes:      50 << 20,
			InputFormat:        FormatJSON,
		},
		Graph: Graph{
			URL:            "https://graph.facebook.com",
			APIVersion:     "v24.0",
			RequestTimeout: 30 * time.Second,
		},
		MetricsAddr:     ":9464",
		ShutdownTimeout: 30 * time.Second,
		LogLevel:        "info",
		LogFormat:       LogJSON,
	}
}

// DefaultDestination returns the defaults every destination starts from, whether it comes from the YAML file or
// from single-destination environment variables. Pixel id and token have no default.
func DefaultDestination() Destination {
	return Destination{
		Name:                  DefaultDestinationName,
		CustomDataPassthrough: true,
		UserDataPlaceholders:  DefaultUserDataPlaceholders(),
		Matching:              Matching{MinStrongKeys: 1, MinOtherKeys: 3},
		Window: Window{
			MaxAge:              7 * 24 * time.Hour,
			MaxAgePhysicalStore: 62 * 24 * time.Hour,
			SafetyMargin:        time.Hour,
			MaxFuture:           5 * time.Minute,
		},
		Batch:   Batch{MaxEvents: 1000, MaxBytes: 4_000_000, Linger: 250 * time.Millisecond, MaxInFlight: 4},
		Retry:   Retry{InitialBackoff: 500 * time.Millisecond, MaxBackoff: time.Minute, ThrottleBackoff: time.Minute},
		Breaker: Breaker{ConsecutiveFailures: 5, OpenTimeout: 30 * time.Second},
	}
}

// DefaultUserDataPlaceholders is the default of user_data_placeholders: what CRMs, tag templates and POS exports
// write in a field they have no value for.
func DefaultUserDataPlaceholders() []string {
	return []string{"n/a", "-", "null", "undefined", "none", "unknown", "test", "xxx"}
}

// Enumerated values.
const (
	StartEarliest = "earliest"
	StartLatest   = "latest"

	FormatJSON          = "json"
	FormatAvroConfluent = "avro-confluent"
	FormatAvroSchema    = "avro-schema"

	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
	SASLOAuthBearer = "OAUTHBEARER"
	SASLAWSMSKIAM   = "AWS_MSK_IAM"

	LogJSON    = "json"
	LogConsole = "console"

	// DefaultDestinationName names the destination created from single-destination variables.
	DefaultDestinationName = "default"

	// MaxBatchEvents is Meta's cap on events per request.
	MaxBatchEvents = 1000
	// MetaMaxAge and MetaMaxAgePhysicalStore are Meta's limits on event age.
	MetaMaxAge              = 7 * 24 * time.Hour
	MetaMaxAgePhysicalStore = 62 * 24 * time.Hour
)

// setDefaults lets the YAML decoder start each destination list element from DefaultDestination, so a destination
// in the file only states what differs.
func (d *Destination) setDefaults() { *d = DefaultDestination() }
