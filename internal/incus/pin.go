package incus

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"time"
)

// pinDialTimeout bounds the TCP connect of a pinned fetch; an unreachable
// address should fail in seconds, not after the kernel's minutes.
const pinDialTimeout = 10 * time.Second

// FetchPinnedCertificate connects to address (host:port) and returns the
// server's certificate as PEM, but only if its sha256 fingerprint is
// fingerprint (lower-case hex). Callers then connect for real with that
// exact certificate as the only trusted one (ConnectionArgs.TLSServerCert),
// and that connection is where TLS proves the server holds its key.
//
// Verification is never switched off: the handshake runs against an empty
// root pool, so Go rejects the self-signed Incus certificate and reports
// it in a tls.CertificateVerificationError. The certificate it carries is
// only compared with the pin (in constant time); nothing is sent to the
// server on this connection.
func FetchPinnedCertificate(ctx context.Context, address, fingerprint string) (string, error) {
	want, err := hex.DecodeString(fingerprint)
	if err != nil || len(want) != sha256.Size {
		return "", fmt.Errorf("server fingerprint must be 64 hex digits")
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: x509.NewCertPool()}
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: pinDialTimeout}, Config: conf}
	conn, err := dialer.DialContext(ctx, "tcp", address)
	if err == nil {
		// Nothing chains to an empty pool; a server that got through is not
		// one we can reason about.
		conn.Close()
		return "", fmt.Errorf("%s completed a TLS handshake no Incus server could: refusing it: %w", address, ErrUnreachable)
	}
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) || len(cve.UnverifiedCertificates) == 0 {
		return "", fmt.Errorf("cannot reach %s (%v): is that member up, and are its address and port right?: %w", address, err, ErrUnreachable)
	}
	leaf := cve.UnverifiedCertificates[0].Raw
	got := sha256.Sum256(leaf)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return "", &PinMismatchError{Address: address, Want: fingerprint, Got: hex.EncodeToString(got[:])}
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf})), nil
}

// PinMismatchError says a server presented another certificate than the
// pinned one: a wrong pin, a replaced cluster certificate, or someone in
// between. It counts as unreachable: nothing was sent to that server.
type PinMismatchError struct{ Address, Want, Got string }

func (e *PinMismatchError) Error() string {
	return fmt.Sprintf("%s presented a TLS certificate with sha256 fingerprint %s, but the pinned fingerprint is %s: "+
		"refusing to talk to it (a wrong pin, a replaced cluster certificate, or someone in between). Compare the pin with the "+
		"cluster_fingerprint reported when the cluster was bootstrapped, or with `incus info` (certificate_fingerprint) on an "+
		"existing member", e.Address, e.Got, e.Want)
}

func (e *PinMismatchError) Unwrap() error { return ErrUnreachable }
