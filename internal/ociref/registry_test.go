package ociref_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/ociref"
	"github.com/incus-fleet/incus-fleet/internal/ociref/registrytest"
)

// TestDigestAndEntrypoint: a tag resolves to its index digest through the
// token flow, moves when pushed again, and the ENTRYPOINT comes from the
// config blob of the member architecture's manifest.
func TestDigestAndEntrypoint(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	c := &ociref.Client{HTTP: reg.Client()}
	ctx := context.Background()

	first := reg.Push("library/app", "1", []string{"docker-entrypoint.sh"})
	got, err := c.Digest(ctx, reg.URL, "library/app", "1")
	if err != nil || got != first {
		t.Fatalf("Digest = %q, %v; want %s", got, err, first)
	}
	if !slices.Contains(reg.Requests, "HEAD /v2/library/app/manifests/1") {
		t.Errorf("requests %v", reg.Requests)
	}
	second := reg.Push("library/app", "1", []string{"/new-entry"})
	if got, _ := c.Digest(ctx, reg.URL, "library/app", "1"); got != second || second == first {
		t.Errorf("moved tag: %q, want %s (first %s)", got, second, first)
	}
	ep, err := c.Entrypoint(ctx, reg.URL, "library/app", first, "arm64")
	if err != nil || !slices.Equal(ep, []string{"docker-entrypoint.sh"}) {
		t.Errorf("Entrypoint(first) = %q, %v", ep, err)
	}
	noEP := reg.Push("org/plain", "latest", nil)
	if ep, err := c.Entrypoint(ctx, reg.URL, "org/plain", noEP, "amd64"); err != nil || ep != nil {
		t.Errorf("no ENTRYPOINT: %q, %v", ep, err)
	}
	_, err = c.Digest(ctx, reg.URL, "library/app", "nope")
	if !errors.Is(err, ociref.ErrNotFound) || !errors.Is(err, ociref.ErrRegistry) || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown tag: %v", err)
	}
	// Without Docker-Content-Digest, the digest of the manifest served.
	reg.NoDigestHeader = true
	if got, err := c.Digest(ctx, reg.URL, "library/app", "1"); got != second || err != nil {
		t.Errorf("no digest header: %q, %v; want %s", got, err, second)
	}
	reg.NoDigestHeader = false
	// A pinned reference needs no request.
	n := len(reg.Requests)
	if got, _ := c.Digest(ctx, reg.URL, "library/app", first); got != first || len(reg.Requests) != n {
		t.Errorf("digest reference asked the registry")
	}
}

func TestAPIBase(t *testing.T) {
	for in, want := range map[string]string{
		"https://docker.io":       "https://registry-1.docker.io",
		"https://index.docker.io": "https://registry-1.docker.io",
		"https://ghcr.io":         "https://ghcr.io",
		"https://mirror.example/": "https://mirror.example",
	} {
		if got := ociref.APIBase(in); got != want {
			t.Errorf("APIBase(%s) = %s", in, got)
		}
	}
}
