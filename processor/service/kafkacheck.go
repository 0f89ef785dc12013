package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/health"
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
func CheckKafka(ctx context.Context, kopts []kgo.Opt, k config.Kafka, log zerolog.Logger, checks *health.Registry) error {
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
		hint := kafkaRefusal(err)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if closedEarly++; closedEarly >= 3 {
				hint = "the broker closes the connection during the handshake: check the SASL credentials and mechanism " +
					"(kafka.sasl.*) and that kafka.tls.enabled matches the listener"
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
func kafkaRefusal(err error) string {
	var verr *tls.CertificateVerificationError
	var op *net.OpError
	var rec tls.RecordHeaderError
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.UnsupportedSaslMechanism),
		errors.Is(err, kerr.IllegalSaslState):
		return "SASL login refused: check kafka.sasl.mechanism, username and password"
	case errors.As(err, &verr):
		return "the broker's TLS certificate is not trusted: check kafka.tls.ca_file and kafka.tls.server_name"
	case errors.As(err, &op) && op.Op == "remote error": // a TLS alert from the broker (crypto/tls sets this Op)
		return "the broker refused the TLS handshake (client certificate missing or not trusted): check kafka.tls.cert_file and key_file"
	case errors.As(err, &rec):
		return "the broker does not speak TLS on this port: check kafka.tls.enabled and kafka.brokers"
	case errors.Is(err, kerr.ClusterAuthorizationFailed), errors.Is(err, kerr.TopicAuthorizationFailed):
		return "the SASL user lacks permissions (ACLs)"
	}
	return ""
}
