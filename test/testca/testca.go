// Package testca is a throwaway certificate authority for tests and test tools (test/pki): ECDSA P-256 keys,
// certificates valid from an hour ago for a given time, PEM encoding. It imports nothing of this module, so any
// package's tests can use it. Never for production keys.
package testca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"time"
)

// CA is a self-signed certificate authority.
type CA struct {
	Cert     *x509.Certificate
	Key      *ecdsa.PrivateKey
	validity time.Duration
}

// New makes a CA named name whose certificates (its own included) are valid for validity.
func New(name string, validity time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl, err := template(name, validity)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, validity: validity}, nil
}

// PEM is the CA certificate in PEM, what clients trust.
func (ca *CA) PEM() []byte { return CertPEM(ca.Cert.Raw) }

// Pool is a certificate pool trusting the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Leaf is a certificate the CA issued and its key.
type Leaf struct {
	DER []byte
	Key *ecdsa.PrivateKey
}

// Issue signs a certificate for cn with the extended key usage (server or client authentication), valid for the
// DNS names and IP addresses given.
func (ca *CA) Issue(cn string, usage x509.ExtKeyUsage, dns []string, ips []net.IP) (Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Leaf{}, err
	}
	tmpl, err := template(cn, ca.validity)
	if err != nil {
		return Leaf{}, err
	}
	tmpl.KeyUsage, tmpl.ExtKeyUsage = x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{usage}
	tmpl.DNSNames, tmpl.IPAddresses = dns, ips
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return Leaf{}, err
	}
	return Leaf{DER: der, Key: key}, nil
}

// CertPEM is the certificate in PEM.
func (l Leaf) CertPEM() []byte { return CertPEM(l.DER) }

// KeyPEM is the private key in PEM: PKCS#8 ("PRIVATE KEY") when pkcs8, else SEC 1 ("EC PRIVATE KEY").
func (l Leaf) KeyPEM(pkcs8 bool) ([]byte, error) {
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(l.Key)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	der, err := x509.MarshalECPrivateKey(l.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// CertPEM encodes a DER certificate in PEM.
func CertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// WriteFile writes PEM data readable by its owner only.
func WriteFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

func template(cn string, validity time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
	}, nil
}
