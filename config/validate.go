package config

import (
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"github.com/rs/zerolog"
)

var (
	apiVersionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	destNameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	// saslExtensionKeyRE is RFC 7628's key syntax: 1*(ALPHA).
	saslExtensionKeyRE = regexp.MustCompile(`^[A-Za-z]+$`)
)

// Validate checks the whole configuration in one pass and returns nil or a *ValidationError listing every problem
// (and the warnings found along the way). It reads the file system to check that referenced files exist. It never
// changes c.
func (c *Config) Validate() error {
	problems, warnings := c.Check()
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: problems, Warnings: warnings}
}

// Warnings returns the risky-but-allowed settings (e.g. insecure_skip_verify, a test_event_code), to be logged at
// startup and shown by check-config.
func (c *Config) Warnings() []Problem {
	_, w := c.Check()
	return w
}

// Check returns the problems (which make Validate fail) and warnings, in key order.
func (c *Config) Check() (problems, warnings []Problem) {
	v := &validation{}
	v.kafka(&c.Kafka)
	v.graph(&c.Graph)
	v.destinations(c)
	v.top(c)
	if c.src != nil {
		v.warnings = append(v.warnings, c.src.unknownEnv...)
		for i := range v.problems {
			v.problems[i] = c.src.locate(v.problems[i])
		}
		for i := range v.warnings {
			v.warnings[i] = c.src.locate(v.warnings[i])
		}
	}
	return v.problems, v.warnings
}

type validation struct {
	problems, warnings []Problem
}

func (v *validation) fail(key, fix, format string, args ...any) {
	v.problems = append(v.problems, Problem{Key: key, Message: fmt.Sprintf(format, args...), Fix: fix})
}

func (v *validation) warn(key, fix, format string, args ...any) {
	v.warnings = append(v.warnings, Problem{Key: key, Message: fmt.Sprintf(format, args...), Fix: fix})
}

func (v *validation) kafka(k *Kafka) {
	if len(k.Brokers) == 0 {
		v.fail("kafka.brokers", "list at least one host:port (CAPI_KAFKA_BROKERS=host1:9092,host2:9092)", "no broker")
	}
	for i, b := range k.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			v.fail(fmt.Sprintf("kafka.brokers[%d]", i), "write it as host:port, e.g. kafka:9092", "%q is not host:port", b)
		}
	}
	if len(k.Topics) == 0 {
		v.fail("kafka.topics", "list the source topic(s) (CAPI_KAFKA_TOPIC=events)", "no source topic")
	}
	for i, t := range k.Topics {
		if t == "" || slices.Index(k.Topics, t) != i {
			v.fail(fmt.Sprintf("kafka.topics[%d]", i), "remove the blank or repeated entry", "topic %q is blank or repeated", t)
		}
	}
	if k.Group == "" {
		v.fail("kafka.group", "set a consumer group id, e.g. capi-connector", "empty: offsets could not be committed")
	}
	switch {
	case k.DLQTopic == "":
		v.fail("kafka.dlq_topic", "set a dead-letter topic, e.g. events.dlq", "empty: rejected events would have nowhere to go")
	case slices.Contains(k.Topics, k.DLQTopic):
		v.fail("kafka.dlq_topic", "use a topic that is not a source topic, e.g. "+k.DLQTopic+".dlq",
			"%q is also a source topic: rejected events would be consumed again forever", k.DLQTopic)
	}
	if k.DLQPartitions < 0 || k.DLQPartitions > 1<<20 {
		v.fail("kafka.dlq_partitions", "set a partition count, or 0 for the source topics' count", "%d is out of range", k.DLQPartitions)
	}
	if k.DLQReplicationFactor < 0 || k.DLQReplicationFactor > 32767 {
		v.fail("kafka.dlq_replication_factor", "set a replica count, or 0 for the cluster default", "%d is out of range", k.DLQReplicationFactor)
	}
	if k.StartOffset != StartEarliest && k.StartOffset != StartLatest {
		v.fail("kafka.start_offset", "use earliest or latest", "unknown value %q", k.StartOffset)
	}
	if k.ClientID == "" {
		v.fail("kafka.client_id", "set a client id, e.g. capi-connector", "empty")
	}
	if k.SessionTimeout <= 0 {
		v.fail("kafka.session_timeout", "use a positive duration, e.g. 45s", "must be > 0, got %s", k.SessionTimeout)
	}
	if k.MaxInFlightRecords < 1 {
		v.fail("kafka.max_in_flight_records", "use a positive count, e.g. 20000", "must be ≥ 1, got %d", k.MaxInFlightRecords)
	}
	if k.FetchMaxBytes <= 0 || k.FetchMaxBytes > math.MaxInt32 {
		v.fail("kafka.fetch_max_bytes", "use a positive byte count below 2 GiB, e.g. 52428800",
			"must be in 1..%d, got %d", math.MaxInt32, k.FetchMaxBytes)
	}
	v.inputFormats(k)
	if r := k.SchemaRegistry; r.URL != "" {
		u, err := url.Parse(r.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.fail("kafka.schema_registry.url", "use an absolute http(s) URL, e.g. https://registry:8081", "%q is not an absolute http(s) URL", r.URL)
		case u.Scheme == "http" && r.TLS.Enabled:
			v.fail("kafka.schema_registry.tls.enabled", "use an https:// URL or disable tls", "TLS is enabled but the URL is http://")
		}
		if r.Password.IsSet() && r.Username == "" {
			v.fail("kafka.schema_registry.username", "set the username that goes with the password", "password set without username")
		}
	}
	v.tls("kafka.schema_registry.tls", &k.SchemaRegistry.TLS)
	v.tls("kafka.tls", &k.TLS)
	v.sasl(k)
}

