package cluster

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// JoinToken is a decoded Incus cluster join token (`incus cluster add`):
// base64 of a JSON object naming the member it admits, the fingerprint of
// the cluster certificate, the addresses of online members and a one-time
// secret. Raw and Secret are the only parts that grant anything.
type JoinToken struct {
	ServerName  string
	Fingerprint string
	Addresses   []string
	ExpiresAt   time.Time
	Raw         Secret // the token as issued, sent to Incus as is
	Secret      Secret // the join secret inside it
}

// ErrBadToken says a token could not be decoded. Its message never
// contains any part of the token.
var ErrBadToken = errors.New("not an Incus cluster join token (expected the base64 text printed by `incus cluster add NAME`)")

// DecodeJoinToken decodes a join token without ever quoting it.
func DecodeJoinToken(raw Secret) (JoinToken, error) {
	text := strings.TrimSpace(raw.Reveal())
	data, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return JoinToken{}, ErrBadToken
	}
	var t struct {
		ServerName  string    `json:"server_name"`
		Fingerprint string    `json:"fingerprint"`
		Addresses   []string  `json:"addresses"`
		Secret      string    `json:"secret"`
		ExpiresAt   time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return JoinToken{}, ErrBadToken
	}
	if t.ServerName == "" || t.Secret == "" || len(t.Addresses) == 0 {
		return JoinToken{}, ErrBadToken
	}
	fp, err := NormalizeFingerprint(t.Fingerprint)
	if err != nil {
		return JoinToken{}, fmt.Errorf("%w: its certificate fingerprint is malformed", ErrBadToken)
	}
	return JoinToken{ServerName: t.ServerName, Fingerprint: fp, Addresses: t.Addresses, ExpiresAt: t.ExpiresAt,
		Raw: NewSecret(text), Secret: NewSecret(t.Secret)}, nil
}

// Expired reports whether the token's expiry (if it has one) has passed.
func (t JoinToken) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && now.After(t.ExpiresAt)
}
