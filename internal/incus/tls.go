package incus

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// tlsSetup is what an HTTPS connection to Incus is made of.
type tlsSetup struct {
	address     string // host:port, for messages
	clientCert  string // PEM; empty for none
	clientKey   cluster.Secret
	serverCert  string // PEM of the pinned server certificate; empty = system roots
	fingerprint string // the pin as given, when pinned by fingerprint
	want        string // the pin in force (lower-case hex), set by config
}

// config builds the TLS configuration. A pinned server is trusted
// exclusively: the root pool holds only its certificate (never the
// system's), and VerifyPeerCertificate compares the leaf's sha256 with the
// pin, so a certificate any authority issued for that host name is refused.
// Verification itself is never switched off.
func (s *tlsSetup) config() (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.clientCert != "" {
		pair, err := tls.X509KeyPair([]byte(s.clientCert), []byte(s.clientKey.Reveal()))
		if err != nil {
			// The TLS package never quotes key material; scrub anyway.
			return nil, scrub(fmt.Errorf("connection.client_cert / client_key are not a matching PEM certificate and private key (%v): %w",
				err, ErrUnreachable), s.clientKey)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	if s.serverCert == "" {
		return conf, nil
	}
	block, _ := pem.Decode([]byte(s.serverCert))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("the pinned server certificate has no PEM CERTIFICATE block: %w", ErrUnreachable)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the pinned server certificate does not parse: %v: %w", err, ErrUnreachable)
	}
	want := strings.ToLower(strings.ReplaceAll(s.fingerprint, ":", ""))
	if want == "" {
		want = cluster.Fingerprint(cert.Raw)
	}
	wantRaw, err := hex.DecodeString(want)
	if err != nil || len(wantRaw) != sha256.Size {
		return nil, fmt.Errorf("server fingerprint must be 64 hex digits: %w", ErrUnreachable)
	}
	s.want = want
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	conf.RootCAs = pool
	// Incus certificates are self-signed for the machine's host name; the
	// chain check must run against a name the pinned certificate holds.
	switch {
	case len(cert.DNSNames) > 0:
		conf.ServerName = cert.DNSNames[0]
	case len(cert.IPAddresses) > 0:
		conf.ServerName = cert.IPAddresses[0].String()
	}
	addr := s.address
	conf.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		if len(rawCerts) == 0 {
			return fmt.Errorf("%s presented no certificate: %w", addr, ErrUnreachable)
		}
		got := sha256.Sum256(rawCerts[0])
		if subtle.ConstantTimeCompare(got[:], wantRaw) != 1 {
			return &PinMismatchError{Address: addr, Want: want, Got: hex.EncodeToString(got[:])}
		}
		return nil
	}
	return conf, nil
}
