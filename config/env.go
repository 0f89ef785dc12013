package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every variable the loader reads.
const EnvPrefix = "CAPI_"

// destEnvPrefix starts per-destination variables: CAPI_DEST_<NAME>_<SUFFIX>.
const destEnvPrefix = EnvPrefix + "DEST_"

// envDestinationName renames the single destination (it has no per-destination form).
const envDestinationName = EnvPrefix + "DESTINATION_NAME"

// binding ties an environment variable to a key path. For global bindings env is the full name; for destination
// bindings it is the suffix after CAPI_ (single destination) or after CAPI_DEST_<NAME>_ (named destination), and key
// is relative to the destination.
type binding struct {
	env string
	key string
}

// globalBindings is the table of every non-destination variable. It is the single source of truth for KnownEnv.
func globalBindings() []binding {
	b := []binding{
		{"CAPI_KAFKA_BROKERS", "kafka.brokers"},
		{"CAPI_KAFKA_TOPIC", "kafka.topics"},
		{"CAPI_KAFKA_GROUP", "kafka.group"},
		{"CAPI_KAFKA_GROUP_INSTANCE_ID", "kafka.group_instance_id"},
		{"CAPI_KAFKA_START_OFFSET", "kafka.start_offset"},
		{"CAPI_DLQ_TOPIC", "kafka.dlq_topic"},
		{"CAPI_DLQ_CREATE", "kafka.dlq_create"},
		{"CAPI_DLQ_PARTITIONS", "kafka.dlq_partitions"},
		{"CAPI_DLQ_REPLICATION_FACTOR", "kafka.dlq_replication_factor"},
		{"CAPI_KAFKA_CLIENT_ID", "kafka.client_id"},
		{"CAPI_KAFKA_SESSION_TIMEOUT", "kafka.session_timeout"},
		{"CAPI_MAX_IN_FLIGHT_RECORDS", "kafka.max_in_flight_records"},
		{"CAPI_KAFKA_FETCH_MAX_BYTES", "kafka.fetch_max_bytes"},
		{"CAPI_INPUT_FORMAT", "kafka.input_format"},
		{"CAPI_INPUT_FORMATS", "kafka.input_formats"},
		{"CAPI_SCHEMA_FILE", "kafka.schema_file"},
		{"CAPI_SCHEMA_REGISTRY_URL", "kafka.schema_registry.url"},
		{"CAPI_SCHEMA_REGISTRY_USERNAME", "kafka.schema_registry.username"},
		{"CAPI_SCHEMA_REGISTRY_PASSWORD", "kafka.schema_registry.password"},
		{"CAPI_SCHEMA_REGISTRY_PASSWORD_FILE", "kafka.schema_registry.password_file"},
		{"CAPI_KAFKA_SASL_MECHANISM", "kafka.sasl.mechanism"},
		{"CAPI_KAFKA_SASL_USERNAME", "kafka.sasl.username"},
		{"CAPI_KAFKA_SASL_PASSWORD", "kafka.sasl.password"},
		{"CAPI_KAFKA_SASL_PASSWORD_FILE", "kafka.sasl.password_file"},
		{"CAPI_KAFKA_SASL_OAUTH_TOKEN_URL", "kafka.sasl.oauth.token_url"},
		{"CAPI_KAFKA_SASL_OAUTH_CLIENT_ID", "kafka.sasl.oauth.client_id"},
		{"CAPI_KAFKA_SASL_OAUTH_CLIENT_SECRET", "kafka.sasl.oauth.client_secret"},
		{"CAPI_KAFKA_SASL_OAUTH_CLIENT_SECRET_FILE", "kafka.sasl.oauth.client_secret_file"},
		{"CAPI_KAFKA_SASL_OAUTH_SCOPE", "kafka.sasl.oauth.scope"},
		{"CAPI_KAFKA_SASL_OAUTH_EXTENSIONS", "kafka.sasl.oauth.extensions"},
		{"CAPI_KAFKA_SASL_AWS_REGION", "kafka.sasl.aws.region"},
		{"CAPI_GRAPH_URL", "graph.url"},
		{"CAPI_GRAPH_API_VERSION", "graph.api_version"},
		{"CAPI_GRAPH_REQUEST_TIMEOUT", "graph.request_timeout"},
		{"CAPI_PARTNER_AGENT", "graph.partner_agent"},
		{"CAPI_METRICS_ADDR", "metrics_addr"},
		{"CAPI_SHUTDOWN_TIMEOUT", "shutdown_timeout"},
		{"CAPI_LOG_LEVEL", "log_level"},
		{"CAPI_LOG_FORMAT", "log_format"},
	}
	for _, t := range []struct{ env, key string }{
		{"CAPI_KAFKA_TLS_", "kafka.tls."},
		{"CAPI_SCHEMA_REGISTRY_TLS_", "kafka.schema_registry.tls."},
	} {
		for _, f := range []string{"enabled", "ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"} {
			b = append(b, binding{t.env + strings.ToUpper(f), t.key + f})
		}
	}
	return b
}

