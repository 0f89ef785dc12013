package config

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/rs/zerolog"
)

// Redaction is what a non-empty Secret prints as.
const Redaction = "[redacted]"

// Secret is a credential. Every way of printing it — fmt verbs (including %#v and %x), String, GoString, JSON,
// YAML and text marshalling — yields "[redacted]" ("" when empty, so an unset secret stays visible as unset).
// Reveal is the only way to the value; grep for it to audit where credentials go.
//
// Decoding is not affected: a Secret is a string kind, so YAML and JSON read it like any string.
type Secret string

// Reveal returns the credential itself. Use it only where the credential is sent (an HTTP request, a SASL handshake).
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) masked() string {
	if s == "" {
		return ""
	}
	return Redaction
}

// String returns "[redacted]" or "".
func (s Secret) String() string { return s.masked() }

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.masked()) }

// Format makes every fmt verb (%s, %v, %q, %x, %d…) print the mask, never the bytes.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	if verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", s.masked())
		return
	}
	_, _ = io.WriteString(f, s.masked())
}

// MarshalJSON writes the mask as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.masked()) }

// MarshalText writes the mask (used by encoders that fall back on encoding.TextMarshaler).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.masked()), nil }

// MarshalYAML writes the mask.
func (s Secret) MarshalYAML() (any, error) { return s.masked(), nil }

// Redacted returns a deep copy of c whose secrets are replaced by "[redacted]" (empty secrets stay empty), safe to
// print or serialise with any encoder, including ones that ignore Secret's marshalling methods (reflection-based
// dumpers). Secret file paths are kept: they are not secret and tell where the value came from.
func (c Config) Redacted() Config {
	r := c
	r.Kafka.Brokers = slices.Clone(c.Kafka.Brokers)
	r.Kafka.Topics = slices.Clone(c.Kafka.Topics)
	r.Kafka.InputFormats = maps.Clone(c.Kafka.InputFormats)
	r.Kafka.SASL.Password = Secret(c.Kafka.SASL.Password.masked())
	r.Kafka.SASL.OAuth.ClientSecret = Secret(c.Kafka.SASL.OAuth.ClientSecret.masked())
	r.Kafka.SASL.OAuth.Extensions = maps.Clone(c.Kafka.SASL.OAuth.Extensions)
	r.Kafka.SchemaRegistry.Password = Secret(c.Kafka.SchemaRegistry.Password.masked())
	r.ignoredEnv = slices.Clone(c.ignoredEnv)
	if c.Destinations != nil {
		r.Destinations = make([]Destination, len(c.Destinations))
		for i, d := range c.Destinations {
			d.AccessToken = Secret(d.AccessToken.masked())
			d.AppSecret = Secret(d.AppSecret.masked())
			d.Events.Include = slices.Clone(d.Events.Include)
			d.Events.Exclude = slices.Clone(d.Events.Exclude)
			r.Destinations[i] = d
		}
	}
	return r
}

// MarshalZerologObject logs the configuration with secrets redacted: log.Info().Object("config", cfg).
func (c Config) MarshalZerologObject(e *zerolog.Event) {
	r := c.Redacted()
	e.Interface("kafka", r.Kafka).
		Interface("graph", r.Graph).
		Interface("destinations", r.Destinations).
		Str("metrics_addr", r.MetricsAddr).
		Stringer("shutdown_timeout", r.ShutdownTimeout).
		Str("log_level", r.LogLevel).
		Str("log_format", r.LogFormat)
}
