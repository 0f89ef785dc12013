package kafkaauth

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/rs/zerolog"

	"github.com/capi-connector/capi-connector/config"
)

// The password file is read again at every authentication: a rotated Kubernetes secret is used by the next
// connection without a restart, and a file that cannot be read keeps the last password.
func TestPasswordFileReadAtEveryAuthentication(t *testing.T) {
	file := filepath.Join(t.TempDir(), "password")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first-pass\n")
	var logs bytes.Buffer
	a, err := New(context.Background(), config.SASL{Mechanism: config.SASLPlain, Username: "capi",
		Password: "first-pass", PasswordFile: file}, zerolog.New(&logs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	auth := func() string {
		_, first, err := a.Mechanism().Authenticate(context.Background(), "b:9092")
		if err != nil {
			t.Fatal(err)
		}
		return string(first)
	}
	if got := auth(); got != "\x00capi\x00first-pass" {
		t.Errorf("PLAIN message = %q", got)
	}
	write("second-pass\n")
	if got := auth(); got != "\x00capi\x00second-pass" {
		t.Errorf("after rotation PLAIN message = %q, want the new password", got)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if got := auth(); got != "\x00capi\x00second-pass" {
		t.Errorf("with the file gone PLAIN message = %q, want the last password", got)
	}
	if strings.Contains(logs.String(), "first-pass") || strings.Contains(logs.String(), "second-pass") {
		t.Errorf("a password reached the log: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "cannot read the SASL password file again") {
		t.Errorf("a failed read is not reported: %s", logs.String())
	}
	if d := a.Describe(); d != `user "capi" with PLAIN` {
		t.Errorf("Describe = %q", d)
	}
}

func TestSCRAMMechanisms(t *testing.T) {
	for _, m := range []string{config.SASLScramSHA256, config.SASLScramSHA512} {
		a, err := New(context.Background(), config.SASL{Mechanism: m, Username: "capi", Password: "pw"}, zerolog.Nop(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Mechanism().Name() != m {
			t.Errorf("mechanism %s built %s", m, a.Mechanism().Name())
		}
		_, first, err := a.Mechanism().Authenticate(context.Background(), "b:9092")
		if err != nil || !bytes.HasPrefix(first, []byte("n,,n=capi,r=")) {
			t.Errorf("%s client-first = %q, %v", m, first, err)
		}
	}
	if a, err := New(context.Background(), config.SASL{}, zerolog.Nop(), Options{}); err != nil || a.Mechanism() != nil || a.Describe() != "" {
		t.Errorf("no mechanism: %v %v %q", a.Mechanism(), err, a.Describe())
	}
	if _, err := New(context.Background(), config.SASL{Mechanism: "GSSAPI"}, zerolog.Nop(), Options{}); err == nil {
		t.Error("an unknown mechanism was accepted")
	}
}

// countingProvider hands out fixed credentials that expire after ttl, counting retrievals.
type countingProvider struct {
	calls atomic.Int32
	ttl   time.Duration
}

func (p *countingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	n := p.calls.Add(1)
	return aws.Credentials{AccessKeyID: "AKIDEXAMPLE" + string(rune('0'+n)), SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		SessionToken: "session-token", CanExpire: true, Expires: time.Now().Add(p.ttl)}, nil
}

// AWS_MSK_IAM with fixed credentials: the handshake is a SigV4-signed kafka-cluster:Connect for the broker's host
// and region, and credentials are retrieved again once they expire.
func TestAWSMSKIAMSignsWithRefreshedCredentials(t *testing.T) {
	t.Setenv("AWS_REGION", "") // New may set it from the configured region; restored after the test
	t.Setenv("AWS_DEFAULT_REGION", "")
	p := &countingProvider{ttl: time.Hour}
	load := func(_ context.Context, region string) (aws.Config, error) {
		return aws.Config{Region: region, Credentials: p}, nil
	}
	a, err := New(context.Background(), config.SASL{Mechanism: config.SASLAWSMSKIAM, AWS: config.AWSIAM{Region: "eu-west-3"}},
		zerolog.Nop(), Options{AWSLoader: load})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	host := "b-1.capi.abc123.c2.kafka.eu-west-1.amazonaws.com"
	_, first, err := a.Mechanism().Authenticate(context.Background(), host+":9098")
	if err != nil {
		t.Fatal(err)
	}
	var msg map[string]string
	if err := json.Unmarshal(first, &msg); err != nil {
		t.Fatalf("handshake is not JSON: %v", err)
	}
	for k, want := range map[string]string{
		"action": "kafka-cluster:Connect", "host": host, "version": "2020_10_22", "x-amz-algorithm": "AWS4-HMAC-SHA256",
		"x-amz-security-token": "session-token", "x-amz-signedheaders": "host", "user-agent": "capi-connector",
	} {
		if msg[k] != want {
			t.Errorf("%s = %q, want %q", k, msg[k], want)
		}
	}
	// The region comes from the MSK host name; the credential scope names the service.
	if c := msg["x-amz-credential"]; !strings.HasPrefix(c, "AKIDEXAMPLE1/") || !strings.HasSuffix(c, "/eu-west-1/kafka-cluster/aws4_request") {
		t.Errorf("x-amz-credential = %q", c)
	}
	if len(msg["x-amz-signature"]) != 64 {
		t.Errorf("x-amz-signature = %q, want 64 hex digits", msg["x-amz-signature"])
	}
	if strings.Contains(string(first), "wJalrXUtnFEMI") {
		t.Error("the secret access key is in the handshake")
	}
	if n := p.calls.Load(); n != 1 {
		t.Errorf("credentials retrieved %d times, want 1 (cached)", n)
	}

	// Credentials about to expire are retrieved again by the SDK's cache.
	p2 := &countingProvider{ttl: 10 * time.Millisecond}
	a2, err := New(context.Background(), config.SASL{Mechanism: config.SASLAWSMSKIAM}, zerolog.Nop(),
		Options{AWSLoader: func(context.Context, string) (aws.Config, error) { return aws.Config{Credentials: p2}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := a2.Mechanism().Authenticate(context.Background(), host+":9098"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	if n := p2.calls.Load(); n != 2 {
		t.Errorf("short-lived credentials retrieved %d times for 2 handshakes, want 2", n)
	}
}

// From the environment (the first link of the AWS default chain), with the region from the configuration for a
// broker address that does not name one.
func TestAWSMSKIAMDefaultChainFromEnvironment(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENVEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	a, err := New(context.Background(), config.SASL{Mechanism: config.SASLAWSMSKIAM, AWS: config.AWSIAM{Region: "ap-south-1"}},
		zerolog.Nop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, first, err := a.Mechanism().Authenticate(context.Background(), "kafka.internal.example:9098")
	if err != nil {
		t.Fatal(err)
	}
	var msg map[string]string
	if err := json.Unmarshal(first, &msg); err != nil {
		t.Fatal(err)
	}
	if c := msg["x-amz-credential"]; !strings.HasPrefix(c, "AKIDENVEXAMPLE/") || !strings.Contains(c, "/ap-south-1/") {
		t.Errorf("x-amz-credential = %q, want the environment's key and the configured region", c)
	}
	if !strings.Contains(a.Describe(), "AWS_MSK_IAM") {
		t.Errorf("Describe = %q", a.Describe())
	}
}

// A broker certificate from an unknown CA, or for other names, is explained with the broker's address and the
// x509 problem.
func TestRefusalExplainsTheX509Problem(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	for _, tc := range []struct {
		name string
		tc   *tls.Config
		want []string
	}{
		{"unknown CA", &tls.Config{MinVersion: tls.VersionTLS12},
			[]string{"broker " + addr, "x509: certificate signed by unknown authority", "kafka.tls.ca_file"}},
		{"name mismatch", &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, ServerName: "kafka.other"},
			[]string{"broker " + addr, "name mismatch", "valid for example.com", "127.0.0.1", "not kafka.other", "kafka.tls.server_name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TLSDialer(tc.tc)(context.Background(), "tcp", addr)
			var de *DialError
			if !errors.As(err, &de) || de.Broker != addr {
				t.Fatalf("dial error = %v, want a *DialError naming %s", err, addr)
			}
			hint := Refusal(err, nil)
			for _, w := range tc.want {
				if !strings.Contains(hint, w) {
					t.Errorf("Refusal = %q, want %q in it", hint, w)
				}
			}
		})
	}
	conn, err := TLSDialer(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool})(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("a trusted certificate for 127.0.0.1 was refused: %v", err)
	}
	_ = conn.Close()
	if Refusal(errors.New("connection refused"), nil) != "" {
		t.Error("a network error was taken for a refusal")
	}
}
