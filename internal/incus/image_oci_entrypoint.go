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
// default) and the ENTRYPOINTs read so far, by server and pinned alias (a
// digest never changes what it names).
type ociRegistry struct {
	reg         *ociref.Client
	mu          sync.Mutex
	entrypoints map[string][]string
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

// WithImageEntrypoint reads the image's ENTRYPOINT from the registry (the
// manifest of the pinned digest for the cluster's architecture, then its
// config blob) when the service's command needs it; other images come back
// unchanged.
func (c *Client) WithImageEntrypoint(ctx context.Context, svc *model.Service, img Image) (Image, error) {
	if !needsImageEntrypoint(svc, img) || img.oci.read {
		return img, nil
	}
	src := *img.oci
	repo, digest, ok := strings.Cut(src.Alias, "@")
	if !ok {
		return img, fmt.Errorf("service %q: the OCI image %s is not pinned by digest", svc.Name, img.Ref)
	}
	key := src.Server + "/" + src.Alias
	c.oci.mu.Lock()
	ep, known := c.oci.entrypoints[key]
	c.oci.mu.Unlock()
	if !known {
		var err error
		ep, err = c.oci.client().Entrypoint(ctx, ociref.APIBase(src.Server), repo, digest, ociArch(c.arch))
		if err != nil {
			return img, fmt.Errorf("service %q: command without entrypoint runs after the image's ENTRYPOINT, which could not be read: %w", svc.Name, registryError(img.Ref, src.Server, err))
		}
		c.oci.mu.Lock()
		if c.oci.entrypoints == nil {
			c.oci.entrypoints = map[string][]string{}
		}
		c.oci.entrypoints[key] = ep
		c.oci.mu.Unlock()
	}
	src.entrypoint, src.read = ep, true
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
