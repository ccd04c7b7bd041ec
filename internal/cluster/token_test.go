package cluster

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func encodeToken(t *testing.T, v map[string]any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(data)
}

func TestDecodeJoinToken(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	raw := encodeToken(t, map[string]any{"server_name": "m3", "fingerprint": fp, "addresses": []string{"127.0.0.1:9601"},
		"secret": "s3cr3t-s3cr3t", "expires_at": "2030-01-01T00:00:00Z"})
	tok, err := DecodeJoinToken(NewSecret(raw + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.ServerName != "m3" || tok.Fingerprint != fp || tok.Addresses[0] != "127.0.0.1:9601" || tok.Secret.Reveal() != "s3cr3t-s3cr3t" {
		t.Fatalf("decoded %+v", tok)
	}
	if tok.Expired(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)) || !tok.Expired(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("expiry")
	}
	// Formatting the token never shows a secret.
	for _, s := range []string{fmt.Sprintf("%v", tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok)} {
		if strings.Contains(s, "s3cr3t") || strings.Contains(s, raw) {
			t.Fatalf("secret printed: %s", s)
		}
	}
	if data, _ := json.Marshal(tok); strings.Contains(string(data), "s3cr3t") || strings.Contains(string(data), raw) {
		t.Fatalf("secret in JSON: %s", data)
	}
}

func TestDecodeJoinTokenRejectsWithoutQuoting(t *testing.T) {
	for _, in := range []string{"hunter2-hunter2", base64.StdEncoding.EncodeToString([]byte(`{"secret":"hunter2-hunter2"}`)),
		encodeToken(t, map[string]any{"server_name": "x", "secret": "hunter2-hunter2", "addresses": []string{"a:1"}, "fingerprint": "zz"})} {
		_, err := DecodeJoinToken(NewSecret(in))
		if !errors.Is(err, ErrBadToken) {
			t.Fatalf("%q: err %v", in, err)
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), in) {
			t.Fatalf("error quotes the token: %v", err)
		}
	}
}

func TestNormalizeFingerprint(t *testing.T) {
	lower := strings.Repeat("0a", 32)
	colons := strings.ToUpper(strings.TrimSuffix(strings.Repeat("0a:", 32), ":"))
	for _, in := range []string{lower, colons, " " + lower + " "} {
		got, err := NormalizeFingerprint(in)
		if err != nil || got != lower {
			t.Fatalf("%q: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"abc", strings.Repeat("zz", 32)} {
		if _, err := NormalizeFingerprint(in); err == nil {
			t.Fatalf("%q accepted", in)
		}
	}
}

func TestScrub(t *testing.T) {
	s := NewSecret("very-secret-token")
	got := Scrub("join failed: token very-secret-token rejected", s, NewSecret("abc"))
	if got != "join failed: token [redacted] rejected" {
		t.Fatal(got)
	}
}
