package incus

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/ociref"
)

// ociRegistry is the client's registry access: the HTTP client (nil: the
// default) and the image configs (ENTRYPOINT, HEALTHCHECK) read so far, by server and pinned alias (a
// digest never changes what it names).
type ociRegistry struct {
	reg     *ociref.Client
	mu      sync.Mutex
	configs map[string]ociref.ImageConfig
}

func (o *ociRegistry) client() *ociref.Client {
	if o.reg == nil {
		return &ociref.Client{}
	}
	return o.reg
}

// UseRegistryClient makes the client speak to registries through reg (tests
// give one that trusts their registry on 127.0.0.1).
func (c *Client) UseRegistryClient(reg *ociref.Client) { c.oci.reg = reg }

// needsImageEntrypoint: Compose runs a command given without entrypoint
// after the image's ENTRYPOINT, so that ENTRYPOINT must be known.
func needsImageEntrypoint(svc *model.Service, img Image) bool {
	return img.oci != nil && len(svc.Entrypoint) == 0 && len(svc.Command) > 0
}

// WithImageEntrypoint reads the image's config from the registry (the
// manifest of the pinned digest for the cluster's architecture, then its
// config blob) when the service needs it: its command runs after the
// image's ENTRYPOINT, or it runs the image's HEALTHCHECK
// (image_oci_health.go). Other images come back unchanged.
func (c *Client) WithImageEntrypoint(ctx context.Context, svc *model.Service, img Image) (Image, error) {
	if img.oci == nil || img.oci.read || !(needsImageEntrypoint(svc, img) || inheritsHealthcheck(svc)) {
		return img, nil
	}
	src := *img.oci
	repo, digest, ok := strings.Cut(src.Alias, "@")
	if !ok {
		return img, fmt.Errorf("service %q: the OCI image %s is not pinned by digest", svc.Name, img.Ref)
	}
	key := src.Server + "/" + src.Alias
	c.oci.mu.Lock()
	cfg, known := c.oci.configs[key]
	c.oci.mu.Unlock()
	if !known {
		var err error
		cfg, err = c.oci.client().Config(ctx, ociref.APIBase(src.Server), repo, digest, ociArch(c.arch))
		if err != nil {
			why := "command without entrypoint runs after the image's ENTRYPOINT"
			if !needsImageEntrypoint(svc, img) {
				why = "a service without healthcheck.test runs the image's HEALTHCHECK"
			}
			return img, fmt.Errorf("service %q: %s, which could not be read: %w", svc.Name, why, registryError(img.Ref, src.Server, err))
		}
		c.oci.mu.Lock()
		if c.oci.configs == nil {
			c.oci.configs = map[string]ociref.ImageConfig{}
		}
		c.oci.configs[key] = cfg
		c.oci.mu.Unlock()
	}
	src.entrypoint, src.healthcheck, src.read = cfg.Entrypoint, cfg.Healthcheck, true
	img.oci = &src
	return img, nil
}

// ociArch names an Incus architecture the way OCI platforms do.
func ociArch(incusArch string) string {
	switch incusArch {
	case "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	case "armv7l":
		return "arm"
	case "i686":
		return "386"
	}
	return incusArch
}
