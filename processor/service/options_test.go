package service

import (
	"os"
	"testing"

	"github.com/rs/zerolog"

	"github.com/capi-connector/capi-connector/config"
)

// kafka.group_instance_id (CAPI_KAFKA_GROUP_INSTANCE_ID, e.g. the pod name) reaches the consumer as its static
// member id; unset, the member is dynamic.
func TestStaticMembershipWiring(t *testing.T) {
	for _, id := range []string{"capi-connector-0", ""} {
		t.Setenv("CAPI_KAFKA_GROUP_INSTANCE_ID", id)
		t.Setenv("CAPI_PIXEL_ID", "1234567890123")
		t.Setenv("CAPI_ACCESS_TOKEN", "ops-access-token")
		cfg, err := config.Load("", os.LookupEnv)
		if err != nil {
			t.Fatal(err)
		}
		p, err := BuildPipeline(cfg)
		if err != nil {
			t.Fatal(err)
		}
		o, err := streamOptions(cfg, p, zerolog.Nop(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if o.InstanceID != id {
			t.Errorf("stream InstanceID = %q, want %q", o.InstanceID, id)
		}
	}
}
