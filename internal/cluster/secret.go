package cluster

import "strings"

// Redacted replaces a secret wherever one would otherwise be printed.
const Redacted = "[redacted]"

// Secret holds a join token, private key or password. Its value is only
// reachable through Reveal, so fmt, logs and JSON print Redacted instead:
// a secret cannot leak by being formatted by accident.
type Secret struct{ v string }

// NewSecret wraps a secret value.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the value, for the one call that must send it.
func (s Secret) Reveal() string { return s.v }

// Empty reports whether no secret is held.
func (s Secret) Empty() bool { return s.v == "" }

func (s Secret) String() string               { return Redacted }
func (s Secret) GoString() string             { return Redacted }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// Scrub removes every secret from a text that came from elsewhere (an Incus
// error message may quote what it was sent). Secrets shorter than 8
// characters are not searched for: they would match ordinary words and
// cannot be told apart from them anyway.
func Scrub(text string, secrets ...Secret) string {
	for _, s := range secrets {
		if len(s.v) >= 8 {
			text = strings.ReplaceAll(text, s.v, Redacted)
		}
	}
	return text
}
