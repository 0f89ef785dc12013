// Command pki writes a throwaway certificate authority and a broker certificate for the secured real-broker suite
// (test/kafka/start.sh with CAPI_KAFKA_SECURED=1):
//
//	pki -dir DIR
//
// DIR/ca.pem          the CA certificate clients trust (kafka.tls.ca_file)
// DIR/broker.pem      the broker's PKCS#8 private key followed by its certificate (Kafka ssl.keystore.type=PEM),
//
//	valid for localhost and 127.0.0.1, signed by the CA
//
// DIR/other-ca.pem    an unrelated CA, for "untrusted CA" tests
//
// Keys are ECDSA P-256, certificates valid for 7 days; nothing is reused between runs.
package main

import (
	"crypto/x509"
	"flag"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/capi-connector/capi-connector/test/testca"
)

func main() {
	dir := flag.String("dir", "", "output directory")
	flag.Parse()
	if *dir == "" {
		log.Fatal("pki: -dir is required")
	}
	if err := run(*dir); err != nil {
		log.Fatalf("pki: %v", err)
	}
}

const validity = 7 * 24 * time.Hour

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := testca.New("capi-connector test CA", validity)
	if err != nil {
		return err
	}
	other, err := testca.New("unrelated test CA", validity)
	if err != nil {
		return err
	}
	broker, err := ca.Issue("localhost", x509.ExtKeyUsageServerAuth, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	key, err := broker.KeyPEM(true) // Kafka's PEM keystore reads PKCS#8 keys only
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"ca.pem":       ca.PEM(),
		"other-ca.pem": other.PEM(),
		"broker.pem":   append(append(key, broker.CertPEM()...), ca.PEM()...),
	} {
		if err := testca.WriteFile(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	return nil
}