// destBindings is the table of per-destination variables (suffixes). CAPI_<SUFFIX> addresses the single
// destination, CAPI_DEST_<NAME>_<SUFFIX> the named one.
func destBindings() []binding {
	return []binding{
		{"PIXEL_ID", "pixel_id"},
		{"ACCESS_TOKEN", "access_token"},
		{"ACCESS_TOKEN_FILE", "access_token_file"},
		{"APP_SECRET", "app_secret"},
		{"APP_SECRET_FILE", "app_secret_file"},
		{"CONSENT_CATEGORY", "consent_category"},
		{"DEFAULT_PHONE_REGION", "default_phone_region"},
		{"USER_DATA_PLACEHOLDERS", "user_data_placeholders"},
		{"TEST_EVENT_CODE", "test_event_code"},
		{"EVENTS_INCLUDE", "events.include"},
		{"EVENTS_EXCLUDE", "events.exclude"},
		{"LDU_ENABLED", "ldu.enabled"},
		{"LDU_COUNTRY", "ldu.country"},
		{"LDU_STATE", "ldu.state"},
		{"CUSTOM_DATA_PASSTHROUGH", "custom_data_passthrough"},
		{"MIN_STRONG_KEYS", "matching.min_strong_keys"},
		{"MIN_OTHER_KEYS", "matching.min_other_keys"},
		{"WINDOW_MAX_AGE", "window.max_age"},
		{"WINDOW_MAX_AGE_PHYSICAL_STORE", "window.max_age_physical_store"},
		{"WINDOW_SAFETY_MARGIN", "window.safety_margin"},
		{"WINDOW_MAX_FUTURE", "window.max_future"},
		{"BATCH_MAX_EVENTS", "batch.max_events"},
		{"BATCH_MAX_BYTES", "batch.max_bytes"},
		{"BATCH_LINGER", "batch.linger"},
		{"BATCH_MAX_IN_FLIGHT", "batch.max_in_flight"},
		{"RETRY_INITIAL_BACKOFF", "retry.initial_backoff"},
		{"RETRY_MAX_BACKOFF", "retry.max_backoff"},
		{"RETRY_THROTTLE_BACKOFF", "retry.throttle_backoff"},
		{"BREAKER_CONSECUTIVE_FAILURES", "breaker.consecutive_failures"},
		{"BREAKER_OPEN_TIMEOUT", "breaker.open_timeout"},
	}
}

// secretPairs are (secret key, file key) pairs, relative to the config root (global) or a destination.
func globalSecretPairs() [][2]string {
	return [][2]string{
		{"kafka.sasl.password", "kafka.sasl.password_file"},
		{"kafka.sasl.oauth.client_secret", "kafka.sasl.oauth.client_secret_file"},
		{"kafka.schema_registry.password", "kafka.schema_registry.password_file"},
	}
}

func destSecretPairs() [][2]string {
	return [][2]string{{"access_token", "access_token_file"}, {"app_secret", "app_secret_file"}}
}

// KnownEnv returns, sorted, every fixed-name variable the loader reads, _FILE variants included. Per-destination
// variables CAPI_DEST_<NAME>_<SUFFIX> are not listed (their names depend on the file); IsKnownEnv accepts them, and
// each one mirrors a single-destination variable here (CAPI_<SUFFIX>).
func KnownEnv() []string {
	var out []string
	for _, b := range globalBindings() {
		out = append(out, b.env)
	}
	out = append(out, envDestinationName)
	for _, b := range destBindings() {
		out = append(out, EnvPrefix+b.env)
	}
	slices.Sort(out)
	return out
}

