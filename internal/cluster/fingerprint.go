package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// NormalizeFingerprint accepts a sha256 certificate fingerprint as Incus
// prints it (lower-case hex) or as openssl does (upper-case, colons) and
// returns the lower-case hex form used for comparison.
func NormalizeFingerprint(fp string) (string, error) {
	clean := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(fp), ":", ""))
	if len(clean) != sha256.Size*2 {
		return "", fmt.Errorf("a sha256 fingerprint has 64 hex digits, got %d", len(clean))
	}
	if _, err := hex.DecodeString(clean); err != nil {
		return "", fmt.Errorf("a sha256 fingerprint has only hex digits (0-9, a-f)")
	}
	return clean, nil
}

// Fingerprint is the sha256 fingerprint of a DER certificate, as Incus
// computes it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// Short is the first 12 digits of a fingerprint, as Incus lists them.
func Short(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}
