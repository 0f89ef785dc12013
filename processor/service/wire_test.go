package service_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/schema"
	"github.com/capi-connector/capi-connector/schema/registrytest"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// decoderConfig reads topics web (json), app and app2 (avro-confluent on reg) and store (avro-schema).
func decoderConfig(t *testing.T, reg *registrytest.Server) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Kafka.Topics = []string{"web", "app", "app2", "store"}
	cfg.Kafka.InputFormats = map[string]string{
		"app": config.FormatAvroConfluent, "app2": config.FormatAvroConfluent, "store": config.FormatAvroSchema,
	}
	user, pass := reg.BasicAuth()
	cfg.Kafka.SchemaRegistry.URL, cfg.Kafka.SchemaRegistry.Username = reg.URL(), user
	cfg.Kafka.SchemaRegistry.Password = config.Secret(pass)
	cfg.Kafka.SchemaFile = filepath.Join(t.TempDir(), "event.avsc")
	if err := os.WriteFile(cfg.Kafka.SchemaFile, []byte(schema.EventAvroSchema()), 0o600); err != nil {
		t.Fatal(err)
	}
	d := config.DefaultDestination()
	d.PixelID, d.AccessToken, d.ConsentCategory, d.DefaultPhoneRegion = "1234567890", "tok", sample.ConsentCategory, "FR"
	cfg.Destinations = []config.Destination{d}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test configuration invalid: %v", err)
	}
	return cfg
}

// TestBuildPipelineTopicFormats: each topic decodes with its configured format, and every avro-confluent topic
// shares one decoder (one registry fetch per schema id for the process).
func TestBuildPipelineTopicFormats(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithBasicAuth("svc", "registry-pass"))
	id := reg.Register("app-value", schema.EventAvroSchema())
	cfg := decoderConfig(t, reg)
	p, err := service.BuildPipeline(cfg)
	if err != nil {
		t.Fatal(err)
	}

	ev := sample.New(3, time.Now())
	var js sample.Event
	for js = ev.Next(); js.Kind != sample.Deliverable; js = ev.Next() {
	}
	var typed schema.Event
	if err := schema.NewJSONDecoder().Decode(js.Value, &typed); err != nil {
		t.Fatal(err)
	}
	confluent, err := schema.EncodeAvroConfluent(id, "", schema.EventToAvro(&typed))
	if err != nil {
		t.Fatal(err)
	}
	plain := confluent[5:]

	tests := []struct {
		topic  string
		value  []byte
		reason reject.Reason // "" = delivered
	}{
		{"web", js.Value, ""},
		{"app", confluent, ""},
		{"app2", confluent, ""},
		{"store", plain, ""},
		{"not-configured", js.Value, ""}, // the default format
		{"web", confluent, reject.InvalidPayload},
		{"app", js.Value, reject.InvalidPayload}, // not Confluent-framed at all
		{"store", js.Value, reject.SchemaError},
	}
	for _, tc := range tests {
		outs, err := p.Process(context.Background(), processor.Record{Topic: tc.topic, Value: tc.value, Timestamp: time.Now()}, time.Now(), nil)
		if err != nil || len(outs) != 1 {
			t.Fatalf("%s: %d outcomes, err %v", tc.topic, len(outs), err)
		}
		o := outs[0]
		switch {
		case tc.reason == "" && (o.Rejection != nil || o.JSON == nil || o.EventID != js.EventID):
			t.Errorf("%s: want delivered event %s, got rejection %v event %q", tc.topic, js.EventID, o.Rejection, o.EventID)
		case tc.reason != "" && (o.Rejection == nil || o.Rejection.Reason != tc.reason):
			t.Errorf("%s: want %s, got %+v", tc.topic, tc.reason, o)
		}
	}
	if n := reg.Fetches(id); n != 1 {
		t.Errorf("schema %d fetched %d times for two avro-confluent topics, want 1 (one shared decoder)", id, n)
	}
	if n := reg.AuthFailures(); n != 0 {
		t.Errorf("%d requests refused: the registry credentials did not reach the decoder", n)
	}

	// A registry that is down is not the record's fault: Process returns an error (retried), no rejection.
	reg.SetDown(true)
	cold, err := schema.EncodeAvroConfluent(id+1, "", schema.EventToAvro(&typed))
	if err != nil {
		t.Fatal(err)
	}
	reg.Add(id+1, schema.EventAvroSchema())
	outs, err := p.Process(context.Background(), processor.Record{Topic: "app2", Value: cold}, time.Now(), nil)
	if !errors.Is(err, schema.ErrRegistryUnavailable) || len(outs) != 0 {
		t.Fatalf("registry down: err %v, outcomes %+v; want ErrRegistryUnavailable and nothing", err, outs)
	}
}

func TestBuildPipelineDecoderErrors(t *testing.T) {
	reg := registrytest.New(t)
	tests := []struct {
		name   string
		mutate func(c *config.Config)
		want   string
	}{
		{"unknown per-topic format", func(c *config.Config) { c.Kafka.InputFormats["app"] = "protobuf" }, "kafka.input_formats.app"},
		{"unreadable schema file", func(c *config.Config) { c.Kafka.SchemaFile = filepath.Join(t.TempDir(), "none.avsc") },
			"kafka.input_formats.store"},
		{"bad registry url", func(c *config.Config) { c.Kafka.SchemaRegistry.URL = "registry:8081" }, "kafka.input_formats.app"},
		{"unknown default format", func(c *config.Config) { c.Kafka.InputFormat = "xml" }, "kafka.input_format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := decoderConfig(t, reg)
			tc.mutate(&cfg)
			_, err := service.BuildPipeline(cfg)
			var ce *service.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a ConfigError naming %s", err, tc.want)
			}
		})
	}
}