// inputFormats checks input_format, the per-topic input_formats, and what the formats in use require. The default
// format's requirements always apply: its decoder is built even when every topic is overridden (preview, whose
// input has no topic, decodes with it).
func (v *validation) inputFormats(k *Kafka) {
	usedBy := map[string][]string{} // format → the keys that select it
	if validFormat(k.InputFormat) {
		usedBy[k.InputFormat] = append(usedBy[k.InputFormat], "kafka.input_format")
	} else {
		v.fail("kafka.input_format", "use json, avro-confluent or avro-schema", "unknown value %q", k.InputFormat)
	}
	for _, topic := range slices.Sorted(maps.Keys(k.InputFormats)) {
		f, key := k.InputFormats[topic], "kafka.input_formats."+topic
		if !slices.Contains(k.Topics, topic) {
			v.fail(key, "use a topic listed in kafka.topics ("+strings.Join(k.Topics, ", ")+"), or remove the entry",
				"%q is not a source topic: the format would apply to nothing", topic)
		}
		if !validFormat(f) {
			v.fail(key, "use json, avro-confluent or avro-schema", "unknown format %q", f)
			continue
		}
		usedBy[f] = append(usedBy[f], key)
	}
	if by := usedBy[FormatAvroSchema]; by != nil {
		if k.SchemaFile == "" {
			v.fail("kafka.schema_file", "set the .avsc file the producers write with (CAPI_SCHEMA_FILE)",
				"required by input format avro-schema (%s)", strings.Join(by, ", "))
		} else {
			v.file("kafka.schema_file", k.SchemaFile)
		}
	}
	if by := usedBy[FormatAvroConfluent]; by != nil && k.SchemaRegistry.URL == "" {
		v.fail("kafka.schema_registry.url", "set the registry URL, e.g. http://schema-registry:8081 (CAPI_SCHEMA_REGISTRY_URL)",
			"required by input format avro-confluent (%s)", strings.Join(by, ", "))
	}
}

func validFormat(f string) bool {
	return f == FormatJSON || f == FormatAvroConfluent || f == FormatAvroSchema
}

