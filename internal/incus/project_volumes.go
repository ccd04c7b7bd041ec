package incus

import (
	"context"
	"fmt"
	"net/url"
)

// featureVolumes is the project feature that keeps a stack's custom
// volumes in its own project, so ownership is by project.
const featureVolumes = "features.storage.volumes"

// projectPut is the writable part of a project.
type projectPut struct {
	Description string            `json:"description"`
	Config      map[string]string `json:"config"`
}

// EnsureVolumeFeature turns features.storage.volumes on for a stack project
// created before volumes were supported. Incus allows that only while the
// project is empty; a project still holding instances is refused clearly
// rather than half-migrated.
func (c *Client) EnsureVolumeFeature(ctx context.Context, stack string) error {
	path := "/projects/" + url.PathEscape(stack)
	var p projectPut
	if _, err := c.call(ctx, "GET", path, Scope{}, nil, &p); err != nil {
		return classify(err, "read project %s", stack)
	}
	if p.Config[featureVolumes] == "true" {
		return nil
	}
	// The whole config goes back (PUT): Incus 6.0.4 answers a PATCH of
	// one feature by trying to change features.profiles too. The stack's
	// lock is held, so nothing else writes the project meanwhile.
	p.Config[featureVolumes] = "true"
	if _, err := c.call(ctx, "PUT", path, Scope{}, p, nil); err != nil {
		return fmt.Errorf("the project of stack %s predates named volumes (%s=false) and Incus refuses to switch it on while the project holds instances (%v); "+
			"remove the stack (stack rm %s) and deploy it again to use volumes: %w", stack, featureVolumes, err, stack, ErrConflict)
	}
	return nil
}
