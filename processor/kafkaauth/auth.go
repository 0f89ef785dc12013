// Package kafkaauth authenticates the connector to Kafka: it builds the franz-go SASL mechanism of the configuration
// (PLAIN, SCRAM-SHA-256/512 with a password file read again at every authentication, OAUTHBEARER with OIDC client
// credentials, AWS_MSK_IAM with the AWS default credential chain), a TLS dialer whose errors name the broker, and
// the plain-language explanation of a refused connection (which user, which mechanism, which x509 problem) —
// never a secret.
//
// One Auth is shared by every Kafka client of the process (consumer, DLQ producer, replay), so they share one
// OAuth token and one AWS credential cache.
package kafkaauth

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/capi-connector/capi-connector/config"
)

// Auth is the SASL side of the Kafka connection settings. Build it with New; a nil *Auth means no SASL.
type Auth struct {
	mechanism string
	identity  string // who authenticates, for messages: never a secret
	mech      sasl.Mechanism
	tokens    *tokenSource // OAUTHBEARER only
	aws       *awsIAM      // AWS_MSK_IAM only
}

// Options are what tests and embedders may override; the zero value is the production behaviour.
type Options struct {
	// AWSLoader replaces the AWS default credential chain (tests use fixed credentials).
	AWSLoader AWSLoader
}

// New builds the mechanism of s. With no mechanism it returns an Auth whose Mechanism is nil. It does no I/O except
// for AWS_MSK_IAM, which loads the AWS shared configuration (files and environment, no network).
func New(ctx context.Context, s config.SASL, log zerolog.Logger, o Options) (*Auth, error) {
	a := &Auth{mechanism: s.Mechanism}
	switch s.Mechanism {
	case "":
		return a, nil
	case config.SASLPlain, config.SASLScramSHA256, config.SASLScramSHA512:
		a.identity = fmt.Sprintf("user %q", s.Username)
		pw := &passwordFile{value: s.Password, file: s.PasswordFile, log: log}
		switch s.Mechanism {
		case config.SASLPlain:
			a.mech = plain.Plain(func(context.Context) (plain.Auth, error) {
				return plain.Auth{User: s.Username, Pass: pw.get().Reveal()}, nil
			})
		case config.SASLScramSHA256:
			a.mech = scram.Sha256(func(context.Context) (scram.Auth, error) {
				return scram.Auth{User: s.Username, Pass: pw.get().Reveal()}, nil
			})
		default:
			a.mech = scram.Sha512(func(context.Context) (scram.Auth, error) {
				return scram.Auth{User: s.Username, Pass: pw.get().Reveal()}, nil
			})
		}
	case config.SASLOAuthBearer:
		a.identity = fmt.Sprintf("client_id %q", s.OAuth.ClientID)
		a.tokens = newTokenSource(s.OAuth, log)
		a.mech = a.tokens.mechanism()
	case config.SASLAWSMSKIAM:
		a.identity = "the AWS identity of the default credential chain"
		iam, err := newAWSIAM(ctx, s.AWS, o.AWSLoader)
		if err != nil {
			return nil, err
		}
		a.aws = iam
		a.mech = iam.mechanism()
		a.identity = iam.identity
	default:
		return nil, fmt.Errorf("kafka.sasl.mechanism: unknown mechanism %q", s.Mechanism)
	}
	return a, nil
}

// Mechanism is the franz-go mechanism (kgo.SASL), nil without SASL.
func (a *Auth) Mechanism() sasl.Mechanism {
	if a == nil {
		return nil
	}
	return a.mech
}

// Describe names who authenticates and how, e.g. `user "capi" with SCRAM-SHA-512`, for messages. "" without SASL.
func (a *Auth) Describe() string {
	if a == nil || a.mechanism == "" {
		return ""
	}
	return a.identity + " with " + a.mechanism
}

// Prepare gets the credentials before the first connection: an OAuth token, AWS credentials. A refusal (wrong
// client secret, unknown client, no AWS credentials) is a *RefusedError; an unreachable endpoint returns its
// error, worth retrying.
func (a *Auth) Prepare(ctx context.Context) error {
	switch {
	case a == nil:
	case a.tokens != nil:
		_, err := a.tokens.token(ctx)
		return err
	case a.aws != nil:
		return a.aws.prepare(ctx)
	}
	return nil
}

// Run keeps the credentials fresh until ctx ends: it fetches an OAuth token before the current one expires and
// retries a failing token endpoint with backoff, so Health turns healthy again by itself. A no-op without OAuth.
func (a *Auth) Run(ctx context.Context) {
	if a != nil && a.tokens != nil {
		a.tokens.run(ctx)
	}
}

// Health is nil while credentials can be obtained, else the reason (the token endpoint's last failure).
func (a *Auth) Health() error {
	if a != nil && a.tokens != nil {
		return a.tokens.health()
	}
	return nil
}

// TokensFetched counts the OAuth tokens obtained so far (0 without OAuth).
func (a *Auth) TokensFetched() int {
	if a != nil && a.tokens != nil {
		return a.tokens.fetchedCount()
	}
	return 0
}

// RefusedError is a credential the identity provider refused (wrong client secret, unknown client): retrying with
// the same settings cannot succeed, though a rotated secret file is read again at the next attempt.
type RefusedError struct {
	Identity string // e.g. client_id "capi"
	Err      error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("credentials of %s refused: %v", e.Identity, e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// ErrRefused matches every *RefusedError with errors.Is.
var ErrRefused = errors.New("credentials refused")

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// passwordFile is a PLAIN/SCRAM password, read again from its file (when there is one) at every authentication: a
// rotated Kubernetes secret is used by the next connection or re-authentication, no restart. A failed read keeps
// the last value and warns (once per distinct error).
type passwordFile struct {
	file string
	log  zerolog.Logger

	mu      sync.Mutex
	value   config.Secret
	lastErr string
}

func (p *passwordFile) get() config.Secret {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.file == "" {
		return p.value
	}
	v, err := config.ReadSecretFile(p.file)
	switch {
	case err != nil:
		if msg := err.Error(); msg != p.lastErr {
			p.lastErr = msg
			p.log.Warn().Err(err).Str("key", "kafka.sasl.password_file").Msg("cannot read the SASL password file again; using the last password read")
		}
	case v != p.value:
		if p.value != "" {
			p.log.Info().Str("key", "kafka.sasl.password_file").Msg("the SASL password file changed; authenticating with the new password")
		}
		p.value, p.lastErr = v, ""
	default:
		p.lastErr = ""
	}
	return p.value
}