// file reports a referenced file that cannot be read. Paths are not secret; contents are never read here.
func (v *validation) file(key, path string) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		v.fail(key, "check the path (relative paths are from the working directory)", "cannot use %q: %v", path, unwrapPathErr(err))
	case st.IsDir():
		v.fail(key, "point it at a file", "%q is a directory", path)
	}
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (v *validation) tls(prefix string, t *TLS) {
	for _, f := range []struct{ key, path string }{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
		if f.path != "" {
			v.file(prefix+"."+f.key, f.path)
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		missing := "key_file"
		if t.CertFile == "" {
			missing = "cert_file"
		}
		v.fail(prefix+"."+missing, "set both cert_file and key_file for mutual TLS, or neither", "client certificate and key must come together")
	}
	// The schema registry turns TLS on by its URL scheme, so only Kafka's switch can leave files unused.
	if prefix == "kafka.tls" && !t.Enabled && (t.CAFile != "" || t.CertFile != "" || t.ServerName != "" || t.InsecureSkipVerify) {
		v.fail(prefix+".enabled", "set enabled: true (CAPI_KAFKA_TLS_ENABLED=true) or remove the TLS settings",
			"TLS settings are present but TLS is disabled: the connection would be plaintext")
	}
	if t.InsecureSkipVerify {
		v.warn(prefix+".insecure_skip_verify", "trust the server's CA with ca_file instead",
			"certificate verification is off: anyone on the network path can impersonate the server")
	}
}

const saslMechanisms = "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or AWS_MSK_IAM"

func (v *validation) sasl(k *Kafka) {
	s := &k.SASL
	o := &s.OAuth
	oauthSet := o.TokenURL != "" || o.ClientID != "" || o.ClientSecret.IsSet() || o.Scope != "" || len(o.Extensions) > 0
	switch s.Mechanism {
	case "":
		if s.Username != "" || s.Password.IsSet() || oauthSet {
			v.fail("kafka.sasl.mechanism", "set "+saslMechanisms+", or remove the credentials",
				"credentials are set but no mechanism: they would not be used")
		}
		return
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
	case SASLOAuthBearer:
		v.oauth(k)
		return
	case SASLAWSMSKIAM:
		if s.Username != "" || s.Password.IsSet() || oauthSet {
			v.fail("kafka.sasl.mechanism", "remove kafka.sasl.username/password and kafka.sasl.oauth: AWS_MSK_IAM takes its credentials from the AWS default chain",
				"credentials are set that AWS_MSK_IAM does not use")
		}
		if !k.TLS.Enabled {
			v.fail("kafka.tls.enabled", "set kafka.tls.enabled: true (CAPI_KAFKA_TLS_ENABLED=true); MSK IAM listeners are TLS only (port 9098, or 9198 public)",
				"AWS_MSK_IAM requires TLS")
		}
		return
	default:
		v.fail("kafka.sasl.mechanism", "use "+saslMechanisms+" (upper case), or \"\" for none", "unknown mechanism %q", s.Mechanism)
		return
	}
	if oauthSet {
		v.fail("kafka.sasl.oauth", "set kafka.sasl.mechanism: OAUTHBEARER, or remove kafka.sasl.oauth",
			"OAuth settings are present but the mechanism is %s: they would not be used", s.Mechanism)
	}
	if s.Username == "" {
		v.fail("kafka.sasl.username", "set the SASL username (CAPI_KAFKA_SASL_USERNAME)", "required by mechanism %s", s.Mechanism)
	}
	if !s.Password.IsSet() {
		v.fail("kafka.sasl.password", "set CAPI_KAFKA_SASL_PASSWORD or CAPI_KAFKA_SASL_PASSWORD_FILE", "required by mechanism %s", s.Mechanism)
	}
	if s.Mechanism == SASLPlain && !k.TLS.Enabled {
		v.warn("kafka.sasl.mechanism", "enable kafka.tls or use SCRAM", "PLAIN without TLS sends the password in clear")
	}
}

// oauth checks OAUTHBEARER: a token endpoint, a client id and a secret, https unless loopback.
func (v *validation) oauth(k *Kafka) {
	s := &k.SASL
	o := &s.OAuth
	if s.Username != "" || s.Password.IsSet() {
		v.fail("kafka.sasl.username", "remove kafka.sasl.username and password: OAUTHBEARER uses kafka.sasl.oauth.client_id and client_secret",
			"username/password are set but OAUTHBEARER does not use them")
	}
	if o.TokenURL == "" {
		v.fail("kafka.sasl.oauth.token_url", "set the OIDC token endpoint (CAPI_KAFKA_SASL_OAUTH_TOKEN_URL), e.g. https://idp.example.com/oauth2/token",
			"required by mechanism OAUTHBEARER")
	} else if u, err := url.Parse(o.TokenURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.fail("kafka.sasl.oauth.token_url", "use an absolute https:// URL", "%q is not an absolute http(s) URL", o.TokenURL)
	} else if u.Scheme == "http" {
		if isLoopback(u.Hostname()) {
			v.warn("kafka.sasl.oauth.token_url", "use https:// outside tests",
				"plain http: the client secret and the tokens travel unencrypted (accepted on loopback only)")
		} else {
			v.fail("kafka.sasl.oauth.token_url", "use https:// (plain http is accepted on a loopback address only)",
				"plain http would send the client secret and the tokens unencrypted to %s", u.Host)
		}
	}
	if o.ClientID == "" {
		v.fail("kafka.sasl.oauth.client_id", "set the OAuth client id (CAPI_KAFKA_SASL_OAUTH_CLIENT_ID)", "required by mechanism OAUTHBEARER")
	}
	if !o.ClientSecret.IsSet() {
		v.fail("kafka.sasl.oauth.client_secret", "set CAPI_KAFKA_SASL_OAUTH_CLIENT_SECRET or CAPI_KAFKA_SASL_OAUTH_CLIENT_SECRET_FILE",
			"required by mechanism OAUTHBEARER")
	}
	for _, key := range slices.Sorted(maps.Keys(o.Extensions)) {
		if !saslExtensionKeyRE.MatchString(key) || key == "auth" {
			v.fail("kafka.sasl.oauth.extensions."+key, "extension names are letters only (RFC 7628), and \"auth\" is reserved",
				"invalid SASL extension name %q", key)
		}
		if strings.ContainsRune(o.Extensions[key], '\x01') {
			v.fail("kafka.sasl.oauth.extensions."+key, "remove the control character", "the value contains \\x01, the SASL separator")
		}
	}
	if !k.TLS.Enabled {
		v.warn("kafka.sasl.mechanism", "enable kafka.tls", "OAUTHBEARER without TLS sends bearer tokens in clear")
	}
}

// isLoopback reports whether host (a name or an IP) is this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (v *validation) graph(g *Graph) {
	u, err := url.Parse(g.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.fail("graph.url", "use an absolute URL, e.g. https://graph.facebook.com", "%q is not an absolute http(s) URL", g.URL)
	} else if u.Scheme == "http" {
		v.warn("graph.url", "use https:// outside tests", "plain http: access tokens and hashed customer data travel unencrypted")
	}
	if !apiVersionRE.MatchString(g.APIVersion) {
		v.fail("graph.api_version", "use the form vNN.N, e.g. v24.0", "%q is not a Graph API version", g.APIVersion)
	}
	if g.RequestTimeout <= 0 {
		v.fail("graph.request_timeout", "use a positive duration, e.g. 30s", "must be > 0, got %s", g.RequestTimeout)
	}
}

