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
// exact certificate as the only trusted one (ConnectionArgs.TLSServerCert).
//
// This is the one place in incus-fleet that turns off Go's chain
// verification, and it must stay the only one. Incus servers present
// self-signed certificates that no CA vouches for, and crypto/tls offers no
// way to skip chain building other than InsecureSkipVerify. The pin replaces
// it: VerifyPeerCertificate still runs with InsecureSkipVerify set, and the
// handshake fails unless the presented certificate hashes to the pin, while
// TLS itself proves the server holds that certificate's private key. The
// comparison is constant-time so timing says nothing about the pin.
func FetchPinnedCertificate(ctx context.Context, address, fingerprint string) (string, error) {
	want, err := hex.DecodeString(fingerprint)
	if err != nil || len(want) != sha256.Size {
		return "", fmt.Errorf("server fingerprint must be 64 hex digits")
	}
	var presented string // the presented certificate's fingerprint, for errors
	var verified []byte  // the certificate that matched the pin
	mismatch := errors.New("certificate fingerprint does not match the pin")
	conf := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by the pin below; see the doc comment
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return mismatch
			}
			got := sha256.Sum256(raw[0])
			presented = hex.EncodeToString(got[:])
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return mismatch
			}
			verified = raw[0]
			return nil
		},
	}
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: pinDialTimeout}, Config: conf}
	conn, err := dialer.DialContext(ctx, "tcp", address)
	switch {
	case errors.Is(err, mismatch):
		return "", &PinMismatchError{Address: address, Want: fingerprint, Got: presented}
	case err != nil:
		return "", fmt.Errorf("cannot reach %s (%v): is that member up, and are its address and port right?: %w", address, err, ErrUnreachable)
	}
	conn.Close()
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: verified})), nil
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
