package kafkaauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// DialError is a failed connection to one broker: which broker, and why (the x509 problem of a refused
// certificate, a refused connection…).
type DialError struct {
	Broker string
	Err    error
}

func (e *DialError) Error() string { return "broker " + e.Broker + ": " + e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

// TLSDialer dials brokers over TLS with tc (kgo.Dialer), like kgo.DialTLSConfig — the server name is the broker's
// host unless tc sets one — but its errors are *DialError naming the broker.
func TLSDialer(tc *tls.Config) func(ctx context.Context, network, host string) (net.Conn, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 20 * time.Second}, Config: tc}
	return func(ctx context.Context, network, host string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, host)
		if err != nil {
			return nil, &DialError{Broker: host, Err: err}
		}
		return c, nil
	}
}

// Refusal explains err when it means the brokers or the identity provider refuse our settings — retrying cannot
// help — naming who authenticated and how (a), the broker and the x509 problem; it returns "" for failures worth
// retrying (network, brokers starting). The explanation never contains a secret.
func Refusal(err error, a *Auth) string {
	var verr *tls.CertificateVerificationError
	var op *net.OpError
	var rec tls.RecordHeaderError
	who := ""
	if a != nil {
		who = a.Describe()
	}
	failed := "SASL authentication failed"
	if who != "" {
		failed += " for " + who
	}
	switch {
	case errors.Is(err, ErrRefused):
		return failed + ": the identity provider refused the credentials: " + fixFor(a)
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.IllegalSaslState):
		return failed + ": " + fixFor(a)
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return failed + ": the broker does not enable this mechanism: check kafka.sasl.mechanism"
	case errors.As(err, &verr):
		return fmt.Sprintf("%sthe broker's TLS certificate is not accepted: %s", brokerOf(err), x509Problem(verr))
	case errors.As(err, &op) && op.Op == "remote error": // a TLS alert from the broker (crypto/tls sets this Op)
		return brokerOf(err) + "the broker refused the TLS handshake (client certificate missing or not trusted): check kafka.tls.cert_file and key_file"
	case errors.As(err, &rec):
		return brokerOf(err) + "the broker does not speak TLS on this port: check kafka.tls.enabled and kafka.brokers"
	case errors.Is(err, kerr.ClusterAuthorizationFailed), errors.Is(err, kerr.TopicAuthorizationFailed):
		return fmt.Sprintf("%s lacks permissions (ACLs): see the least-privilege ACLs in docs/security.md", orSASLUser(who))
	}
	return ""
}

func orSASLUser(who string) string {
	if who == "" {
		return "the connector's principal"
	}
	return who
}

// fixFor names the keys to check for a refused login.
func fixFor(a *Auth) string {
	switch {
	case a == nil:
		return "check kafka.sasl.*"
	case a.tokens != nil:
		return "check kafka.sasl.oauth.client_id and client_secret (or client_secret_file), and that the broker accepts this provider's tokens (issuer, audience, scope)"
	case a.aws != nil:
		return "check the AWS credentials (AWS_PROFILE, IRSA role, instance role) and that their IAM policy allows kafka-cluster:Connect on this cluster"
	}
	return "check kafka.sasl.mechanism, username and password (or password_file)"
}

// brokerOf is "broker host:port: " when err names the broker it happened on.
func brokerOf(err error) string {
	var d *DialError
	if errors.As(err, &d) {
		return "broker " + d.Broker + ": "
	}
	return ""
}

// x509Problem says what is wrong with the broker's certificate, and what to change.
func x509Problem(verr *tls.CertificateVerificationError) string {
	var ua x509.UnknownAuthorityError
	var host x509.HostnameError
	var inv x509.CertificateInvalidError
	err := verr.Err
	switch {
	case errors.As(err, &ua):
		issuer := ""
		if ua.Cert != nil {
			issuer = fmt.Sprintf(" (issuer %q)", ua.Cert.Issuer.String())
		}
		return "x509: certificate signed by unknown authority" + issuer +
			": set kafka.tls.ca_file to the CA that signed the broker certificates"
	case errors.As(err, &host):
		names := []string{}
		if host.Certificate != nil {
			names = append(names, host.Certificate.DNSNames...)
			for _, ip := range host.Certificate.IPAddresses {
				names = append(names, ip.String())
			}
		}
		return fmt.Sprintf("x509: name mismatch: the certificate is valid for %s, not %s: use a broker address the certificate names, or set kafka.tls.server_name",
			strings.Join(names, ", "), host.Host)
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return "x509: the certificate has expired or is not yet valid (" + inv.Detail + "): renew it or check this machine's clock"
	}
	return err.Error() + ": check kafka.tls.ca_file and kafka.tls.server_name"
}
