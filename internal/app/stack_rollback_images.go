package app

import (
	"context"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// rollbackImages checks, before a rollback touches its first slot, that
// every image of the rollback target can be had: present in the cluster,
// or still served under the service's recorded image reference (a remote
// alias) with the same fingerprint, in which case the create fetches it
// from there. A cached remote image may have expired since the spec ran;
// deleting slots that cannot be re-created would turn a bad update into an
// outage, so a missing image fails the rollback with not_found and nothing
// is changed.
func rollbackImages(ctx context.Context, c *incus.Client, stack *model.Stack, images map[string]incus.Image) (map[string]incus.Image, error) {
	out := make(map[string]incus.Image, len(images))
	for _, svc := range stack.Services {
		img, ok := images[svc.Name]
		if !ok || img.Fingerprint == "" {
			return nil, fmt.Errorf("the rollback target of stack %s records no image for service %s; nothing was changed: %w", stack.Name, svc.Name, incus.ErrNotFound)
		}
		present, err := c.ImagePresent(ctx, stack.Name, img.Fingerprint)
		if err != nil {
			return nil, err
		}
		if present {
			out[svc.Name] = img
			continue
		}
		now, err := c.ResolveImage(svc.Image)
		if err == nil && now.Fingerprint == img.Fingerprint {
			out[svc.Name] = now // fetched from its source on create
			continue
		}
		source := fmt.Sprintf("its recorded source %q no longer has it", svc.Image)
		if err == nil {
			source = fmt.Sprintf("its recorded source %q now serves %s", svc.Image, short(now.Fingerprint))
		}
		return nil, fmt.Errorf("cannot roll stack %s back: service %s needs image %s, which is not in the cluster, and %s; "+
			"nothing was changed. Import that image (incus image import …, or incus image copy REMOTE:%s local:) and roll back again: %w",
			stack.Name, svc.Name, img.Fingerprint, source, short(img.Fingerprint), incus.ErrNotFound)
	}
	return out, nil
}

func short(fingerprint string) string {
	if len(fingerprint) > 12 {
		return fingerprint[:12]
	}
	return fingerprint
}
