package incus

import (
	"context"
	"fmt"
	"net/url"
)

// featureVolumes is the project feature that keeps a stack's custom
// volumes in its own project, so ownership is by project.
const featureVolumes = "features.storage.volumes"

type projectConfig struct {
	Config map[string]string `json:"config"`
}

// EnsureVolumeFeature turns features.storage.volumes on for a stack project
// created before volumes were supported. Incus allows that only while the
// project is empty; a project still holding instances is refused clearly
// rather than half-migrated.
func (c *Client) EnsureVolumeFeature(ctx context.Context, stack string) error {
	path := "/projects/" + url.PathEscape(stack)
	var p projectConfig
	if _, err := c.call(ctx, "GET", path, Scope{}, nil, &p); err != nil {
		return classify(err, "read project %s", stack)
	}
	if p.Config[featureVolumes] == "true" {
		return nil
	}
	patch := projectConfig{Config: map[string]string{featureVolumes: "true"}}
	if _, err := c.call(ctx, "PATCH", path, Scope{}, patch, nil); err != nil {
		return fmt.Errorf("the project of stack %s predates named volumes (%s=false) and Incus refuses to switch it on while the project holds instances (%v); "+
			"remove the stack (stack rm %s) and deploy it again to use volumes: %w", stack, featureVolumes, err, stack, ErrConflict)
	}
	return nil
}
