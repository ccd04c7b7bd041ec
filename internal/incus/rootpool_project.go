package incus

import (
	"context"
	"net/url"
)

// profileDevices is the part of GET /1.0/profiles/NAME the root pool reads.
type profileDevices struct {
	Devices map[string]map[string]string `json:"devices"`
}

// RootPoolIn reads the root disk pool of the profile a stack's instances
// are created with, as the stack's own project resolves it: the default
// project's profile when the project shares profiles (the usual case), its
// own when the project was made with features.profiles=true. exists is
// false when the project does not exist yet (the default project's answer,
// ClusterState.RootPool, then holds).
func (c *Client) RootPoolIn(ctx context.Context, stack string) (pool string, exists bool, err error) {
	var p profileDevices
	if _, err := c.call(ctx, "GET", "/profiles/"+url.PathEscape(instanceProfile), Scope{Project: stack}, nil, &p); err != nil {
		if isNotFound(err) {
			return "", false, nil
		}
		return "", false, err
	}
	return rootDiskPoolOf(p.Devices), true, nil
}