func (v *validation) destinations(c *Config) {
	for _, name := range c.ignoredEnv {
		v.fail(name, fmt.Sprintf("use the per-destination form %s<NAME>_%s, or unset it", destEnvPrefix, strings.TrimPrefix(name, EnvPrefix)),
			"applies to no destination: the file defines %d destinations", len(c.Destinations))
	}
	if len(c.Destinations) == 0 {
		v.fail("destinations", "add a destination to the file, or set CAPI_PIXEL_ID and CAPI_ACCESS_TOKEN", "no destination")
		return
	}
	names := map[string]int{}
	prefixes := map[string]int{}
	for i := range c.Destinations {
		d := &c.Destinations[i]
		key := fmt.Sprintf("destinations[%d]", i)
		switch {
		case !destNameRE.MatchString(d.Name):
			v.fail(key+".name", "use letters, digits, '_', '-' or '.', starting with a letter or digit", "invalid name %q", d.Name)
		case names[d.Name] > 0:
			v.fail(key+".name", "give each destination its own name", "%q is already used by destinations[%d]", d.Name, names[d.Name]-1)
		case prefixes[DestinationEnvPrefix(d.Name)] > 0:
			j := prefixes[DestinationEnvPrefix(d.Name)] - 1
			v.fail(key+".name", "rename one so the names differ by more than case or punctuation",
				"%q and %q share the environment prefix %s", d.Name, c.Destinations[j].Name, DestinationEnvPrefix(d.Name))
		}
		names[d.Name] = i + 1
		if _, ok := prefixes[DestinationEnvPrefix(d.Name)]; !ok {
			prefixes[DestinationEnvPrefix(d.Name)] = i + 1
		}
		v.destination(key, d, len(c.Destinations) == 1)
	}
}

