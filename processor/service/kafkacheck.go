package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/processor/kafkaauth"
)

// errKafkaRefused marks connection settings the brokers refuse: retrying cannot fix them.
var errKafkaRefused = errors.New("kafka refused the connection settings")

// CheckKafka connects once before consuming so that settings the brokers refuse (wrong SASL credentials or
// mechanism, an untrusted or mismatched broker certificate, a client certificate the broker rejects, TLS against a
// plaintext listener) end the service with the cause. franz-go retries every connection failure forever, which would
// look like an idle, healthy consumer. Brokers that are down or still starting (connection refused, timeouts) are
// waited for, with a warning per attempt, until ctx ends: a Kafka outage must not crash-loop the connector.
//
// A broker that closes the connection right after it opens, three times in a row, is treated as a refusal: that is
// how brokers (and kfake) answer a failed SASL login on old protocol versions or a plaintext client on a TLS port.
//
// The credentials come first (auth, nil without SASL; the first OAuth token): a refusal ends the service, an
// unreachable identity provider is waited for like an unreachable broker.
func CheckKafka(ctx context.Context, kopts []kgo.Opt, k config.Kafka, auth *kafkaauth.Auth, log zerolog.Logger, checks *health.Registry) error {
	for wait := 250 * time.Millisecond; ; wait = min(wait*2, 10*time.Second) {
		err := auth.Prepare(ctx)
		if err == nil || ctx.Err() != nil {
			break
		}
		if hint := kafkaauth.Refusal(err, auth); hint != "" {
			return &ConfigError{fmt.Errorf("%w: %s: %w", errKafkaRefused, hint, err)}
		}
		if checks != nil {
			checks.Set(health.BrokersReachable, false, "kafka credentials: "+err.Error())
		}
		log.Warn().Err(err).Dur("retry_in", wait).Msg("cannot get Kafka credentials yet; waiting")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return &ConfigError{fmt.Errorf("kafka: %w", err)}
	}
	defer cl.Close()
	closedEarly := 0
	for wait := 250 * time.Millisecond; ; wait = min(wait*2, 10*time.Second) {
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := cl.Ping(pctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			if err == nil && checks != nil {
				checks.Set(health.BrokersReachable, true, "")
			}
			return nil
		}
		hint := kafkaauth.Refusal(err, auth)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if closedEarly++; closedEarly >= 3 {
				hint = "the broker closes the connection during the handshake: check the SASL credentials and mechanism " +
					"(kafka.sasl.*) and that kafka.tls.enabled matches the listener"
				if who := auth.Describe(); who != "" {
					hint = "SASL authentication failed for " + who + " (the broker closes the connection during the handshake): " +
						"check kafka.sasl.*, and that kafka.tls.enabled matches the listener"
				}
			}
		} else {
			closedEarly = 0
		}
		if hint != "" {
			return &ConfigError{fmt.Errorf("%w: brokers %v: %s: %w", errKafkaRefused, k.Brokers, hint, err)}
		}
		if checks != nil {
			checks.Set(health.BrokersReachable, false, fmt.Sprintf("brokers unreachable: %s: %v", strings.Join(k.Brokers, ","), err))
		}
		log.Warn().Err(err).Strs("brokers", k.Brokers).Dur("retry_in", wait).Msg("kafka brokers unreachable; waiting for them")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// kafkaRefusal explains err when it is a refusal of our settings, or returns "" for failures worth retrying.
func kafkaRefusal(err error) string { return kafkaauth.Refusal(err, nil) }
