package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

func TestGenerateClientCert(t *testing.T) {
	pair, err := GenerateClientCert("incus-fleet", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair([]byte(pair.CertPEM), []byte(pair.Key.Reveal())); err != nil {
		t.Fatalf("not a usable key pair: %v", err)
	}
	block, _ := pem.Decode([]byte(pair.CertPEM))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(cert.Raw) != pair.Fingerprint || len(pair.Fingerprint) != 64 {
		t.Fatalf("fingerprint %s", pair.Fingerprint)
	}
	if cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Fatalf("usage %v", cert.ExtKeyUsage)
	}
}
