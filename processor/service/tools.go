package service

// What the Kafka tools (produce-samples, import, replay) share with run: the settings they check and the producer.

import (
	"strings"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
)

// CheckKeys reports the configuration problems under the given key prefixes only: the commands that reach Kafka
// without delivering (replay, produce-samples, import) need no destination or decoder settings.
func CheckKeys(cfg config.Config, prefixes ...string) error {
	problems, _ := cfg.Check()
	var kept []config.Problem
	for _, p := range problems {
		for _, prefix := range prefixes {
			if strings.HasPrefix(p.Key, prefix) {
				kept = append(kept, p)
				break
			}
		}
	}
	if len(kept) > 0 {
		return &ConfigError{Err: &config.ValidationError{Problems: kept}}
	}
	return nil
}

// ProducerKeys are the settings a producer of the source topic needs (produce-samples, import).
var ProducerKeys = []string{"kafka.brokers", "kafka.topics", "kafka.tls", "kafka.sasl", "kafka.client_id"}

// NewProducer returns a client that produces to topic with acks from all in-sync replicas (and franz-go's default
// idempotence), connecting with the kafka settings of run; its client id is kafka.client_id-name.
func NewProducer(k config.Kafka, log zerolog.Logger, name, topic string, opts ...kgo.Opt) (*kgo.Client, error) {
	kopts, err := KafkaOpts(k, log)
	if err != nil {
		return nil, err
	}
	return kgo.NewClient(append(append(kopts,
		kgo.ClientID(k.ClientID+"-"+name),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	), opts...)...)
}