func (v *validation) destination(key string, d *Destination, single bool) {
	env := func(suffix string) string {
		if single {
			return EnvPrefix + suffix
		}
		return DestinationEnvPrefix(d.Name) + suffix
	}
	if d.PixelID == "" || strings.Trim(d.PixelID, "0123456789") != "" {
		v.fail(key+".pixel_id", "set the dataset (pixel) id from Events Manager, digits only ("+env("PIXEL_ID")+")", "%q is not a pixel id", d.PixelID)
	}
	if !d.AccessToken.IsSet() {
		msg := "empty"
		if d.AccessTokenFile != "" {
			msg = fmt.Sprintf("empty (file %q is empty)", d.AccessTokenFile)
		}
		v.fail(key+".access_token", "set "+env("ACCESS_TOKEN")+" or "+env("ACCESS_TOKEN_FILE"), "%s", msg)
	}
	v.token(key+".access_token", d.AccessToken, env("ACCESS_TOKEN"))
	v.token(key+".app_secret", d.AppSecret, env("APP_SECRET"))
	if r := d.DefaultPhoneRegion; r != "" {
		switch {
		case phonenumbers.GetSupportedRegions()[r]:
		case phonenumbers.GetSupportedRegions()[strings.ToUpper(r)]:
			v.fail(key+".default_phone_region", fmt.Sprintf("write it in upper case: %q", strings.ToUpper(r)), "%q is not upper case", r)
		default:
			v.fail(key+".default_phone_region", "use an ISO 3166-1 alpha-2 code such as FR, US, DE", "unknown region %q", r)
		}
	}
	if d.TestEventCode != "" {
		v.warn(key+".test_event_code", "remove it in production", "events go to Events Manager's Test Events, not to attribution")
	}
	for i, n := range d.Events.Include {
		if strings.TrimSpace(n) == "" {
			v.fail(fmt.Sprintf("%s.events.include[%d]", key, i), "remove the blank entry", "blank event name")
		}
	}
	for i, n := range d.Events.Exclude {
		if strings.TrimSpace(n) == "" {
			v.fail(fmt.Sprintf("%s.events.exclude[%d]", key, i), "remove the blank entry", "blank event name")
		}
		if slices.Contains(d.Events.Include, n) {
			v.fail(key+".events.exclude", "list the name in include or in exclude, not both", "%q is both included and excluded", n)
		}
	}
	if d.LDU.Country != 0 && d.LDU.Country != 1 {
		v.fail(key+".ldu.country", "use 0 (let Meta geolocate) or 1 (USA)", "unknown country code %d", d.LDU.Country)
	}
	if d.LDU.State < 0 {
		v.fail(key+".ldu.state", "use 0 (let Meta geolocate) or a Meta state code such as 1000 (California)", "must be ≥ 0, got %d", d.LDU.State)
	}
	if !d.LDU.Enabled && (d.LDU.Country != 0 || d.LDU.State != 0) {
		v.warn(key+".ldu.enabled", "set enabled: true or remove country/state", "country/state are set but LDU is disabled: they are ignored")
	}
	if d.Matching.MinStrongKeys < 0 {
		v.fail(key+".matching.min_strong_keys", "use 0 or more (default 1)", "must be ≥ 0, got %d", d.Matching.MinStrongKeys)
	}
	if d.Matching.MinOtherKeys < 0 {
		v.fail(key+".matching.min_other_keys", "use 0 or more (default 3)", "must be ≥ 0, got %d", d.Matching.MinOtherKeys)
	}
	w := d.Window
	v.positive(key+".window.max_age", w.MaxAge, "168h")
	v.positive(key+".window.max_age_physical_store", w.MaxAgePhysicalStore, "1488h")
	v.positive(key+".window.max_future", w.MaxFuture, "5m")
	if w.MaxAge > MetaMaxAge {
		v.fail(key+".window.max_age", "use at most 168h", "%s exceeds Meta's 7-day limit: such events would fail whole batches", w.MaxAge)
	}
	if w.MaxAgePhysicalStore > MetaMaxAgePhysicalStore {
		v.fail(key+".window.max_age_physical_store", "use at most 1488h", "%s exceeds Meta's 62-day limit for physical_store events", w.MaxAgePhysicalStore)
	}
	if w.SafetyMargin < 0 || (w.MaxAge > 0 && w.SafetyMargin >= w.MaxAge) {
		v.fail(key+".window.safety_margin", "use a duration ≥ 0 and well below max_age, e.g. 1h", "%s is outside [0, max_age)", w.SafetyMargin)
	}
	b := d.Batch
	if b.MaxEvents < 1 || b.MaxEvents > MaxBatchEvents {
		v.fail(key+".batch.max_events", "use 1..1000 (Meta's cap per request)", "%d is out of range", b.MaxEvents)
	}
	if b.MaxBytes <= 0 {
		v.fail(key+".batch.max_bytes", "use a positive byte count, e.g. 4000000", "must be > 0, got %d", b.MaxBytes)
	}
	if b.Linger < 0 {
		v.fail(key+".batch.linger", "use 0 (send at once) or a positive duration, e.g. 250ms", "must be ≥ 0, got %s", b.Linger)
	}
	if b.MaxInFlight < 1 {
		v.fail(key+".batch.max_in_flight", "use 1 or more, e.g. 4", "must be ≥ 1, got %d", b.MaxInFlight)
	}
	r := d.Retry
	v.positive(key+".retry.initial_backoff", r.InitialBackoff, "500ms")
	v.positive(key+".retry.max_backoff", r.MaxBackoff, "60s")
	v.positive(key+".retry.throttle_backoff", r.ThrottleBackoff, "60s")
	if r.InitialBackoff > 0 && r.MaxBackoff > 0 && r.InitialBackoff > r.MaxBackoff {
		v.fail(key+".retry.initial_backoff", "make it ≤ max_backoff", "%s is larger than max_backoff %s", r.InitialBackoff, r.MaxBackoff)
	}
	if d.Breaker.ConsecutiveFailures < 1 {
		v.fail(key+".breaker.consecutive_failures", "use 1 or more, e.g. 5", "must be ≥ 1, got %d", d.Breaker.ConsecutiveFailures)
	}
	v.positive(key+".breaker.open_timeout", d.Breaker.OpenTimeout, "30s")
}

