package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// ClientCertValidity is how long a generated fleet client certificate is
// valid. Incus checks client certificates by fingerprint, so a long life
// only saves a rotation; rotate by generating a new pair and trusting it.
const ClientCertValidity = 10 * 365 * 24 * time.Hour

// ClientCertPair is a generated fleet client certificate: the certificate
// PEM (public), its private key (secret) and its sha256 fingerprint.
type ClientCertPair struct {
	CertPEM     string
	Key         Secret
	Fingerprint string
}

// GenerateClientCert creates the fleet client certificate: ECDSA P-384
// (what Incus itself generates), usable for TLS client authentication.
func GenerateClientCert(commonName string, now time.Time) (ClientCertPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return ClientCertPair{}, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return ClientCertPair{}, fmt.Errorf("generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"incus-fleet"}},
		NotBefore:             now.Add(-time.Hour), // tolerate clock skew between hosts
		NotAfter:              now.Add(ClientCertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return ClientCertPair{}, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return ClientCertPair{}, fmt.Errorf("encode key: %w", err)
	}
	return ClientCertPair{
		CertPEM:     string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		Key:         NewSecret(string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))),
		Fingerprint: Fingerprint(der),
	}, nil
}