// IsKnownEnv reports whether name is a variable the loader may read: a KnownEnv name or a per-destination
// CAPI_DEST_<NAME>_<SUFFIX>. Use it to flag typos among the CAPI_* variables of the environment (the loader cannot
// list the environment itself).
func IsKnownEnv(name string) bool {
	if slices.Contains(KnownEnv(), name) {
		return true
	}
	rest, ok := strings.CutPrefix(name, destEnvPrefix)
	if !ok {
		return false
	}
	for _, b := range destBindings() {
		if dest, ok := strings.CutSuffix(rest, "_"+b.env); ok && dest != "" {
			return true
		}
	}
	return false
}

// DestinationEnvPrefix returns the prefix of the variables addressing the destination called name: CAPI_DEST_
// followed by the name in upper case with every character other than A-Z and 0-9 replaced by '_'
// ("shop-fr" → CAPI_DEST_SHOP_FR_). Names that differ only by case or punctuation share a prefix; Validate rejects that.
func DestinationEnvPrefix(name string) string {
	var b strings.Builder
	b.WriteString(destEnvPrefix)
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	b.WriteByte('_')
	return b.String()
}

// applyEnv layers the environment over c. It returns every problem found, one LoadError each.
func applyEnv(c *Config, env func(string) (string, bool), src *sources) []error {
	var errs []error
	root := reflect.ValueOf(c).Elem()

	set, e := applyBindings(root, "", globalBindings(), func(b binding) string { return b.env }, env, src)
	errs = append(errs, e...)
	errs = append(errs, resolvePairs(root, "", globalSecretPairs(), set)...)

	// Single-destination variables.
	single := func(b binding) string { return EnvPrefix + b.env }
	var present []string
	if _, ok := env(envDestinationName); ok {
		present = append(present, envDestinationName)
	}
	for _, b := range destBindings() {
		if _, ok := env(single(b)); ok {
			present = append(present, single(b))
		}
	}
	if len(present) > 0 {
		switch len(c.Destinations) {
		case 0:
			c.Destinations = append(c.Destinations, DefaultDestination())
			fallthrough
		case 1:
			d := &c.Destinations[0]
			if name, ok := env(envDestinationName); ok {
				d.Name = strings.TrimSpace(name)
			}
			dv := reflect.ValueOf(d).Elem()
			set, e := applyBindings(dv, "destinations[0].", destBindings(), single, env, src)
			errs = append(errs, e...)
			errs = append(errs, resolvePairs(dv, "destinations[0].", destSecretPairs(), set)...)
		default:
			slices.Sort(present)
			c.ignoredEnv = present
		}
	}

	// Per-destination variables, by name.
	for i := range c.Destinations {
		prefix := DestinationEnvPrefix(c.Destinations[i].Name)
		dv := reflect.ValueOf(&c.Destinations[i]).Elem()
		keyPrefix := fmt.Sprintf("destinations[%d].", i)
		set, e := applyBindings(dv, keyPrefix, destBindings(), func(b binding) string { return prefix + b.env }, env, src)
		errs = append(errs, e...)
		errs = append(errs, resolvePairs(dv, keyPrefix, destSecretPairs(), set)...)
	}
	return errs
}

// applyBindings sets each bound key whose variable is present, recording the variable in src. It returns the keys
// set to a non-empty value, mapped to their variable names (for secret-pair resolution).
func applyBindings(target reflect.Value, keyPrefix string, list []binding, envName func(binding) string,
	env func(string) (string, bool), src *sources) (map[string]string, []error) {
	set := map[string]string{}
	var errs []error
	for _, b := range list {
		name := envName(b)
		raw, ok := env(name)
		if !ok {
			continue
		}
		f, err := fieldByPath(target, b.key)
		if err != nil { // a table bug, caught by tests
			panic(err)
		}
		src.env[keyPrefix+b.key] = name
		if err := setFromString(f, raw); err != nil {
			errs = append(errs, &LoadError{Key: keyPrefix + b.key, Env: name, Err: err, Fix: fixFor(f.Type())})
			continue
		}
		if raw != "" {
			set[b.key] = name
		}
	}
	return set, errs
}