// token rejects whitespace in a Graph credential: tokens and app secrets never contain any, and one pasted with a
// space or a line break would fail every call with code 190 at run time. The message says where, never what.
func (v *validation) token(key string, s Secret, envName string) {
	raw := s.Reveal()
	i := strings.IndexFunc(raw, unicode.IsSpace)
	if i < 0 {
		return
	}
	what := "whitespace"
	switch raw[i] {
	case ' ':
		what = "a space"
	case '\n', '\r':
		what = "a line break"
	case '\t':
		what = "a tab"
	}
	v.fail(key, "copy it again without spaces or line breaks (in "+envName+" or "+envName+"_FILE; a file may end with one line break)",
		"contains %s at character %d of %d: Graph would refuse it (code 190)", what, utf8.RuneCountInString(raw[:i])+1, utf8.RuneCountInString(raw))
}

func (v *validation) positive(key string, d time.Duration, example string) {
	if d <= 0 {
		v.fail(key, "use a positive duration, e.g. "+example, "must be > 0, got %s", d)
	}
}

func (v *validation) top(c *Config) {
	if c.MetricsAddr != "" {
		_, port, err := net.SplitHostPort(c.MetricsAddr)
		if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 0 || p > 65535 {
			v.fail("metrics_addr", `use host:port or :port, e.g. ":9464", or "" to disable`, "%q is not a listen address", c.MetricsAddr)
		}
	}
	if c.ShutdownTimeout <= 0 {
		v.fail("shutdown_timeout", "use a positive duration, e.g. 30s", "must be > 0, got %s", c.ShutdownTimeout)
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		v.fail("log_level", "use trace, debug, info, warn, error, fatal, panic or disabled", "unknown level %q", c.LogLevel)
	}
	if c.LogFormat != LogJSON && c.LogFormat != LogConsole {
		v.fail("log_format", "use json or console", "unknown format %q", c.LogFormat)
	}
}

// ParseLogLevel converts log_level to a zerolog level. Unlike zerolog.ParseLevel it rejects "" and numbers, so a
// blank setting is reported instead of silently logging everything.
func ParseLogLevel(s string) (zerolog.Level, error) {
	switch s {
	case "trace", "debug", "info", "warn", "error", "fatal", "panic", "disabled":
		return zerolog.ParseLevel(s)
	}
	return zerolog.NoLevel, fmt.Errorf("%w: log level %q", ErrInvalidValue, s)
}
