package incus

import (
	"fmt"
	"os"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// loadCertificate accepts inline PEM or a path to a PEM file. field names
// the parameter in errors.
func loadCertificate(field, v string) (string, error) {
	if strings.Contains(v, "-----BEGIN") {
		return v, nil
	}
	data, err := os.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("%s: neither PEM nor a readable file: %v", field, err)
	}
	return string(data), nil
}

// loadKey is loadCertificate for a private key: its errors never quote the
// value, which may be a key pasted without its PEM header.
func loadKey(field string, v cluster.Secret) (cluster.Secret, error) {
	text := v.Reveal()
	if strings.Contains(text, "-----BEGIN") {
		return v, nil
	}
	if strings.ContainsAny(text, "\n\r") || len(text) > 4096 {
		return cluster.Secret{}, fmt.Errorf("%s: not PEM (no -----BEGIN line) and not a file path", field)
	}
	data, err := os.ReadFile(text)
	if err != nil {
		return cluster.Secret{}, fmt.Errorf("%s: not PEM and not a readable file (%v)", field, cluster.Scrub(err.Error(), v))
	}
	return cluster.NewSecret(string(data)), nil
}