// resolvePairs applies the rule "a layer that sets a secret or its file replaces the other; setting both in one
// layer is a conflict".
func resolvePairs(target reflect.Value, keyPrefix string, pairs [][2]string, set map[string]string) []error {
	var errs []error
	for _, p := range pairs {
		secretEnv, secretSet := set[p[0]]
		fileEnv, fileSet := set[p[1]]
		switch {
		case secretSet && fileSet:
			errs = append(errs, &LoadError{
				Key: keyPrefix + p[0], Env: secretEnv,
				Err: fmt.Errorf("%w: both %s and %s are set", ErrConflict, secretEnv, fileEnv),
				Fix: "unset one of them (prefer " + fileEnv + ")",
			})
		case secretSet:
			mustField(target, p[1]).SetString("")
		case fileSet:
			mustField(target, p[0]).SetString("")
		}
	}
	return errs
}

var durationType = reflect.TypeFor[time.Duration]()

// setFromString parses an environment value into f. Lists are comma-separated (blank items dropped); strings other
// than secrets are trimmed. Error messages never contain secret values (secrets cannot fail to parse).
func setFromString(f reflect.Value, raw string) error {
	s := strings.TrimSpace(raw)
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%w: %q is not a duration", ErrInvalidValue, s)
		}
		f.SetInt(int64(d))
	case f.Type() == reflect.TypeFor[Secret]():
		f.SetString(trimOneLineBreak(raw))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Bool:
		v, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%w: %q is not a boolean", ErrInvalidValue, s)
		}
		f.SetBool(v)
	case f.Kind() == reflect.Int:
		v, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%w: %q is not an integer", ErrInvalidValue, s)
		}
		f.SetInt(int64(v))
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		f.Set(reflect.ValueOf(splitList(s)))
	case f.Type() == stringMapType:
		m, err := splitMap(s)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(m))
	default:
		panic("config: no env parser for " + f.Type().String())
	}
	return nil
}

// splitList splits a comma-separated list, trimming items and dropping blank ones. "" is an empty (non-nil) list.
func splitList(s string) []string {
	out := []string{}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

var stringMapType = reflect.TypeFor[map[string]string]()

// splitMap parses "k1=v1,k2=v2" (items trimmed, blank items dropped) into a map. "" is an empty (non-nil) map. An
// item without '=', with an empty side, or repeating a key is an ErrInvalidValue.
func splitMap(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range splitList(s) {
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "" || v == "":
			return nil, fmt.Errorf("%w: %q is not key=value", ErrInvalidValue, item)
		case out[k] != "":
			return nil, fmt.Errorf("%w: %q is given twice", ErrInvalidValue, k)
		}
		out[k] = v
	}
	return out, nil
}

// fixFor explains the expected syntax of a type.
func fixFor(t reflect.Type) string {
	switch {
	case t == durationType:
		return "use Go duration syntax, e.g. 500ms, 30s, 1h30m"
	case t.Kind() == reflect.Bool:
		return "use true or false"
	case t.Kind() == reflect.Int:
		return "use a whole number"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "use a list (YAML sequence, or comma-separated in the environment)"
	case t.Kind() == reflect.Slice:
		return "use a YAML sequence (lines starting with \"- \")"
	case t.Kind() == reflect.Map:
		return "use a YAML mapping of key: value lines, or key=value pairs separated by commas (e.g. web=json,app=avro-confluent)"
	case t.Kind() == reflect.Struct:
		return "use a YAML mapping (indented key: value lines)"
	default:
		return "use a plain string"
	}
}

// fieldByPath finds the field addressed by a dotted key path of YAML names under v (a struct).
func fieldByPath(v reflect.Value, path string) (reflect.Value, error) {
	for part := range strings.SplitSeq(path, ".") {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, fmt.Errorf("config: %q: %s is not a struct", path, v.Type())
		}
		i, ok := yamlFields(v.Type())[part]
		if !ok {
			return reflect.Value{}, fmt.Errorf("config: %q: no key %q in %s", path, part, v.Type())
		}
		v = v.Field(i)
	}
	return v, nil
}

func mustField(v reflect.Value, path string) reflect.Value {
	f, err := fieldByPath(v, path)
	if err != nil {
		panic(err)
	}
	return f
}

// yamlFields maps the YAML key of each field of struct type t to its index.
func yamlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = i
	}
	return m
}
