package incus

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

func TestScrubKeepsKindDropsSecret(t *testing.T) {
	secret := cluster.NewSecret("eyJzZXJ2ZXJfbmFtZSI6Im00In0=")
	orig := fmt.Errorf("join: token %s rejected: %w", secret.Reveal(), ErrConflict)
	err := scrub(orig, secret)
	if strings.Contains(err.Error(), secret.Reveal()) || !strings.Contains(err.Error(), cluster.Redacted) {
		t.Fatalf("not scrubbed: %v", err)
	}
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("kind lost: %v", err)
	}
	// The original is unreachable through the scrubbed error.
	if errors.Unwrap(err) != ErrConflict {
		t.Fatalf("unwraps to %v", errors.Unwrap(err))
	}
}

func TestLoadKeyNeverQuotesTheKey(t *testing.T) {
	key := cluster.NewSecret("MIGkAgEBBDBsecretkeymaterialwithoutpemheader")
	_, err := loadKey("trust.client_key", key)
	if err == nil || strings.Contains(err.Error(), key.Reveal()) {
		t.Fatalf("error %v", err)
	}
}
